import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { systemActor, type Actor } from '../../platform/context.ts';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { newId } from '../../platform/ids.ts';
import type { ChangeService } from '../changes/index.ts';
import type { EvidenceService } from '../evidence/index.ts';
import type {
  DeploymentGatePort,
  ExecutionReads,
  GateRun,
  GateStage,
  GateVerdict,
} from '../executions/index.ts';
import type { FreezeLane, FreezeService } from '../freeze/index.ts';
import type { KyselyRbacStore } from '../identity/index.ts';
import type { PipelineGovernance, PipelineService } from '../pipelines/index.ts';
import type { ProjectService } from '../projects/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';
import type { CreatorLookup } from '../../platform/four-eyes.ts';
import { analyseSod, exclusionOf, type IdentityResolver } from './segregation.ts';
import { checkSegregation } from './segregation-check.ts';
import { ApprovalCheck } from './approval-check.ts';
import { intentHash, type DeploymentIntent } from './approval-rules.ts';
import { checkChangeRecord } from './change-record-check.ts';
import type { KyselyDeploymentStore } from './deployment-store.ts';
import {
  checkDeployers,
  checkFreeze,
  checkPipelineVersion,
  checkPolicy,
  checkPromotion,
} from './gate-checks.ts';
import { GateEvaluation, type GateDecision } from './gate-evaluation.ts';
import { checkQuality } from './quality-check.ts';

export type { GateCheck, GateDecision, GateReason } from './gate-evaluation.ts';

export interface GateInput {
  readonly run: GateRun;
  readonly stage: { readonly idx?: number; readonly name: string };
  readonly environment: string;
  readonly at: Date;
  readonly lane?: FreezeLane | undefined;
}

// The policy engine (policies module), as the gate sees it: evaluates the `custody.deploy`
// policies bound to the environment, records the decision in the gate's transaction.
export interface DeploymentPolicyHook {
  decide(
    tx: AnyTx,
    record: RecordAudit,
    request: {
      project: string;
      environment: string;
      subject: { type: string; id: string };
      at: Date;
      input: () => Promise<Record<string, unknown>>;
    },
  ): Promise<{
    deny: string[];
    warn: string[];
    errors: string[];
    missing: string[];
    decision: string | null;
    // A decision was written (not a repeat of the last one for this stage).
    recorded: boolean;
  }>;
  // `custody.approval`: refuses an approval a bound policy denies (and records the decision).
  enforceApproval(
    tx: AnyTx,
    record: RecordAudit,
    actor: Actor,
    request: {
      project: string;
      environment: string;
      subject: { type: string; id: string };
      at: Date;
      input: unknown;
    },
  ): Promise<void>;
}

export interface GateDeps {
  store: KyselyDeploymentStore;
  executions: ExecutionReads;
  clock: Clock;
  projects: ProjectService;
  freeze: FreezeService;
  changes: ChangeService;
  pipelines: PipelineService;
  governance: PipelineGovernance;
  scm: KyselyScmStore;
  rbac: KyselyRbacStore;
  // Linked identities (exact matching) and who created whom, for segregation of duties.
  directory: IdentityResolver & CreatorLookup;
  sockPuppetWindowMs: number | null;
  policy?: DeploymentPolicyHook | undefined;
  // Parsed evidence of the artifacts, for the environment's quality gates.
  evidence?: EvidenceService | undefined;
}

// Decisions made at the same (clock) instant still sort in the order they were made.
let sequence = 0;
const orderedId = (prefix: string) =>
  `${prefix}_${Date.now().toString(36).padStart(9, '0')}${(sequence++ % 1_679_616).toString(36).padStart(4, '0')}${randomUUID().slice(0, 6)}`;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

// Evaluated when a deploy stage is about to start, right before its job is leased and before
// each of its steps. Protection rules come from the Environment in force, never from
// pipeline YAML.
export class DeploymentGate implements DeploymentGatePort {
  readonly approvals: ApprovalCheck;

  constructor(private readonly deps: GateDeps) {
    this.approvals = new ApprovalCheck(deps);
  }

