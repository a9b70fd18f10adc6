import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { systemActor } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import { newId } from '../../platform/ids.ts';
import type { ChangeService } from '../changes/index.ts';
import type {
  DeploymentGatePort,
  ExecutionReads,
  GateBlockedState,
  GateRun,
  GateVerdict,
} from '../executions/index.ts';
import type { FreezeLane, FreezeService } from '../freeze/index.ts';
import type { KyselyRbacStore } from '../identity/index.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { EnvironmentView, ProjectService } from '../projects/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';
import {
  evaluateRules,
  intentHash,
  type DeploymentIntent,
  type RuleProgress,
} from './approval-rules.ts';
import type { ApprovalRequestRow, KyselyDeploymentStore } from './deployment-store.ts';
import { excludedApprovers, exclusionOf } from './sod.ts';

export type GateCheck = 'deployers' | 'promotion' | 'change' | 'freeze' | 'approvals' | 'policy';

export interface GateReason {
  readonly check: GateCheck;
  readonly code: string;
  readonly message: string;
  // What would unblock it; null for reasons that do not block.
  readonly unblock: string | null;
  readonly blocking: boolean;
}

export interface GateDecision {
  readonly allowed: boolean;
  // The stage state while blocked (meaningless when allowed).
  readonly status: GateBlockedState;
  readonly reasons: GateReason[];
  readonly intent: DeploymentIntent;
  readonly intentHash: string;
  readonly approval: {
    readonly id: string;
    readonly state: string;
    readonly rules: RuleProgress[];
  } | null;
}

export interface GateInput {
  readonly run: GateRun;
  readonly stage: { readonly idx?: number; readonly name: string };
  readonly environment: string;
  readonly at: Date;
  readonly lane?: FreezeLane | undefined;
}

// The Rego issue plugs its policy engine in here; the gate calls it when configured.
export interface DeploymentPolicyHook {
  evaluate(
    tx: AnyTx,
    input: { run: GateRun; environment: EnvironmentView; intent: DeploymentIntent; at: Date },
  ): Promise<{ allowed: boolean; reasons: { code: string; message: string }[] }>;
}

export interface GateDeps {
  store: KyselyDeploymentStore;
  executions: ExecutionReads;
  clock: Clock;
  projects: ProjectService;
  freeze: FreezeService;
  changes: ChangeService;
  pipelines: PipelineService;
  scm: KyselyScmStore;
  rbac: KyselyRbacStore;
  policy?: DeploymentPolicyHook | undefined;
}

// Decisions made at the same (clock) instant still sort in the order they were made.
let sequence = 0;
const orderedId = (prefix: string) =>
  `${prefix}_${Date.now().toString(36).padStart(9, '0')}${(sequence++ % 1_679_616).toString(36).padStart(4, '0')}${randomUUID().slice(0, 6)}`;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function branchAllowed(patterns: readonly string[], branch: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? branch.startsWith(p.slice(0, -1)) : p === branch));
}

// Evaluated when a deploy stage is about to start and again right before its job is leased.
// Protection rules come from the Environment resource only, never from pipeline YAML.
export class DeploymentGate implements DeploymentGatePort {
  constructor(private readonly deps: GateDeps) {}

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

