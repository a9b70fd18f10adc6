import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ProjectService } from '../projects/index.ts';
import type { DecisionLog } from './decision-log.ts';
import { policyErrors as E } from './errors.ts';
import { boundPolicies } from './policy-bindings.ts';
import { PolicyCache } from './policy-compiler.ts';
import { verifyStored, type AppliedInLedger } from './policy-integrity.ts';
import {
  evaluateAll,
  type DecisionRequest,
  type PolicyEvaluation,
  type PolicyMessage,
} from './policy-evaluation.ts';
import type { KyselyPolicyStore } from './policy-store.ts';

export interface PolicyVerdict {
  // Some policy was bound (and so a decision exists).
  readonly evaluated: boolean;
  readonly allowed: boolean;
  readonly result: PolicyEvaluation['result'];
  readonly deny: PolicyMessage[];
  readonly warn: PolicyMessage[];
  readonly errors: PolicyMessage[];
  readonly missing: string[];
  readonly decision: string | null;
  readonly recorded: boolean;
}

const nothingBound: PolicyVerdict = {
  evaluated: false,
  allowed: true,
  result: 'allowed',
  deny: [],
  warn: [],
  errors: [],
  missing: [],
  decision: null,
  recorded: false,
};

type Actor = RequestContext['actor'];

// Evaluates the policies bound to a decision and records the decision (decision-log.ts).
export class PolicyEngine {
  readonly cache = new PolicyCache();

  constructor(
    private readonly deps: {
      store: KyselyPolicyStore;
      projects: ProjectService;
      log: DecisionLog;
      applied?: AppliedInLedger | undefined;
    },
  ) {}

  // Content hashes checked (document and ledger) in this process, or put in force by it: the
  // apply's ledger entry is written with its transaction, after a pipeline in the same
  // manifest was already judged.
  private readonly verified = new Set<string>();

  trust(contentHash: string): void {
    this.verified.add(contentHash);
  }

  async evaluate(tx: AnyTx, req: DecisionRequest): Promise<PolicyEvaluation | undefined> {
    const bound = await boundPolicies(tx, this.deps, req.point, req.project, req.environments);
    if (bound.policies.length === 0 && bound.missing.length === 0) return undefined;
    // Inputs that cost something to gather (the gate's) come as a function: built only when
    // some policy is bound.
    const input =
      typeof req.input === 'function' ? await (req.input as () => Promise<unknown>)() : req.input;
    const rows = [];
    const failed: PolicyMessage[] = [];
    for (const row of bound.policies) {
      const problem = this.verified.has(row.content_hash)
        ? undefined
        : await verifyStored(tx, row, this.deps.applied);
      if (problem)
        failed.push({
          policy: row.project ? `${row.project}/${row.name}` : row.name,
          version: row.version,
          message: `the stored policy ${problem}`,
        });
      else {
        this.verified.add(row.content_hash);
        rows.push(row);
      }
    }
    return evaluateAll(this.cache, rows, bound.missing, { ...req, input }, undefined, failed);
  }

  // For checks that report rather than refuse (the deployment gate): evaluate and record.
  async decide(
    tx: AnyTx,
    record: RecordAudit,
    actor: Actor,
    req: DecisionRequest,
  ): Promise<PolicyVerdict> {
    const ev = await this.evaluate(tx, req);
    if (!ev) return nothingBound;
    return verdictOf(ev, await this.deps.log.write(tx, record, actor, ev));
  }

  // For use cases a denial refuses (pipeline apply, run creation, approving): records an
  // allowed decision in the caller's transaction; a denial throws, and its decision is
  // recorded after the rollback (the refusal is evidence too).
  async enforce(
    tx: AnyTx,
    record: RecordAudit,
    actor: Actor,
    req: DecisionRequest,
  ): Promise<PolicyVerdict> {
    const ev = await this.evaluate(tx, req);
    if (!ev) return nothingBound;
    if (ev.result === 'allowed')
      return verdictOf(ev, await this.deps.log.write(tx, record, actor, ev));
    const err = refusal(ev);
    err.afterRollback = async (tx2, record2) => {
      await this.deps.log.write(tx2, record2, actor, ev);
    };
    throw err;
  }
}

const verdictOf = (
  ev: PolicyEvaluation,
  written: { id: string; written: boolean },
): PolicyVerdict => ({
  evaluated: true,
  allowed: ev.result === 'allowed',
  result: ev.result,
  deny: ev.deny,
  warn: ev.warn,
  errors: ev.errors,
  missing: ev.missing,
  decision: written.id,
  recorded: written.written,
});

const line = (m: PolicyMessage) => `policy ${m.policy} v${m.version}: ${m.message}`;

function refusal(ev: PolicyEvaluation): DomainError {
  const details = {
    point: ev.point,
    deny: ev.deny,
    warn: ev.warn,
    errors: ev.errors,
    missing: ev.missing,
  };
  if (ev.missing.length > 0)
    return new DomainError(
      E.POLICIES_MISSING,
      `bound policies do not exist: ${ev.missing.join(', ')}`,
      details,
    );
  if (ev.errors.length > 0)
    return new DomainError(E.POLICIES_EVALUATION_FAILED, ev.errors.map(line).join('; '), details);
  return new DomainError(E.POLICIES_DENIED, ev.deny.map(line).join('; '), details);
}

export const policyLine = line;