  get policy(): DeploymentPolicyHook | undefined {
    return this.deps.policy;
  }

  // What a deploy stage would deploy: the artifacts built before it (not the files its own
  // steps record), the pipeline version, environment, inputs and commit.
  async intentOf(
    tx: AnyTx,
    run: GateRun,
    environment: string,
    stage: string,
  ): Promise<DeploymentIntent> {
    return {
      pipeline: {
        project: run.project,
        name: run.pipeline,
        version: run.pipelineVersion,
        contentHash: run.contentHash,
      },
      artifacts: await this.deps.executions.artifacts(tx, run.id, stage),
      environment: `${run.project}/${environment}`,
      inputs: run.inputs,
      commit: run.commit,
    };
  }

  laneOf(run: GateRun): FreezeLane {
    const lane = run.trigger.lane;
    return lane === 'rollback' || lane === 'emergency' ? lane : 'normal';
  }

  // Evaluates every check in order. Writes only what approvals need (a request bound to the
  // current intent); `recorded` says something was written.
  async evaluate(
    tx: AnyTx,
    record: RecordAudit,
    input: GateInput,
  ): Promise<GateDecision & { recorded: boolean }> {
    const { run } = input;
    const intent = await this.intentOf(tx, run, input.environment, input.stage.name);
    const hash = intentHash(intent);
    const env = await this.deps.projects.environment(run.project, input.environment, tx);
    if (!env) return missingEnvironment(run, input.environment, intent, hash);
    const e = new GateEvaluation(
      tx,
      record,
      run,
      input.stage,
      env,
      intent,
      hash,
      input.at,
      input.lane ?? this.laneOf(run),
    );
    checkDeployers(e);
    await checkPipelineVersion(e, this.deps);
    await checkPromotion(e, this.deps);
    await checkQuality(e, this.deps.evidence);
    const change = await checkChangeRecord(e, this.deps);
    await checkFreeze(e, this.deps, change.breakGlass);
    const sod = await analyseSod(tx, this.deps, run, env.name);
    await checkSegregation(e, sod, this.deps);
    await this.approvals.run(e, sod, change.standsInForApprovals);
    await checkPolicy(e, sod, this.deps);
    const decision = e.decision();
    // A deployment let through by a standard or emergency change: kept on the change.
    if (decision.allowed && change.reliedOn)
      e.recorded =
        (await this.deps.changes.records.recordUse(tx, record, {
          change: change.reliedOn,
          run: run.id,
          stage: input.stage.name,
          environment: `${run.project}/${env.name}`,
          commit: run.commit,
          intentHash: hash,
          at: input.at,
        })) || e.recorded;
    return { ...decision, recorded: e.recorded };
  }

  // Why `principal` may never approve this run's deployment to `environment`, if so.
  async exclusion(
    db: AnyDb | AnyTx,
    run: GateRun,
    environment: string,
    principal: string,
    since: string,
  ): Promise<string | undefined> {
    const sod = await analyseSod(db, this.deps, run, environment);
    return exclusionOf(db, this.deps, sod, principal, since);
  }

  // The engine's hook: evaluates, and records the decision (table + audit entry) whenever it
  // differs from the last one for this run and stage.
  async check(
    tx: AnyTx,
    record: RecordAudit,
    input: { run: GateRun; stage: GateStage; point: 'stage' | 'lease' | 'step'; at: Date },
  ): Promise<GateVerdict> {
    const decision = await this.evaluate(tx, record, {
      run: input.run,
      stage: input.stage,
      environment: input.stage.environment,
      at: input.at,
    });
    const written = await this.recordDecision(tx, record, input, decision);
    return {
      allowed: decision.allowed,
      status: decision.status,
      final: decision.final,
      recorded: decision.recorded || written,
      summary: decision.reasons
        .filter((r) => r.blocking)
        .map((r) => `${r.code}: ${r.message}`)
        .join('; ')
        .slice(0, 1000),
    };
  }

