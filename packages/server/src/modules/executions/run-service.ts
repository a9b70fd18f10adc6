import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { accountablePrincipal } from '../../platform/four-eyes.ts';
import { newId } from '../../platform/ids.ts';
import type { PipelineGovernance, PipelineService, PipelineVersion } from '../pipelines/index.ts';
import { executionErrors } from './errors.ts';
import { terminalRunStates, type RunState } from './execution-state.ts';
import type { KyselyExecutionStore, RunRow, StageRow } from './execution-store.ts';
import { toRunDetail, toRunView, type RunDetail, type RunView } from './execution-views.ts';
import { executionPermissions as P } from './permissions.ts';
import { outsideRollbackReason, rollbackTargetOf, type RollbackTarget } from './rollback-plan.ts';
import { resolveInputs } from './run-inputs.ts';
import type { RunPolicyHook } from './run-policy-port.ts';

export interface CreateRunInput {
  project: string;
  pipeline: string;
  version?: number | undefined;
  inputs?: Record<string, string> | undefined;
  commit?: string | undefined;
  trigger?: Record<string, unknown> | undefined;
}

export interface LogChunkView {
  cursor: number;
  stage: string;
  step: string;
  attempt: number;
  seq: number;
  content: string;
  sha256: string;
}

// The use cases people (and webhooks) start: create, cancel and read runs.
export class RunService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyExecutionStore;
      clock: Clock;
      pipelines: PipelineService;
      governance: PipelineGovernance;
      // Moves a run as far as it can go (the scheduler's advance).
      advance: (runId: string) => Promise<void>;
      // The runner pool an environment names (its production pool).
      environmentPool: (
        project: string,
        environment: string,
        tx?: AnyTx,
      ) => Promise<string | undefined>;
      // How long a stage may wait on the gate (shown as the wait's expiry).
      gateWaitTimeoutMs: number;
      policy?: RunPolicyHook | undefined;
    },
  ) {}

  async create(ctx: RequestContext, input: CreateRunInput): Promise<RunView> {
    const resource = { type: 'pipeline', id: `${input.project}/${input.pipeline}` };
    await ctx.guard.require(P['executions.run.create'], { project: input.project }, resource);
    const pv = await this.deps.pipelines.version(
      input.project,
      input.pipeline,
      input.version ?? 'latest',
    );
    const inputs = resolveInputs(pv, input.inputs);
    // A pipeline that declares triggers without `manual` runs only on its other triggers.
    const manual = (input.trigger?.type ?? 'manual') === 'manual';
    if (manual && pv.spec.triggers && !pv.spec.triggers.some((t) => 'manual' in t))
      throw new DomainError(
        executionErrors.EXECUTIONS_MANUAL_TRIGGER_DISABLED,
        `pipeline ${pv.name} declares no manual trigger`,
      );
    if (input.commit !== undefined && !/^[0-9a-f]{7,64}$/.test(input.commit))
      throw new DomainError(executionErrors.EXECUTIONS_COMMIT_INVALID);
    const rollback = rollbackTargetOf(input.trigger);
    // Starting a run that deploys somewhere is a decision about that environment: it needs
    // the permission there too, so a deny on the environment is not bypassed at project level.
    for (const environment of deployTargets(pv, rollback))
      await ctx.guard.require(
        P['executions.run.create'],
        { project: pv.project, environment },
        resource,
      );
    await this.requireApprovedVersion(ctx, pv, resource);
    const now = this.deps.clock.now().toISOString();
    const run: RunRow = {
      id: newId('run'),
      project: pv.project,
      pipeline: pv.name,
      pipeline_version: pv.version,
      content_hash: pv.contentHash,
      repository: pv.spec.source.repository,
      branch: pv.spec.source.branch,
      commit_sha: input.commit ?? null,
      inputs: JSON.stringify(inputs),
      trigger: JSON.stringify({
        ...(input.trigger ?? { type: 'manual' }),
        ...(ctx.actor.delegatedBy ? { via: principalOf(ctx.actor) } : {}),
      }),
      state: 'queued',
      reason: null,
      cancel_requested: 0,
      // Through a token someone else issued, its issuer answers for the run (trigger.via
      // keeps the token's own principal; both are excluded from approving).
      created_by: accountablePrincipal(ctx.actor),
      created_at: now,
      started_at: null,
      finished_at: null,
    };
    const stages = await this.planStages(pv, run, rollback);
    const released = rollback
      ? (await this.deps.store.filesOfRun(this.deps.database.db, rollback.release)).filter(
          (f) => f.kind === 'artifact',
        )
      : [];
    if (rollback && (stages.every((s) => s.state === 'skipped') || released.length === 0))
      throw new DomainError(
        executionErrors.EXECUTIONS_ROLLBACK_NOT_DEPLOYABLE,
        `run ${rollback.release} cannot be redeployed to ${rollback.environment}`,
      );
    await this.deps.uow.run(ctx, async (tx, record) => {
      await this.admit(tx, record, ctx, pv, run, rollback);
      await this.deps.store.insertRun(tx, run, stages);
      // The rollback deploys the release's own artifacts: same digests, same stored blobs.
      for (const f of released)
        await this.deps.store.insertFile(tx, { ...f, id: newId('file'), run_id: run.id });
      record({
        action: 'executions.run.created',
        resource: { type: 'run', id: run.id },
        details: {
          pipeline: `${pv.project}/${pv.name}`,
          version: pv.version,
          contentHash: pv.contentHash,
          commit: run.commit_sha,
          inputs,
          trigger: JSON.parse(run.trigger) as unknown,
        },
      });
    });
    await this.deps.advance(run.id);
    const after = await this.deps.store.run(this.deps.database.db, run.id);
    return toRunView(after ?? run);
  }

  // `custody.run` policies: refuse (and record) a run they deny, in the run's transaction.
  private async admit(
    tx: AnyTx,
    record: RecordAudit,
    ctx: RequestContext,
    pv: PipelineVersion,
    run: RunRow,
    rollback: RollbackTarget | undefined,
  ): Promise<void> {
    const policy = this.deps.policy;
    if (!policy) return;
    const at = new Date(run.created_at);
    await policy.enforce(tx, record, ctx.actor, {
      point: 'run',
      project: run.project,
      environments: deployTargets(pv, rollback),
      subject: { type: 'run', id: run.id },
      at,
      input: async () => ({
        point: 'run',
        at: at.toISOString(),
        project: run.project,
        run: { id: run.id, branch: run.branch, commit: run.commit_sha },
        pipeline: {
          name: pv.name,
          version: pv.version,
          contentHash: pv.contentHash,
          author: pv.author,
          spec: pv.spec,
        },
        trigger: JSON.parse(run.trigger) as unknown,
        triggeredBy: {
          principal: run.created_by,
          type: ctx.actor.type,
          name: ctx.actor.name,
          ...(ctx.actor.delegatedBy ? { via: principalOf(ctx.actor) } : {}),
        },
        inputs: JSON.parse(run.inputs) as unknown,
        environments: deployTargets(pv, rollback),
        commits:
          run.commit_sha && policy.commitsOf
            ? await policy.commitsOf(tx, run.project, [run.commit_sha])
            : [],
      }),
    });
  }

  // A version that deploys to a production environment (as the environments are now) runs
  // only once a second person approved it; if it never needed approval before, its request
  // opens now and the run is refused until someone decides.
  private async requireApprovedVersion(
    ctx: RequestContext,
    pv: PipelineVersion,
    resource: { type: string; id: string },
  ): Promise<void> {
    const { governance, uow } = this.deps;
    const production = await governance.productionEnvironments(pv);
    if (production.length === 0) return;
    let approval = await governance.approvalOf(pv);
    if (governance.isApproved(pv, approval)) return;
    const id =
      approval?.subject.hash === pv.contentHash
        ? approval.id
        : await uow.run(ctx, async (tx, record) => {
            const opened = await governance.requestApproval(tx, ctx, pv, production);
            record({
              action: 'executions.run.approval-needed',
              resource,
              details: { version: pv.version, approval: opened, environments: production },
            });
            return opened;
          });
    approval = await governance.approvalOf(pv);
    await uow.recordAttempt(ctx, {
      action: 'executions.run.create',
      resource,
      outcome: 'denied',
      details: {
        code: executionErrors.EXECUTIONS_VERSION_NOT_APPROVED.code,
        version: pv.version,
        approval: id,
      },
    });
    throw new DomainError(
      executionErrors.EXECUTIONS_VERSION_NOT_APPROVED,
      `pipeline ${pv.name} version ${pv.version} deploys to production (${production.join(', ')}) and is ${approval?.state === 'pending' ? 'waiting for approval' : (approval?.state ?? 'not approved')}: ${approval?.state === 'pending' ? `someone other than ${pv.author} runs custody approve ${id}` : 'apply a new version'}`,
      { approval: id, version: pv.version },
    );
  }

  // One row per stage; a rollback skips the stages that do not deploy to its environment.
  private async planStages(
    pv: PipelineVersion,
    run: RunRow,
    rollback: RollbackTarget | undefined,
  ): Promise<StageRow[]> {
    // A deploy stage runs in its environment's pool, whatever the stage says (re-read when its
    // job is queued, so that the environment in force then decides).
    const pools = new Map<string, string | undefined>();
    for (const s of pv.spec.stages)
      if (s.environment && !pools.has(s.environment))
        pools.set(s.environment, await this.deps.environmentPool(pv.project, s.environment));
    return pv.spec.stages.map((s, idx) => {
      const skip = rollback !== undefined && s.environment !== rollback.environment;
      return {
        run_id: run.id,
        idx,
        name: s.name,
        type: s.type,
        environment: s.environment ?? null,
        pool: (s.environment ? pools.get(s.environment) : s.runnerPool) ?? 'default',
        state: skip ? 'skipped' : 'pending',
        generation: 1,
        reason: skip ? outsideRollbackReason(rollback.environment) : null,
        waiting_since: null,
        started_at: null,
        finished_at: skip ? run.created_at : null,
      };
    });
  }

  async cancel(ctx: RequestContext, id: string): Promise<RunView> {
    const run = await this.deps.store.run(this.deps.database.db, id);
    if (!run) throw new DomainError(executionErrors.EXECUTIONS_RUN_NOT_FOUND);
    await ctx.guard.require(
      P['executions.run.cancel'],
      { project: run.project },
      { type: 'run', id },
    );
    if (terminalRunStates.includes(run.state as RunState))
      throw new DomainError(executionErrors.EXECUTIONS_RUN_FINISHED);
    await this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.updateRun(tx, id, { cancel_requested: 1 });
      record({ action: 'executions.run.cancel-requested', resource: { type: 'run', id } });
    });
    await this.deps.advance(id);
    return toRunView((await this.deps.store.run(this.deps.database.db, id))!);
  }

  async get(ctx: RequestContext, id: string): Promise<RunDetail> {
    const db = this.deps.database.db;
    const run = await this.deps.store.run(db, id);
    if (!run) throw new DomainError(executionErrors.EXECUTIONS_RUN_NOT_FOUND);
    await ctx.guard.require(
      P['executions.run.read'],
      { project: run.project },
      { type: 'run', id },
    );
    const [stages, jobs, steps, files] = await Promise.all([
      this.deps.store.stages(db, id),
      this.deps.store.jobsOfRun(db, id),
      this.deps.store.stepsOfRun(db, id),
      this.deps.store.filesOfRun(db, id),
    ]);
    return toRunDetail(run, stages, jobs, steps, files, this.deps.gateWaitTimeoutMs);
  }

  // A file a step recorded (an artifact or a report), for a person or service with read access
  // to the run's project; every download is a ledger entry.
  async fileContent(
    ctx: RequestContext,
    runId: string,
    fileId: string,
  ): Promise<{
    id: string;
    kind: string;
    name: string;
    type: string;
    path: string;
    digest: string;
    size: number;
    contentBase64: string;
  }> {
    const db = this.deps.database.db;
    const run = await this.deps.store.run(db, runId);
    if (!run) throw new DomainError(executionErrors.EXECUTIONS_RUN_NOT_FOUND);
    await ctx.guard.require(
      P['executions.run.read'],
      { project: run.project },
      { type: 'run', id: runId },
    );
    const file = await this.deps.store.file(db, fileId);
    if (!file || file.run_id !== runId)
      throw new DomainError(executionErrors.EXECUTIONS_BLOB_NOT_FOUND);
    const blob = await this.deps.store.blob(db, file.digest);
    if (!blob) throw new DomainError(executionErrors.EXECUTIONS_BLOB_NOT_FOUND);
    await this.deps.uow.run(ctx, async (_tx, record) => {
      record({
        action: `executions.${file.kind}.downloaded`,
        resource: { type: file.kind, id: file.id },
        details: { run: runId, digest: file.digest, path: file.path },
      });
    });
    return {
      id: file.id,
      kind: file.kind,
      name: file.name,
      type: file.type,
      path: file.path,
      digest: file.digest,
      size: file.size,
      contentBase64: blob.content_base64,
    };
  }

  // The runs the caller may read, each checked at its project (a page may hold fewer than
  // `limit`; `next` continues where it stopped).
  async list(
    ctx: RequestContext,
    filter: {
      project?: string | undefined;
      pipeline?: string | undefined;
      state?: string | undefined;
    },
    page: PageRequest = firstPage,
  ): Promise<PageOf<RunView>> {
    const rows = await this.deps.store.listRuns(this.deps.database.db, filter, page);
    const items: RunView[] = [];
    for (const r of rows.items)
      if (await ctx.guard.can(P['executions.run.read'], { project: r.project }))
        items.push(toRunView(r));
    return { items, next: rows.next };
  }

  async logs(
    ctx: RequestContext,
    runId: string,
    filter: { step?: string | undefined; after?: number | undefined },
  ): Promise<{ chunks: LogChunkView[]; cursor: number }> {
    const db = this.deps.database.db;
    const run = await this.deps.store.run(db, runId);
    if (!run) throw new DomainError(executionErrors.EXECUTIONS_RUN_NOT_FOUND);
    await ctx.guard.require(
      P['executions.run.read'],
      { project: run.project },
      { type: 'run', id: runId },
    );
    const [stages, jobs, steps, chunks] = await Promise.all([
      this.deps.store.stages(db, runId),
      this.deps.store.jobsOfRun(db, runId),
      this.deps.store.stepsOfRun(db, runId),
      this.deps.store.logsOfRun(db, runId),
    ]);
    const after = filter.after ?? 0;
    const out = chunks
      .map((c, i) => {
        const job = jobs.find((j) => j.id === c.job_id);
        const stage = stages.find((s) => s.idx === job?.stage_idx);
        const step = steps.find((s) => s.job_id === c.job_id && s.idx === c.step_idx);
        return {
          cursor: i + 1,
          stage: stage?.name ?? '',
          step: step?.name ?? '',
          attempt: c.attempt,
          seq: c.seq,
          content: c.content,
          sha256: c.sha256,
        };
      })
      .filter(
        (c) =>
          c.cursor > after &&
          (!filter.step || c.step === filter.step || `${c.stage}/${c.step}` === filter.step),
      );
    return { chunks: out, cursor: Math.max(after, chunks.length) };
  }
}

// The environments a new run would deploy to (a rollback: only its own).
function deployTargets(pv: PipelineVersion, rollback: RollbackTarget | undefined): string[] {
  const out = new Set<string>();
  for (const s of pv.spec.stages)
    if (s.environment && (!rollback || s.environment === rollback.environment))
      out.add(s.environment);
  return [...out];
}