  // Evaluates every check. Writes only what approvals need: a request bound to the current
  // intent (voiding one bound to an older intent). `recorded` says something was written.
  async evaluate(
    tx: AnyTx,
    record: RecordAudit,
    input: GateInput,
  ): Promise<GateDecision & { recorded: boolean }> {
    const { run, at } = input;
    const reasons: GateReason[] = [];
    let recorded = false;
    const block = (check: GateCheck, code: string, message: string, unblock: string) =>
      reasons.push({ check, code, message, unblock, blocking: true });
    const note = (check: GateCheck, code: string, message: string) =>
      reasons.push({ check, code, message, unblock: null, blocking: false });

    const intent = await this.intentOf(tx, run, input.environment, input.stage.name);
    const hash = intentHash(intent);
    const env = await this.deps.projects.environment(run.project, input.environment, tx);
    if (!env) {
      block(
        'deployers',
        'DEPLOYMENTS_ENVIRONMENT_NOT_FOUND',
        `environment ${run.project}/${input.environment} does not exist`,
        'apply the Environment resource',
      );
      return {
        allowed: false,
        status: 'blocked',
        reasons,
        intent,
        intentHash: hash,
        approval: null,
        recorded,
      };
    }
    const spec = env.spec;

    // 1. Who may deploy.
    const pipelines = spec.deployers?.pipelines;
    if (pipelines && !pipelines.includes(run.pipeline))
      block(
        'deployers',
        'DEPLOYER_PIPELINE_NOT_ALLOWED',
        `pipeline ${run.pipeline} may not deploy to ${env.name} (allowed: ${pipelines.join(', ')})`,
        `deploy with one of ${pipelines.join(', ')} or add ${run.pipeline} to the environment's deployers.pipelines`,
      );
    const branches = spec.deployers?.branches;
    if (branches && !branchAllowed(branches, run.branch))
      block(
        'deployers',
        'DEPLOYER_BRANCH_NOT_ALLOWED',
        `branch ${run.branch} may not deploy to ${env.name} (allowed: ${branches.join(', ')})`,
        `deploy from one of ${branches.join(', ')}`,
      );

    // 2. Promotion: the same artifact digests released successfully in each listed environment.
    for (const required of spec.promotion?.requires ?? []) {
      const releases = await this.deps.executions.releases(tx, run.project, required);
      let promoted = false;
      if (intent.artifacts.length > 0) {
        const wanted = new Set(intent.artifacts.map((a) => a.digest));
        for (const r of releases) {
          const have = new Set(
            (await this.deps.executions.artifacts(tx, r.runId)).map((a) => a.digest),
          );
          if ([...wanted].every((d) => have.has(d))) {
            promoted = true;
            break;
          }
        }
      } else if (run.commit) {
        promoted = releases.some((r) => r.commit === run.commit);
      }
      if (!promoted)
        block(
          'promotion',
          'PROMOTION_REQUIRED',
          intent.artifacts.length > 0
            ? `artifact digests ${intent.artifacts.map((a) => a.digest).join(', ')} have no successful deployment to ${required}`
            : `commit ${run.commit ?? '(none)'} has no successful deployment to ${required}`,
          `deploy the same artifacts to ${required} successfully first`,
        );
    }

    // 3. Change record (native, ServiceNow, Jira; break-glass bypasses freeze and approvals).
    const changeId = str(run.inputs.change) ?? str(run.trigger.change);
    const ticket = str(run.inputs.ticket) ?? str(run.trigger.ticket);
    const change = await this.deps.changes.check(
      { changeId, ticket, project: run.project, environment: env.name, at },
      tx,
    );
    if (!change.ok)
      for (const r of change.reasons)
        block(
          'change',
          r.code,
          r.message,
          spec.changeRecord === 'servicenow' || spec.changeRecord === 'jira'
            ? `reference an approved ${spec.changeRecord} ticket (input "ticket"), or an active emergency change`
            : 'reference a valid change request (input "change")',
        );
    else for (const r of change.reasons) note('change', r.code, r.message);

    // 4. Freeze windows at the time of this step, not of the run's creation.
    const lane = input.lane ?? this.laneOf(run);
    const freeze = await this.deps.freeze.check(
      { project: run.project, environment: env.name, environmentType: env.type, at, lane },
      tx,
    );
    if (freeze.frozen && !change.bypassFreeze) {
      for (const w of freeze.windows)
        block(
          'freeze',
          'FREEZE_ACTIVE',
          `freeze window ${w.name} is in force until ${w.end}: ${w.why}`,
          `wait until ${w.end}, or have someone with freeze.window.override create an override with a reason, or use an active emergency change`,
        );
    } else if (freeze.windows.length > 0 || freeze.excepted.length > 0) {
      for (const r of freeze.reasons) note('freeze', 'FREEZE_BYPASSED', r);
      if (freeze.frozen && change.bypassFreeze)
        note(
          'freeze',
          'FREEZE_BYPASSED',
          `emergency change ${change.change?.id} bypasses the freeze`,
        );
    }

    // 5. Approvals bound to the intent.
    let approval: GateDecision['approval'] = null;
    const rules = spec.approvals?.rules ?? [];
    if (rules.length > 0 && change.bypassApprovals) {
      note(
        'approvals',
        'APPROVALS_BYPASSED',
        `change ${change.change?.id} (${change.change?.riskClass}) stands in for the approval rules`,
      );
    } else if (rules.length > 0) {
      const now = this.deps.clock.now().toISOString();
      const retire = async (old: ApprovalRequestRow, why: 'voided' | 'expired') => {
        if (await this.deps.store.setRequestState(tx, old.id, old.state, 'voided', now))
          record({
            action: `deployments.approval.${why}`,
            resource: { type: 'deployment-approval', id: old.id },
            details: { run: run.id, stage: input.stage.name, was: old.intent_hash, now: hash },
          });
        recorded = true;
      };
      const open = async (): Promise<ApprovalRequestRow> => {
        const row: ApprovalRequestRow = {
          id: newId('dap'),
          run_id: run.id,
          stage: input.stage.name,
          project: run.project,
          environment: env.name,
          intent_hash: hash,
          intent: JSON.stringify(intent),
          state: 'pending',
          created_at: now,
          updated_at: now,
        };
        await this.deps.store.insertRequest(tx, row);
        record({
          action: 'deployments.approval.requested',
          resource: { type: 'deployment-approval', id: row.id },
          details: {
            run: run.id,
            stage: input.stage.name,
            environment: `${run.project}/${env.name}`,
            intentHash: hash,
            rules: rules.map((r) => ({
              name: r.name,
              group: r.group,
              users: r.users,
              required: r.required,
            })),
          },
        });
        recorded = true;
        return row;
      };
      let req = await this.deps.store.latestRequest(tx, run.id, input.stage.name);
      // A new intent voids the request: approvals never carry over to something else.
      if (req && req.intent_hash !== hash) {
        await retire(req, 'voided');
        req = undefined;
      }
      req ??= await open();
      let progress = await this.approvalProgress(tx, req, run, env, at);
      // Approved, but the approvals have since expired (or an approver became excluded):
      // a fresh request, so that approvers can decide again.
      if (req.state === 'approved' && !progress.met) {
        await retire(req, 'expired');
        req = await open();
        progress = await this.approvalProgress(tx, req, run, env, at);
      }
      approval = { id: req.id, state: req.state, rules: progress.rules };
      if (progress.rejectedBy.length > 0)
        block(
          'approvals',
          'APPROVAL_REJECTED',
          `rejected by ${progress.rejectedBy.join(', ')}`,
          'fix what the reviewers asked for and start a new run',
        );
      else if (!progress.met)
        block(
          'approvals',
          'APPROVAL_REQUIRED',
          `approval ${req.id} needs ${progress.rules
            .filter((r) => r.missing > 0)
            .map((r) => `${r.missing} more from rule ${r.name}`)
            .join(', ')}`,
          `custody approve ${req.id} by ${rules
            .map((r) =>
              r.group ? `a member of group ${r.group}` : `one of ${(r.users ?? []).join(', ')}`,
            )
            .join(
              ' and ',
            )} (never the run's triggerer, the commit's authors or the pipeline's author)`,
        );
      else
        note(
          'approvals',
          'APPROVALS_MET',
          `approved by ${progress.rules.flatMap((r) => r.counted).join(', ')}`,
        );
    }

    // 6. Policies (a later issue plugs the policy engine in).
    if (this.deps.policy) {
      const verdict = await this.deps.policy.evaluate(tx, { run, environment: env, intent, at });
      for (const r of verdict.reasons)
        if (verdict.allowed) note('policy', r.code, r.message);
        else block('policy', r.code, r.message, 'change the deployment so that the policies pass');
      if (!verdict.allowed && verdict.reasons.length === 0)
        block(
          'policy',
          'POLICY_DENIED',
          'a policy denied the deployment',
          'make the policies pass',
        );
    }

    const blocking = reasons.filter((r) => r.blocking);
    const status: GateBlockedState = blocking.some(
      (r) => r.check !== 'freeze' && r.code !== 'APPROVAL_REQUIRED',
    )
      ? 'blocked'
      : blocking.some((r) => r.check === 'freeze')
        ? 'blocked_by_freeze'
        : 'waiting_for_approval';
    return {
      allowed: blocking.length === 0,
      status,
      reasons,
      intent,
      intentHash: hash,
      approval,
      recorded,
    };
  }