  // A run that ended (finished, failed, cancelled) withdraws the approvals still waiting on
  // it, so nobody approves something that will never deploy.
  async runEnded(tx: AnyTx, record: RecordAudit, input: { run: GateRun; reason: string }) {
    const at = this.deps.clock.now().toISOString();
    for (const req of await this.deps.store.pendingRequestsOfRun(tx, input.run.id))
      if (await this.deps.store.setRequestState(tx, req.id, 'pending', 'withdrawn', at))
        record({
          action: 'deployments.approval.withdrawn',
          resource: { type: 'deployment-approval', id: req.id },
          details: { run: input.run.id, stage: req.stage, reason: input.reason },
        });
  }

  // After a deploy stage ended: tell the ServiceNow/Jira ticket the run referenced how it went.
  // Failures are audited by the changes module (`changes.ticket.updated`, outcome failed).
  async finished(input: {
    run: GateRun;
    stage: GateStage;
    result: 'succeeded' | 'failed' | 'rolled_back';
  }): Promise<void> {
    const { run, stage, result } = input;
    const ticket = str(run.inputs.ticket) ?? str(run.trigger.ticket);
    if (!ticket) return;
    const env = await this.deps.projects.environment(run.project, stage.environment);
    if (env?.spec.changeRecord !== 'servicenow' && env?.spec.changeRecord !== 'jira') return;
    await this.deps.changes.tickets.updateTicket(
      { actor: { ...systemActor, name: 'deployment-gate' }, requestId: newId('gate') },
      {
        project: run.project,
        environment: stage.environment,
        ticket,
        outcome: result,
        note: `Custody run ${run.id}, stage ${stage.name} (${run.pipeline} v${run.pipelineVersion}, commit ${run.commit ?? 'unresolved'}): deployment ${result.replace('_', ' ')}`,
      },
    );
  }

  private async recordDecision(
    tx: AnyTx,
    record: RecordAudit,
    input: { run: GateRun; stage: GateStage; point: 'stage' | 'lease' | 'step'; at: Date },
    decision: GateDecision,
  ): Promise<boolean> {
    const reasons = decision.reasons.map(({ check, code, message, unblock, blocking }) => ({
      check,
      code,
      message,
      unblock,
      blocking,
    }));
    const status = decision.allowed ? 'allowed' : decision.final ? 'rejected' : decision.status;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([decision.allowed, status, decision.intentHash, reasons]))
      .digest('hex');
    const last = await this.deps.store.latestDecision(tx, input.run.id, input.stage.name);
    if (last?.fingerprint === fingerprint) return false;
    const id = orderedId('gd');
    await this.deps.store.insertDecision(tx, {
      id,
      run_id: input.run.id,
      stage: input.stage.name,
      project: input.run.project,
      environment: input.stage.environment,
      point: input.point,
      allowed: decision.allowed ? 1 : 0,
      status,
      intent_hash: decision.intentHash,
      reasons: JSON.stringify(reasons),
      fingerprint,
      decided_at: input.at.toISOString(),
    });
    record({
      action: decision.allowed ? 'deployments.gate.allowed' : 'deployments.gate.blocked',
      resource: { type: 'stage', id: `${input.run.id}/${input.stage.name}` },
      details: {
        decision: id,
        environment: `${input.run.project}/${input.stage.environment}`,
        point: input.point,
        status,
        intentHash: decision.intentHash,
        reasons: reasons.map((r) => ({ check: r.check, code: r.code, blocking: r.blocking })),
      },
    });
    return true;
  }
}

function missingEnvironment(
  run: GateRun,
  environment: string,
  intent: DeploymentIntent,
  hash: string,
): GateDecision & { recorded: boolean } {
  return {
    allowed: false,
    status: 'blocked',
    final: false,
    reasons: [
      {
        check: 'deployers',
        code: 'DEPLOYMENTS_ENVIRONMENT_NOT_FOUND',
        message: `environment ${run.project}/${environment} does not exist`,
        unblock: 'apply the Environment resource',
        blocking: true,
      },
    ],
    intent,
    intentHash: hash,
    approval: null,
    recorded: false,
  };
}
