import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError, type ErrorDefinition } from '../../platform/errors.ts';
import { refuseDelegatedDecision } from '../../platform/four-eyes.ts';
import { approvalErrors, approvalPermissions, principalOf } from '../approvals/index.ts';
import {
  executionPermissions,
  rollbackTargetOf,
  type ExecutionEngine,
  type ExecutionReads,
  type RunView,
} from '../executions/index.ts';
import type { KyselyRbacStore } from '../identity/index.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { ProjectService } from '../projects/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';
import { eligible, intentHash, rulesInForce } from './approval-rules.ts';
import type { DeploymentGate, GateReason } from './deployment-gate.ts';
import type { ApprovalRequestRow, KyselyDeploymentStore, VoteRow } from './deployment-store.ts';
import { approvalPolicyInput } from './approval-policy-input.ts';
import { deploymentErrors as E } from './errors.ts';

export interface DeploymentApprovalView {
  id: string;
  run: string;
  stage: string;
  project: string;
  environment: string;
  intentHash: string;
  intent: unknown;
  state: string;
  createdAt: string;
  votes: { principal: string; decision: string; comment: string | null; decidedAt: string }[];
}

export interface StageGateView {
  stage: string;
  environment: string;
  state: string;
  decision: {
    id: string;
    allowed: boolean;
    status: string;
    point: string;
    intentHash: string;
    reasons: GateReason[];
    decidedAt: string;
  } | null;
  approval: DeploymentApprovalView | null;
}