  // Valid votes: not expired, by users who are not excluded by segregation of duties.
  async approvalProgress(
    tx: AnyTx,
    req: ApprovalRequestRow,
    run: GateRun,
    env: EnvironmentView,
    at: Date,
  ): Promise<{ met: boolean; rules: RuleProgress[]; rejectedBy: string[] }> {
    const rules = env.spec.approvals?.rules ?? [];
    const ttl = parseDuration(env.spec.approvals?.expiresAfter ?? '24h') ?? 86_400_000;
    const excluded = await excludedApprovers(tx, this.deps, run);
    const votes = (await this.deps.store.votes(tx, req.id)).filter(
      (v) =>
        v.principal.startsWith('user:') &&
        !exclusionOf(excluded, v.principal) &&
        at.getTime() - Date.parse(v.decided_at) <= ttl,
    );
    const approvers = await Promise.all(
      votes
        .filter((v) => v.decision === 'approve')
        .map(async (v) => ({
          principal: v.principal,
          groups: await this.deps.rbac.groupsOf(tx, { type: 'user', name: v.principal.slice(5) }),
        })),
    );
    const result = evaluateRules(rules, approvers);
    return {
      ...result,
      rejectedBy: votes.filter((v) => v.decision === 'reject').map((v) => v.principal),
    };
  }

