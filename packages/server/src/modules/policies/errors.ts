import { defineErrors } from '../../platform/errors.ts';

export const policyErrors = defineErrors({
  POLICIES_COMPILE_FAILED: {
    category: 'invalid',
    message: 'The policy does not compile',
    solve:
      'Read `details.errors`: each names the file, line and column and the Rego error. Fix the module and apply again (`custody policy test DIR` runs the same checks offline).',
  },
  POLICIES_TESTS_FAILED: {
    category: 'invalid',
    message: "The policy's tests fail",
    solve:
      'Read `details.failures` (test, file, line, column, why). A policy is only accepted when every `test_` rule of its tests passes.',
  },
  POLICIES_FILE_UNRESOLVED: {
    category: 'invalid',
    message: 'A policy module names a file the server cannot read',
    solve:
      'Apply the policy with `custody apply -f policy.yaml`, which reads `file:` entries next to the YAML and sends their contents; or write the Rego inline under `source:`.',
  },
  POLICIES_PACKAGE_MISMATCH: {
    category: 'invalid',
    message: "A policy module's package does not match its decision point",
    solve:
      'Each module (not its tests) declares `package custody.<decisionPoint>`, e.g. `package custody.deploy` for `decisionPoint: deploy`.',
  },
  POLICIES_BUILTIN_FORBIDDEN: {
    category: 'invalid',
    message: 'The policy calls a builtin Custody policies may not use',
    solve:
      'Remove the call named in `details` (http.send, net.lookup_ip_addr, test.sleep, rand.intn, uuid.rfc4122, opa.runtime): a decision may not reach the network or the host, block the server, or depend on chance, so that it can be replayed. Put the data the policy needs in its input instead.',
  },
  POLICIES_DENIED: {
    category: 'forbidden',
    message: 'A policy denied the action',
    solve:
      'Read `details.deny`: each names the policy, its version and its message. Change what you submit so the policies pass, or have the policy changed (a prod-bound policy change needs a second person).',
  },
  POLICIES_EVALUATION_FAILED: {
    category: 'forbidden',
    message: 'A policy could not be evaluated; the action is refused (fail closed)',
    solve:
      'Read `details.errors` (policy, version, Rego error or time limit). Fix the policy so it evaluates without errors within its `timeout`.',
  },
  POLICIES_MISSING: {
    category: 'forbidden',
    message: 'A bound policy does not exist; the action is refused (fail closed)',
    solve:
      'Apply the Policy named in `details.missing`, or remove it from `Environment.spec.policies` / `Project.spec.policies`.',
  },
  POLICIES_NOT_FOUND: {
    category: 'not_found',
    message: 'No such policy',
    solve: 'Check the name and project (`custody get Policy`).',
  },
  POLICIES_DECISION_NOT_FOUND: {
    category: 'not_found',
    message: 'No such policy decision',
    solve: 'List decisions with `custody policy decisions` and use an id from there.',
  },
  POLICIES_INPUT_MISSING: {
    category: 'conflict',
    message: "The decision's recorded input is not in the evidence store",
    solve:
      'The input was removed (retention) or the store is damaged: compare its hash with `details.inputHash`; replay is impossible without it.',
  },
  POLICIES_CANDIDATE_INVALID: {
    category: 'invalid',
    message: 'The candidate policy for an impact analysis is not a valid Policy document',
    solve: 'Give one `kind: Policy` document (files resolved by the CLI), as for `custody apply`.',
  },
});
