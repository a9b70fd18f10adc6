import type { ExecutionReads } from '../executions/index.ts';
import type { FreezeService } from '../freeze/index.ts';
import type { PipelineGovernance, PipelineService } from '../pipelines/index.ts';
import type { EvidenceService } from '../evidence/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';
import type { DeploymentPolicyHook } from './deployment-gate.ts';
import { deployPolicyInput } from './policy-input.ts';
import type { SodAnalysis } from './segregation.ts';
import { gateActor, type GateEvaluation } from './gate-evaluation.ts';

// The gate's simpler checks, each reading one protection rule of the environment in force.

function branchAllowed(patterns: readonly string[], branch: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? branch.startsWith(p.slice(0, -1)) : p === branch));
}

// 1. Who may deploy: the pipelines and branches the environment allows.
export function checkDeployers(e: GateEvaluation): void {
  const { run, env } = e;
  const pipelines = env.spec.deployers?.pipelines;
  if (pipelines && !pipelines.includes(run.pipeline))
    e.block(
      'deployers',
      'DEPLOYER_PIPELINE_NOT_ALLOWED',
      `pipeline ${run.pipeline} may not deploy to ${env.name} (allowed: ${pipelines.join(', ')})`,
      `deploy with one of ${pipelines.join(', ')} or add ${run.pipeline} to the environment's deployers.pipelines`,
    );
  const branches = env.spec.deployers?.branches;
  if (branches && !branchAllowed(branches, run.branch))
    e.block(
      'deployers',
      'DEPLOYER_BRANCH_NOT_ALLOWED',
      `branch ${run.branch} may not deploy to ${env.name} (allowed: ${branches.join(', ')})`,
      `deploy from one of ${branches.join(', ')}`,
    );
}

// 2. A pipeline version deploying to production needs its second person's approval, decided
// now (the environment may have become production since the version was applied).
export async function checkPipelineVersion(
  e: GateEvaluation,
  deps: { pipelines: PipelineService; governance: PipelineGovernance },
): Promise<void> {
  if (e.env.type !== 'production') return;
  const { run } = e;
  const version = await deps.pipelines.version(
    run.project,
    run.pipeline,
    run.pipelineVersion,
    e.tx,
  );
  let approval = await deps.governance.approvalOf(version, e.tx);
  if (deps.governance.isApproved(version, approval)) return;
  if (!approval || approval.subject.hash !== version.contentHash) {
    await deps.governance.requestApproval(e.tx, gateActor(), version, [e.env.name]);
    e.recorded = true;
    approval = await deps.governance.approvalOf(version, e.tx);
  }
  const pending = approval?.state === 'pending';
  e.block(
    'pipeline',
    'PIPELINE_VERSION_NOT_APPROVED',
    `pipeline ${run.pipeline} version ${run.pipelineVersion} deploys to production ${e.env.name} and is ${pending ? 'waiting for approval' : (approval?.state ?? 'not approved')}`,
    pending
      ? `someone other than ${version.author} runs custody approve ${approval!.id}`
      : 'apply a new version of the pipeline and have it approved',
  );
}

// 3. Promotion: the same artifact digests released successfully in each listed environment.
export async function checkPromotion(
  e: GateEvaluation,
  deps: { executions: ExecutionReads },
): Promise<void> {
  const { run, intent, tx } = e;
  for (const required of e.env.spec.promotion?.requires ?? []) {
    const releases = await deps.executions.releases(tx, run.project, required);
    let promoted = false;
    if (intent.artifacts.length > 0) {
      const wanted = intent.artifacts.map((a) => a.digest);
      for (const r of releases) {
        const have = new Set((await deps.executions.artifacts(tx, r.runId)).map((a) => a.digest));
        if (wanted.every((d) => have.has(d))) {
          promoted = true;
          break;
        }
      }
    } else if (run.commit) {
      promoted = releases.some((r) => r.commit === run.commit);
    }
    if (!promoted)
      e.block(
        'promotion',
        'PROMOTION_REQUIRED',
        intent.artifacts.length > 0
          ? `artifact digests ${intent.artifacts.map((a) => a.digest).join(', ')} have no successful deployment to ${required}`
          : `commit ${run.commit ?? '(none)'} has no successful deployment to ${required}`,
        `deploy the same artifacts to ${required} successfully first`,
      );
  }
}

// 4. Freeze windows at the time of this step, not of the run's creation.
export async function checkFreeze(
  e: GateEvaluation,
  deps: { freeze: FreezeService },
  breakGlass: string | undefined,
): Promise<void> {
  const { run, env } = e;
  const freeze = await deps.freeze.check(
    {
      project: run.project,
      environment: env.name,
      environmentType: env.type,
      at: e.at,
      lane: e.lane,
    },
    e.tx,
  );
  e.facts.freeze = freeze;
  if (freeze.frozen && !breakGlass) {
    for (const w of freeze.windows)
      e.block(
        'freeze',
        'FREEZE_ACTIVE',
        `freeze window ${w.name} is in force until ${w.end}: ${w.why}`,
        `wait until ${w.end}, or have someone with freeze.window.override create an override with a reason, or use an active emergency change`,
      );
    return;
  }
  if (freeze.windows.length === 0 && freeze.excepted.length === 0) return;
  for (const r of freeze.reasons) e.note('freeze', 'FREEZE_BYPASSED', r);
  if (freeze.frozen && breakGlass) e.note('freeze', 'FREEZE_BYPASSED', breakGlass);
}

// 5. Policies (`custody.deploy`) bound to the environment, its project or the organization.
// Denials, evaluation errors and missing bound policies block (fail closed); warnings are
// notes.
export async function checkPolicy(
  e: GateEvaluation,
  sod: SodAnalysis,
  deps: {
    policy?: DeploymentPolicyHook | undefined;
    scm: KyselyScmStore;
    evidence?: EvidenceService | undefined;
  },
): Promise<void> {
  // A server always wires the policy engine; without one nothing can be bound.
  if (!deps.policy) return;
  const verdict = await deps.policy.decide(e.tx, e.record, {
    project: e.run.project,
    environment: e.env.name,
    subject: { type: 'stage', id: `${e.run.id}/${e.stage.name}` },
    at: e.at,
    input: () => deployPolicyInput(e, sod, deps),
  });
  if (verdict.recorded) e.recorded = true;
  for (const m of verdict.deny)
    e.block('policy', 'POLICIES_DENIED', m, 'change the deployment so that the policy passes');
  for (const m of verdict.errors)
    e.block('policy', 'POLICIES_EVALUATION_FAILED', m, 'fix the policy so that it evaluates');
  for (const m of verdict.missing)
    e.block(
      'policy',
      'POLICIES_MISSING',
      `bound policy ${m} does not exist`,
      `apply Policy ${m}, or unbind it from the environment or project`,
    );
  for (const m of verdict.warn) e.note('policy', 'POLICIES_WARNING', m);
}