  // The engine's hook: evaluates, and records the decision (table + audit entry) whenever it
  // differs from the last one for this run and stage.
  async check(
    tx: AnyTx,
    record: RecordAudit,
    input: {
      run: GateRun;
      stage: { idx: number; name: string; environment: string };
      point: 'stage' | 'lease' | 'step';
      at: Date;
    },
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
      final: false,
      recorded: decision.recorded || written,
      summary: decision.reasons
        .filter((r) => r.blocking)
        .map((r) => `${r.code}: ${r.message}`)
        .join('; ')
        .slice(0, 1000),
    };
  }

  // After a deploy stage ended: tell the ServiceNow/Jira ticket the run referenced how it went.
  // Failures are audited by the changes module (`changes.ticket.updated`, outcome failed).
  async finished(input: {
    run: GateRun;
    stage: { idx: number; name: string; environment: string };
    result: 'succeeded' | 'failed' | 'rolled_back';
  }): Promise<void> {
    const { run, stage, result } = input;
    const ticket = str(run.inputs.ticket) ?? str(run.trigger.ticket);
    if (!ticket) return;
    const env = await this.deps.projects.environment(run.project, stage.environment);
    if (env?.spec.changeRecord !== 'servicenow' && env?.spec.changeRecord !== 'jira') return;
    await this.deps.changes.updateTicket(
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
    input: {
      run: GateRun;
      stage: { name: string; environment: string };
      point: 'stage' | 'lease' | 'step';
      at: Date;
    },
    decision: GateDecision,
  ): Promise<boolean> {
    const reasons = decision.reasons.map(({ check, code, message, unblock, blocking }) => ({
      check,
      code,
      message,
      unblock,
      blocking,
    }));
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([decision.allowed, decision.status, decision.intentHash, reasons]))
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
      status: decision.allowed ? 'allowed' : decision.status,
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
        status: decision.allowed ? 'allowed' : decision.status,
        intentHash: decision.intentHash,
        reasons: reasons.map((r) => ({ check: r.check, code: r.code, blocking: r.blocking })),
      },
    });
    return true;
  }
}