// Deployment approvals (N-of-M rules from the environment, bound to the deployment intent,
// segregation of duties always on) and the read side of the gate's decisions.
export class DeploymentService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      clock: Clock;
      store: KyselyDeploymentStore;
      gate: DeploymentGate;
      executions: ExecutionReads;
      projects: ProjectService;
      pipelines: PipelineService;
      scm: KyselyScmStore;
      rbac: KyselyRbacStore;
      engine: ExecutionEngine;
    },
  ) {}

  // Redeploys a known-good release (by default the one before the environment's current
  // release) as a new run in the `rollback` lane: the same pipeline version, commit, inputs and
  // artifacts; only the stages deploying to the environment run, through the same gate
  // (freeze windows may let the rollback lane through).
  async rollback(
    ctx: RequestContext,
    input: {
      project: string;
      environment: string;
      to?: string | undefined;
      reason?: string | undefined;
    },
  ): Promise<{ run: RunView; from: string }> {
    const db = this.deps.database.db;
    await ctx.guard.require(
      executionPermissions['executions.run.create'],
      { project: input.project, environment: input.environment },
      { type: 'environment', id: `${input.project}/${input.environment}` },
    );
    if (!(await this.deps.projects.environment(input.project, input.environment)))
      throw new DomainError(E.DEPLOYMENTS_ENVIRONMENT_NOT_FOUND);
    const releases = await this.deps.executions.releases(db, input.project, input.environment);
    const target = input.to
      ? releases.find((r) => r.runId === input.to)
      : releases.find((r) => r.runId !== releases[0]?.runId);
    if (!target)
      throw new DomainError(
        E.DEPLOYMENTS_NO_RELEASE,
        input.to
          ? `run ${input.to} was never released to ${input.project}/${input.environment}`
          : `${input.project}/${input.environment} has no release before its current one`,
        { releases: releases.slice(0, 10).map((r) => r.runId) },
      );
    // A release made by an earlier rollback redeployed another run's artifacts: go back to
    // the run that built them, so the new rollback deploys exactly those.
    let from = (await this.deps.executions.run(db, target.runId))!;
    for (let hops = 0; hops < 100; hops++) {
      const earlier = rollbackTargetOf(from.trigger)?.release;
      const origin = earlier ? await this.deps.executions.run(db, earlier) : undefined;
      if (!origin) break;
      from = origin;
    }
    const run = await this.deps.engine.runs.create(ctx, {
      project: input.project,
      pipeline: from.pipeline,
      version: from.pipelineVersion,
      inputs: from.inputs,
      commit: from.commit ?? undefined,
      trigger: {
        type: 'rollback',
        lane: 'rollback',
        environment: input.environment,
        release: from.id,
        ...(input.reason ? { reason: input.reason } : {}),
      },
    });
    return { run, from: from.id };
  }

  async list(
    ctx: RequestContext,
    filter: {
      state?: string | undefined;
      project?: string | undefined;
      mine?: boolean | undefined;
    },
    page: PageRequest = firstPage,
  ): Promise<PageOf<DeploymentApprovalView>> {
    const db = this.deps.database.db;
    const rows = await this.deps.store.requests(
      db,
      { project: filter.project, state: filter.mine ? 'pending' : filter.state },
      page,
    );
    const items: DeploymentApprovalView[] = [];
    for (const row of rows.items) {
      if (!(await ctx.guard.can(approvalPermissions['approvals.request.read'], scopeOf(row))))
        continue;
      if (filter.mine && !(await this.mayApprove(ctx, row))) continue;
      items.push(await this.view(db, row));
    }
    return { items, next: rows.next };
  }

  async get(ctx: RequestContext, id: string): Promise<DeploymentApprovalView> {
    const db = this.deps.database.db;
    const row = await this.deps.store.request(db, id);
    if (!row) throw new DomainError(E.DEPLOYMENTS_APPROVAL_NOT_FOUND);
    await ctx.guard.require(approvalPermissions['approvals.request.read'], scopeOf(row), {
      type: 'deployment-approval',
      id,
    });
    return this.view(db, row);
  }

  approve(ctx: RequestContext, id: string, comment?: string): Promise<DeploymentApprovalView> {
    return this.vote(ctx, id, 'approve', comment ?? null);
  }

  reject(ctx: RequestContext, id: string, reason: string): Promise<DeploymentApprovalView> {
    return this.vote(ctx, id, 'reject', reason);
  }

  // Why a run is (or was) held back, per deploy stage, and what would unblock it.
  async gateOf(
    ctx: RequestContext,
    runId: string,
  ): Promise<{ run: string; state: string; stages: StageGateView[] }> {
    const db = this.deps.database.db;
    const run = await this.deps.executions.run(db, runId);
    if (!run) throw new DomainError(E.DEPLOYMENTS_RUN_NOT_FOUND);
    await ctx.guard.require(
      executionPermissions['executions.run.read'],
      { project: run.project },
      { type: 'run', id: runId },
    );
    const [stages, decisions, requests] = await Promise.all([
      this.deps.executions.stages(db, runId),
      this.deps.store.decisions(db, runId),
      this.deps.store.requestsOfRun(db, runId),
    ]);
    const out: StageGateView[] = [];
    for (const s of stages) {
      if (!s.environment) continue;
      const d = decisions.filter((x) => x.stage === s.name).at(-1);
      const req =
        requests.find((r) => r.stage === s.name && r.state !== 'voided') ??
        requests.find((r) => r.stage === s.name);
      out.push({
        stage: s.name,
        environment: s.environment,
        state: s.state,
        decision: d
          ? {
              id: d.id,
              allowed: d.allowed === 1,
              status: d.status,
              point: d.point,
              intentHash: d.intent_hash,
              reasons: JSON.parse(d.reasons) as GateReason[],
              decidedAt: d.decided_at,
            }
          : null,
        approval: req ? await this.view(db, req) : null,
      });
    }
    return { run: runId, state: run.state, stages: out };
  }

  // Every gate decision and approval request of one deploy stage, oldest first, without a
  // permission check (the auditor's dossier checks its own permission).
  async stageRecord(
    db: AnyDb | AnyTx,
    runId: string,
    stage: string,
  ): Promise<{
    decisions: NonNullable<StageGateView['decision']>[];
    approvals: DeploymentApprovalView[];
  }> {
    const [decisions, requests] = await Promise.all([
      this.deps.store.decisions(db, runId),
      this.deps.store.requestsOfRun(db, runId),
    ]);
    const approvals: DeploymentApprovalView[] = [];
    for (const r of requests.filter((x) => x.stage === stage))
      approvals.push(await this.view(db, r));
    return {
      decisions: decisions
        .filter((d) => d.stage === stage)
        .map((d) => ({
          id: d.id,
          allowed: d.allowed === 1,
          status: d.status,
          point: d.point,
          intentHash: d.intent_hash,
          reasons: JSON.parse(d.reasons) as GateReason[],
          decidedAt: d.decided_at,
        })),
      approvals,
    };
  }

  private async mayApprove(ctx: RequestContext, row: ApprovalRequestRow): Promise<boolean> {
    if (ctx.actor.type !== 'user') return false;
    const db = this.deps.database.db;
    const principal = principalOf(ctx.actor);
    const votes = await this.deps.store.votes(db, row.id);
    if (votes.some((v) => v.principal === principal)) return false;
    const run = await this.deps.executions.run(db, row.run_id);
    if (!run) return false;
    if (await this.deps.gate.exclusion(db, run, row.environment, principal, row.created_at))
      return false;
    const env = await this.deps.projects.environment(row.project, row.environment);
    const groups = await this.deps.rbac.groupsOf(db, { type: 'user', name: ctx.actor.name });
    return env ? rulesInForce(env).some((r) => eligible(r, { principal, groups })) : false;
  }

  private async vote(
    ctx: RequestContext,
    id: string,
    decision: 'approve' | 'reject',
    comment: string | null,
  ): Promise<DeploymentApprovalView> {
    await refuseDelegatedDecision(ctx, this.deps.uow, `deployments.approval.${decision}`, {
      type: 'deployment-approval',
      id,
    });
    const db = this.deps.database.db;
    const row = await this.deps.store.request(db, id);
    if (!row) throw new DomainError(E.DEPLOYMENTS_APPROVAL_NOT_FOUND);
    const resource = { type: 'deployment-approval', id };
    await ctx.guard.require(
      decision === 'approve'
        ? approvalPermissions['approvals.request.approve']
        : approvalPermissions['approvals.request.reject'],
      scopeOf(row),
      resource,
    );
    const refuse = async (
      def: ErrorDefinition,
      message?: string,
      details: Record<string, unknown> = {},
    ): Promise<never> => {
      await this.deps.uow.recordAttempt(ctx, {
        action: `deployments.approval.${decision}`,
        resource,
        outcome: 'denied',
        details: { code: def.code, run: row.run_id, intentHash: row.intent_hash, ...details },
      });
      throw new DomainError(def, message, details);
    };
    if (ctx.actor.type !== 'user') await refuse(approvalErrors.APPROVALS_SERVICE_ACCOUNT_FORBIDDEN);
    const principal = principalOf(ctx.actor);
    const run = await this.deps.executions.run(db, row.run_id);
    if (!run) throw new DomainError(E.DEPLOYMENTS_RUN_NOT_FOUND);
    if (decision === 'approve') {
      const why = await this.deps.gate.exclusion(
        db,
        run,
        row.environment,
        principal,
        row.created_at,
      );
      if (why)
        await refuse(
          approvalErrors.APPROVALS_SELF_APPROVAL_FORBIDDEN,
          `${principal} ${why}; segregation of duties forbids them to approve its deployment`,
          { principal, why },
        );
    }
    const env = await this.deps.projects.environment(row.project, row.environment);
    if (!env) throw new DomainError(E.DEPLOYMENTS_ENVIRONMENT_NOT_FOUND);
    const groups = await this.deps.rbac.groupsOf(db, { type: 'user', name: ctx.actor.name });
    const rules = rulesInForce(env);
    if (!rules.some((r) => eligible(r, { principal, groups })))
      await refuse(E.DEPLOYMENTS_NOT_AN_APPROVER, undefined, {
        rules: rules.map((r) => r.name),
      });
    // Deciding on what is no longer pending (withdrawn, voided, decided) is an attempt too.
    if (row.state !== 'pending')
      await refuse(approvalErrors.APPROVALS_NOT_PENDING, `request ${id} is ${row.state}`, {
        state: row.state,
      });
    const current = intentHash(
      await this.deps.gate.intentOf(db as AnyTx, run, row.environment, row.stage),
    );
    if (current !== row.intent_hash)
      await refuse(
        E.DEPLOYMENTS_INTENT_CHANGED,
        `request ${id} was for ${row.intent_hash}; the run would now deploy ${current}`,
        { current },
      );
    return this.deps.uow.run(ctx, async (tx, record) => {
      const at = this.deps.clock.now();
      const vote: VoteRow = {
        request_id: id,
        principal,
        decision,
        comment,
        decided_at: at.toISOString(),
      };
      if (decision === 'approve' && this.deps.gate.policy)
        await this.deps.gate.policy.enforceApproval(tx, record, ctx.actor, {
          project: row.project,
          environment: row.environment,
          subject: { type: 'deployment-approval', id },
          at,
          input: await approvalPolicyInput(tx, this.deps, { row, run, env, groups, at, ctx }),
        });
      if (!(await this.deps.store.insertVote(tx, vote)))
        throw new DomainError(
          approvalErrors.APPROVALS_NOT_PENDING,
          `${principal} already decided on request ${id}`,
        );
      record({
        action:
          decision === 'approve'
            ? 'deployments.approval.approved'
            : 'deployments.approval.rejected',
        resource,
        details: {
          run: row.run_id,
          stage: row.stage,
          environment: `${row.project}/${row.environment}`,
          intentHash: row.intent_hash,
          ...(comment ? { [decision === 'approve' ? 'comment' : 'reason']: comment } : {}),
        },
      });
      let next = 'pending';
      if (decision === 'reject') next = 'rejected';
      else if ((await this.deps.gate.approvals.progress(tx, row, run, env, at)).met)
        next = 'approved';
      if (
        next !== 'pending' &&
        (await this.deps.store.setRequestState(tx, id, 'pending', next, vote.decided_at))
      )
        record({
          action: `deployments.approval.${next === 'approved' ? 'granted' : 'refused'}`,
          resource,
          details: { run: row.run_id, stage: row.stage, intentHash: row.intent_hash },
        });
      return this.view(tx, (await this.deps.store.request(tx, id))!);
    });
  }

  private async view(db: AnyDb | AnyTx, row: ApprovalRequestRow): Promise<DeploymentApprovalView> {
    const votes = await this.deps.store.votes(db, row.id);
    return {
      id: row.id,
      run: row.run_id,
      stage: row.stage,
      project: row.project,
      environment: row.environment,
      intentHash: row.intent_hash,
      intent: JSON.parse(row.intent) as unknown,
      state: row.state,
      createdAt: row.created_at,
      votes: votes.map((v) => ({
        principal: v.principal,
        decision: v.decision,
        comment: v.comment,
        decidedAt: v.decided_at,
      })),
    };
  }
}

function scopeOf(row: ApprovalRequestRow) {
  return { project: row.project, environment: row.environment };
}
