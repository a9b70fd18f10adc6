import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../platform/clock.ts';
import { systemActor, type RequestContext } from '../../platform/context.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { principalOf } from '../approvals/index.ts';
import {
  artifactEnvName,
  governedSubjectType,
  pipelineSubjectId,
  stageNeeds,
  type PipelineService,
  type PipelineSpec,
  type StepSpec,
} from '../pipelines/index.ts';
import { executionErrors } from './errors.ts';
import { outsideRollbackReason, rollbackTargetOf, skippedByRollback } from './rollback-plan.ts';
import {
  jobTransition,
  runTransition,
  stageTransition,
  stepTransition,
  terminalJobStates,
  terminalRunStates,
  terminalStageStates,
  gateBlockedStates,
  type GateBlockedState,
  type JobState,
  type RunState,
  type StageState,
  type StepState,
} from './execution-state.ts';
import type { JobRow, KyselyExecutionStore, RunRow, StageRow, StepRow } from './execution-store.ts';
import { toRunDetail, toRunView, type RunDetail, type RunView } from './execution-views.ts';
import { executionPermissions as P } from './permissions.ts';

// Secrets reach jobs through this port; the secrets module implements it.
export interface SecretSource {
  forJob(input: {
    project: string;
    environment: string | null;
    pool: string;
  }): Promise<Record<string, string>>;
}

export interface EngineOptions {
  leaseTtlMs: number;
  // Leases of one job: 2 = one retry on another runner after a runner is lost.
  maxAttempts: number;
  // A requeued job nobody leases within this time fails with RUNNER_LOST.
  requeueTimeoutMs: number;
  defaultConcurrency: number;
}

export const defaultEngineOptions: EngineOptions = {
  leaseTtlMs: 30_000,
  maxAttempts: 2,
  requeueTimeoutMs: 120_000,
  defaultConcurrency: 10,
};

export interface JobPayload {
  jobId: string;
  leaseId: string;
  leaseTtlMs: number;
  attempt: number;
  runId: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  stage: string;
  kind: 'main' | 'rollback';
  environment: string | null;
  repository: string;
  branch: string;
  commit: string | null;
  inputs: Record<string, string>;
  steps: {
    name: string;
    run: string;
    env: Record<string, string>;
    timeoutMs: number | null;
    retries: number;
    evidence: { type: string; path: string }[];
    artifacts: { name: string; path: string }[];
  }[];
  artifacts: { env: string; name: string; digest: string; path: string }[];
  secrets: Record<string, string>;
}

export type StepResult = 'succeeded' | 'failed' | 'cancelled';

// The deployment gate (the deployments module implements it) is asked when a deploy stage is
// about to start and again right before its job is leased. A refusal holds the stage in an
// explicit blocked state that the scheduler re-evaluates on every tick. `recorded` says the
// gate wrote something (a decision, an approval request) that must be committed.
export interface GateRun {
  id: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  contentHash: string;
  branch: string;
  commit: string | null;
  inputs: Record<string, string>;
  trigger: Record<string, unknown>;
  createdBy: string;
}
export interface DeploymentGatePort {
  check(
    tx: AnyTx,
    record: RecordAudit,
    input: {
      run: GateRun;
      stage: { idx: number; name: string; environment: string };
      point: 'stage' | 'lease' | 'step';
      at: Date;
    },
  ): Promise<{
    allowed: boolean;
    status: GateBlockedState;
    recorded: boolean;
    // One line for the stage's reason, e.g. `FREEZE_ACTIVE: freeze window … is in force`.
    summary?: string;
  }>;
  // After the transaction that ended a deploy stage (e.g. to update a change ticket).
  finished?(input: {
    run: GateRun;
    stage: { idx: number; name: string; environment: string };
    result: 'succeeded' | 'failed' | 'rolled_back';
  }): Promise<void>;
}

function gateRun(run: RunRow): GateRun {
  return {
    id: run.id,
    project: run.project,
    pipeline: run.pipeline,
    pipelineVersion: run.pipeline_version,
    contentHash: run.content_hash,
    branch: run.branch,
    commit: run.commit_sha,
    inputs: JSON.parse(run.inputs) as Record<string, string>,
    trigger: JSON.parse(run.trigger) as Record<string, unknown>,
    createdBy: run.created_by,
  };
}

class NoChange extends Error {}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const defaultStepTimeoutMs = 3_600_000;

export class ExecutionEngine {
  private readonly notifier = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly options: EngineOptions;

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyExecutionStore;
      clock: Clock;
      pipelines: PipelineService;
      approvals: ApprovalService;
      secrets?: SecretSource;
      gate?: DeploymentGatePort;
      options?: Partial<EngineOptions>;
      onError?: (err: unknown) => void;
      // The runner pool an environment names (its production pool); a deploy stage without its
      // own `runnerPool` runs there.
      environmentPool?: (project: string, environment: string) => Promise<string | undefined>;
    },
  ) {
    this.options = { ...defaultEngineOptions, ...deps.options };
    this.notifier.setMaxListeners(0);
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
  private later(ms: number): string {
    return new Date(this.deps.clock.now().getTime() + ms).toISOString();
  }
  private schedulerCtx(): Pick<RequestContext, 'actor' | 'requestId'> {
    return { actor: { ...systemActor, name: 'scheduler' }, requestId: newId('sched') };
  }

  // A transaction that may find nothing to do: it rolls back quietly instead of committing
  // an empty unit of work.
  private async maybe<T>(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    work: (tx: AnyTx, record: RecordAudit) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await this.deps.uow.run(ctx, work);
    } catch (err) {
      if (err instanceof NoChange) return undefined;
      throw err;
    }
  }

  // ---------------------------------------------------------------- runs

  async createRun(
    ctx: RequestContext,
    input: {
      project: string;
      pipeline: string;
      version?: number | undefined;
      inputs?: Record<string, string> | undefined;
      commit?: string | undefined;
      trigger?: Record<string, unknown> | undefined;
    },
  ): Promise<RunView> {
    const resource = { type: 'pipeline', id: `${input.project}/${input.pipeline}` };
    await ctx.guard.require(P['executions.run.create'], { project: input.project }, resource);
    const pv = await this.deps.pipelines.version(
      input.project,
      input.pipeline,
      input.version ?? 'latest',
    );
    const declared = new Map((pv.spec.inputs ?? []).map((i) => [i.name, i]));
    const inputs: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.inputs ?? {})) {
      if (!declared.has(name))
        throw new DomainError(
          executionErrors.EXECUTIONS_INPUT_UNKNOWN,
          `pipeline ${pv.name} has no input ${name}`,
          {
            declared: [...declared.keys()],
          },
        );
      inputs[name] = value;
    }
    for (const d of declared.values()) {
      if (inputs[d.name] !== undefined) continue;
      if (d.default !== undefined) inputs[d.name] = d.default;
      else if (d.required)
        throw new DomainError(
          executionErrors.EXECUTIONS_INPUT_MISSING,
          `input ${d.name} is required`,
        );
    }
    // A pipeline that declares triggers without `manual` runs only on its other triggers.
    const manual = (input.trigger?.type ?? 'manual') === 'manual';
    if (manual && pv.spec.triggers && !pv.spec.triggers.some((t) => 'manual' in t))
      throw new DomainError(
        executionErrors.EXECUTIONS_MANUAL_TRIGGER_DISABLED,
        `pipeline ${pv.name} declares no manual trigger`,
      );
    if (input.commit !== undefined && !/^[0-9a-f]{7,64}$/.test(input.commit))
      throw new DomainError(executionErrors.EXECUTIONS_COMMIT_INVALID);
    if (pv.governed) {
      const approval = await this.deps.approvals.stateOf(
        governedSubjectType,
        pipelineSubjectId(pv.project, pv.name, pv.version),
      );
      if (approval?.state !== 'approved' || approval.subject.hash !== pv.contentHash) {
        await this.deps.uow.recordAttempt(ctx, {
          action: 'executions.run.create',
          resource,
          outcome: 'denied',
          details: {
            code: executionErrors.EXECUTIONS_VERSION_NOT_APPROVED.code,
            version: pv.version,
          },
        });
        throw new DomainError(
          executionErrors.EXECUTIONS_VERSION_NOT_APPROVED,
          `pipeline ${pv.name} version ${pv.version} deploys to production and is ${approval?.state ?? 'not'} approved`,
          { approval: approval?.id ?? null, version: pv.version },
        );
      }
    }
    const now = this.now();
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
      trigger: JSON.stringify(input.trigger ?? { type: 'manual' }),
      state: 'queued',
      reason: null,
      cancel_requested: 0,
      created_by: principalOf(ctx.actor),
      created_at: now,
      started_at: null,
      finished_at: null,
    };
    const environmentPools = new Map<string, string | undefined>();
    for (const s of pv.spec.stages)
      if (s.environment && !s.runnerPool && !environmentPools.has(s.environment))
        environmentPools.set(
          s.environment,
          await this.deps.environmentPool?.(pv.project, s.environment),
        );
    const rollback = rollbackTargetOf(input.trigger);
    const outside = (s: { environment?: string | undefined }) =>
      rollback !== undefined && s.environment !== rollback.environment;
    const stages: StageRow[] = pv.spec.stages.map((s, idx) => {
      const skip = outside(s);
      return {
        run_id: run.id,
        idx,
        name: s.name,
        type: s.type,
        environment: s.environment ?? null,
        pool:
          s.runnerPool ??
          (s.environment ? environmentPools.get(s.environment) : undefined) ??
          'default',
        state: skip ? 'skipped' : 'pending',
        generation: 1,
        reason: skip ? outsideRollbackReason(rollback!.environment) : null,
        started_at: null,
        finished_at: skip ? now : null,
      };
    });
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
    await this.advanceRun(run.id);
    const after = await this.deps.store.run(this.deps.database.db, run.id);
    return toRunView(after ?? run);
  }

  async cancelRun(ctx: RequestContext, id: string): Promise<RunView> {
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
    await this.advanceRun(id);
    return toRunView((await this.deps.store.run(this.deps.database.db, id))!);
  }

  async getRun(ctx: RequestContext, id: string): Promise<RunDetail> {
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
    return toRunDetail(run, stages, jobs, steps, files);
  }

  async listRuns(filter: {
    project?: string;
    pipeline?: string;
    state?: string;
    limit?: number;
  }): Promise<RunView[]> {
    const rows = await this.deps.store.listRuns(this.deps.database.db, {
      ...filter,
      limit: filter.limit ?? 50,
    });
    return rows.map(toRunView);
  }

  async logs(
    ctx: RequestContext,
    runId: string,
    filter: { step?: string | undefined; after?: number | undefined },
  ): Promise<{
    chunks: {
      cursor: number;
      stage: string;
      step: string;
      attempt: number;
      seq: number;
      content: string;
      sha256: string;
    }[];
    cursor: number;
  }> {
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

  // ---------------------------------------------------------------- scheduler

  // One pass: expire leases and deadlines, then advance every active run. Tests call this
  // directly with a ManualClock; the server calls it on an interval.
  tick(): Promise<void> {
    const next = this.ticking.then(() => this.doTick());
    this.ticking = next.catch(() => {});
    return next;
  }

  start(intervalMs = 1000): void {
    if (this.timer) return;
    this.stopped = false;
    void this.graceLeases().catch((err) => this.deps.onError?.(err));
    this.timer = setInterval(() => {
      void this.tick().catch((err) => this.deps.onError?.(err));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.notifier.emit('stop');
    await this.ticking;
  }

  async graceLeases(): Promise<void> {
    await this.deps.store.graceLeases(this.deps.database.db, this.later(this.options.leaseTtlMs));
  }

  private async doTick(): Promise<void> {
    const db = this.deps.database.db;
    const now = this.now();
    for (const job of await this.deps.store.expiredLeases(db, now)) await this.expireJob(job, now);
    for (const id of await this.deps.store.activeRunIds(db)) await this.advanceRun(id);
  }

  private async expireJob(job: JobRow, now: string): Promise<void> {
    const ctx = this.schedulerCtx();
    const changed = await this.maybe(ctx, async (tx, record) => {
      const run = (await this.deps.store.run(tx, job.run_id, true))!;
      const resource = { type: 'job', id: job.id };
      if (job.state === 'queued') {
        if (
          !(await this.finishJob(
            tx,
            job,
            { state: 'queued', lease_id: null },
            'failed',
            'RUNNER_LOST',
          ))
        )
          throw new NoChange();
        record({
          action: 'executions.job.failed',
          resource,
          details: { reason: 'RUNNER_LOST', attempt: job.attempt },
        });
        return true;
      }
      const from = { state: 'leased', lease_id: job.lease_id };
      if (job.deadline_at && job.deadline_at < now) {
        if (!(await this.finishJob(tx, job, from, 'failed', 'TIMEOUT'))) throw new NoChange();
        record({
          action: 'executions.job.failed',
          resource,
          details: { reason: 'TIMEOUT', runner: job.runner_id },
        });
        return true;
      }
      if (run.cancel_requested) {
        if (!(await this.finishJob(tx, job, from, 'cancelled', 'CANCELLED'))) throw new NoChange();
        record({
          action: 'executions.job.cancelled',
          resource,
          details: { reason: 'lease expired after cancel' },
        });
        return true;
      }
      if (job.attempt < job.max_attempts) {
        jobTransition(job.state as JobState, { type: 'requeue' });
        const ok = await this.deps.store.transitionJob(tx, job.id, from, {
          state: 'queued',
          runner_id: null,
          lease_id: null,
          lease_expires_at: null,
          deadline_at: this.later(this.options.requeueTimeoutMs),
        });
        if (!ok) throw new NoChange();
        record({
          action: 'executions.job.lease-expired',
          resource,
          details: { runner: job.runner_id, attempt: job.attempt, requeued: true },
        });
        return true;
      }
      if (!(await this.finishJob(tx, job, from, 'failed', 'RUNNER_LOST'))) throw new NoChange();
      record({
        action: 'executions.job.failed',
        resource,
        details: { reason: 'RUNNER_LOST', runner: job.runner_id, attempt: job.attempt },
      });
      return true;
    });
    if (changed) {
      this.notifier.emit('job');
      await this.advanceRun(job.run_id);
    }
  }

  // Ends a job and its unfinished steps (running → the result, pending → skipped).
  private async finishJob(
    tx: AnyTx,
    job: JobRow,
    from: { state: string; lease_id?: string | null },
    result: StepResult,
    reason: string | null,
  ): Promise<boolean> {
    jobTransition(from.state as JobState, { type: 'finish', result });
    const ok = await this.deps.store.transitionJob(tx, job.id, from, {
      state: result,
      reason,
      finished_at: this.now(),
      lease_expires_at: null,
    });
    if (!ok) return false;
    for (const step of await this.deps.store.steps(tx, job.id)) {
      const s = step.state as StepState;
      if (s === 'running')
        await this.deps.store.updateStep(tx, job.id, step.idx, {
          state: stepTransition(s, {
            type: 'finish',
            result: result === 'succeeded' ? 'failed' : result,
          }),
          reason,
          finished_at: this.now(),
        });
      else if (s === 'pending')
        await this.deps.store.updateStep(tx, job.id, step.idx, {
          state: stepTransition(s, { type: 'skip' }),
        });
    }
    return true;
  }

  // Moves one run forward as far as it can go, in one transaction. Every transition is an
  // audit entry; on PostgreSQL the run row is locked so replicas advance a run one at a time.
  async advanceRun(runId: string): Promise<void> {
    const ctx = this.schedulerCtx();
    let queuedJobs = false;
    const finishedDeploys: Parameters<NonNullable<DeploymentGatePort['finished']>>[0][] = [];
    let finished = false;
    await this.maybe(ctx, async (tx, record) => {
      const store = this.deps.store;
      const run = await store.run(tx, runId, true);
      if (!run || terminalRunStates.includes(run.state as RunState)) throw new NoChange();
      const pv = await this.deps.pipelines.version(
        run.project,
        run.pipeline,
        run.pipeline_version,
        tx,
      );
      const spec = pv.spec;
      const stages = await store.stages(tx, runId);
      const jobs = await store.jobsOfRun(tx, runId);
      const now = this.now();
      let changes = 0;
      const runRes = { type: 'run', id: runId };
      const cancel = run.cancel_requested === 1;
      const rollback = rollbackTargetOf(JSON.parse(run.trigger));

      const setStage = async (
        stage: StageRow,
        next: StageState,
        extra: Partial<StageRow> = {},
        details: Record<string, unknown> = {},
      ) => {
        const terminal = terminalStageStates.includes(next);
        const set: Partial<StageRow> = {
          state: next,
          ...(stage.started_at ||
          next === 'pending' ||
          next === 'waiting' ||
          next === 'skipped' ||
          gateBlockedStates.includes(next)
            ? {}
            : { started_at: now }),
          ...(terminal ? { finished_at: now } : {}),
          ...extra,
        };
        await store.updateStage(tx, runId, stage.idx, set);
        Object.assign(stage, set);
        if (terminal && stage.environment)
          await store.unlock(tx, run.project, stage.environment, `${runId}/${stage.idx}`);
        if (
          stage.environment &&
          (next === 'succeeded' || next === 'failed' || next === 'rolled_back')
        )
          finishedDeploys.push({
            run: gateRun(run),
            stage: { idx: stage.idx, name: stage.name, environment: stage.environment },
            result: next,
          });
        record({
          action: `executions.stage.${next.replace(/_/g, '-')}`,
          resource: { type: 'stage', id: `${runId}/${stage.name}` },
          details: { run: runId, ...details },
        });
        changes++;
      };

      const createJob = async (stage: StageRow, kind: 'main' | 'rollback', generation: number) => {
        const stageSpec = spec.stages[stage.idx]!;
        const steps = kind === 'main' ? stageSpec.steps : (stageSpec.rollback ?? []);
        const job: JobRow = {
          id: newId('job'),
          run_id: runId,
          stage_idx: stage.idx,
          kind,
          generation,
          pool: stage.pool,
          state: 'queued',
          attempt: 0,
          max_attempts: this.options.maxAttempts,
          runner_id: null,
          lease_id: null,
          lease_expires_at: null,
          deadline_at: null,
          reason: null,
          created_at: now,
          leased_at: null,
          finished_at: null,
        };
        const stepRows: StepRow[] = steps.map((s, idx) => ({
          job_id: job.id,
          idx,
          name: s.name,
          state: 'pending',
          exit_code: null,
          attempts: 0,
          reason: null,
          log_digest: null,
          started_at: null,
          finished_at: null,
        }));
        await store.insertJob(tx, job, stepRows);
        jobs.push(job);
        record({
          action: 'executions.job.queued',
          resource: { type: 'job', id: job.id },
          details: { run: runId, stage: stage.name, kind, generation, pool: job.pool },
        });
        queuedJobs = true;
        changes++;
      };

      // Cancellation: queued jobs end now; leased ones end when their runner reports.
      if (cancel) {
        for (const job of jobs) {
          if (job.state !== 'queued') continue;
          if (await this.finishJob(tx, job, { state: 'queued' }, 'cancelled', 'CANCELLED')) {
            job.state = 'cancelled';
            record({
              action: 'executions.job.cancelled',
              resource: { type: 'job', id: job.id },
              details: { run: runId },
            });
            changes++;
          }
        }
      }

      if (run.state === 'queued') {
        if (cancel) {
          for (const stage of stages)
            await setStage(stage, stageTransition(stage.state as StageState, { type: 'cancel' }));
          const next = runTransition('queued', { type: 'finish', result: 'cancelled' });
          await store.updateRun(tx, runId, { state: next, finished_at: now, reason: 'CANCELLED' });
          record({ action: 'executions.run.cancelled', resource: runRes });
          finished = true;
          return;
        }
        const limit = spec.concurrency ?? this.options.defaultConcurrency;
        await store.lockPipeline(tx, run.project, run.pipeline);
        if ((await store.countRunning(tx, run.project, run.pipeline)) >= limit)
          throw new NoChange();
        if ((await store.olderQueued(tx, run)) > 0) throw new NoChange();
        await store.updateRun(tx, runId, {
          state: runTransition('queued', { type: 'start' }),
          started_at: now,
        });
        run.state = 'running';
        record({
          action: 'executions.run.started',
          resource: runRes,
          details: { version: run.pipeline_version },
        });
        changes++;
      }

      const byName = new Map(stages.map((s) => [s.name, s]));
      for (const stage of stages) {
        const stageSpec = spec.stages[stage.idx]!;
        const state = stage.state as StageState;
        const current = (kind: 'main' | 'rollback') =>
          jobs.find(
            (j) =>
              j.stage_idx === stage.idx && j.kind === kind && j.generation === stage.generation,
          );
        switch (state) {
          case 'pending':
          case 'waiting':
          case 'blocked_by_freeze':
          case 'waiting_for_approval':
          case 'blocked': {
            if (cancel) {
              await setStage(stage, stageTransition(state, { type: 'cancel' }));
              break;
            }
            const needs = stageNeeds(spec, stage.idx).map((n) => byName.get(n)!);
            if (needs.some((n) => !terminalStageStates.includes(n.state as StageState))) break;
            if (
              !needs.every(
                (n) =>
                  n.state === 'succeeded' ||
                  n.state === 'ignored' ||
                  skippedByRollback(n, rollback),
              )
            ) {
              if (state === 'pending')
                await setStage(
                  stage,
                  stageTransition(state, { type: 'skip' }),
                  {},
                  { reason: 'a needed stage did not succeed' },
                );
              break;
            }
            if (stage.environment && this.deps.gate) {
              const verdict = await this.deps.gate.check(tx, record, {
                run: gateRun(run),
                stage: { idx: stage.idx, name: stage.name, environment: stage.environment },
                point: 'stage',
                at: this.deps.clock.now(),
              });
              if (verdict.recorded) changes++;
              if (!verdict.allowed) {
                if (state !== verdict.status)
                  await setStage(
                    stage,
                    stageTransition(state, { type: 'block', status: verdict.status }),
                    { reason: verdict.summary ?? verdict.status },
                    { environment: stage.environment },
                  );
                break;
              }
            }
            if (stage.environment) {
              const locked = await store.tryLock(
                tx,
                run.project,
                stage.environment,
                `${runId}/${stage.idx}`,
                now,
              );
              if (!locked) {
                if (state === 'pending')
                  await setStage(
                    stage,
                    stageTransition(state, { type: 'wait-for-environment' }),
                    {},
                    { environment: stage.environment },
                  );
                break;
              }
            }
            await setStage(
              stage,
              stageTransition(state, { type: 'start' }),
              gateBlockedStates.includes(state) ? { reason: null } : {},
            );
            await createJob(stage, 'main', stage.generation);
            break;
          }
          case 'running': {
            const job = current('main');
            if (!job) {
              await createJob(stage, 'main', stage.generation);
              break;
            }
            const js = job.state as JobState;
            if (!terminalJobStates.includes(js)) break;
            if (js === 'succeeded') {
              await setStage(
                stage,
                stageTransition(state, { type: 'finish', result: 'succeeded' }),
              );
              if (stage.environment)
                await store.recordRelease(tx, run.project, stage.environment, runId, now);
            } else if (js === 'cancelled' || cancel) {
              await setStage(stage, stageTransition(state, { type: 'cancel' }), {
                reason: job.reason ?? 'CANCELLED',
              });
            } else {
              const strategy = stageSpec.failureStrategy ?? 'abort';
              switch (strategy) {
                case 'retry':
                  if (stage.generation < (stageSpec.retries ?? 1) + 1) {
                    await setStage(
                      stage,
                      stageTransition(state, { type: 'retry' }),
                      { generation: stage.generation + 1 },
                      { failed: job.reason },
                    );
                    await createJob(stage, 'main', stage.generation);
                  } else {
                    await setStage(
                      stage,
                      stageTransition(state, { type: 'finish', result: 'failed' }),
                      { reason: job.reason },
                    );
                  }
                  break;
                case 'rollback':
                  await setStage(
                    stage,
                    stageTransition(state, { type: 'roll-back' }),
                    { reason: job.reason },
                    { failed: job.reason },
                  );
                  await createJob(stage, 'rollback', stage.generation);
                  break;
                case 'ignore':
                  await setStage(
                    stage,
                    stageTransition(state, { type: 'finish', result: 'ignored' }),
                    { reason: job.reason },
                  );
                  break;
                case 'abort':
                  await setStage(
                    stage,
                    stageTransition(state, { type: 'finish', result: 'failed' }),
                    { reason: job.reason },
                  );
                  break;
                default: {
                  const never: never = strategy;
                  throw new Error(`unknown strategy ${String(never)}`);
                }
              }
            }
            break;
          }
          case 'rolling_back': {
            const job = current('rollback');
            if (!job) {
              await createJob(stage, 'rollback', stage.generation);
              break;
            }
            const js = job.state as JobState;
            if (!terminalJobStates.includes(js)) break;
            await setStage(
              stage,
              stageTransition(state, {
                type: 'finish',
                result: js === 'succeeded' ? 'rolled_back' : 'failed',
              }),
              js === 'succeeded' ? {} : { reason: job.reason ?? 'ROLLBACK_FAILED' },
            );
            break;
          }
          case 'succeeded':
          case 'ignored':
          case 'rolled_back':
          case 'failed':
          case 'skipped':
          case 'cancelled':
            break;
          default: {
            const never: never = state;
            throw new Error(`unknown stage state ${String(never)}`);
          }
        }
      }

      if (stages.every((s) => terminalStageStates.includes(s.state as StageState))) {
        const bad = stages.find((s) => ['failed', 'rolled_back', 'cancelled'].includes(s.state));
        const result: 'succeeded' | 'failed' | 'cancelled' =
          cancel && stages.some((s) => s.state === 'cancelled')
            ? 'cancelled'
            : bad || stages.some((s) => s.state === 'skipped' && !skippedByRollback(s, rollback))
              ? 'failed'
              : 'succeeded';
        const reason =
          result === 'succeeded'
            ? null
            : result === 'cancelled'
              ? 'CANCELLED'
              : (bad?.reason ?? 'STAGE_FAILED');
        await store.updateRun(tx, runId, {
          state: runTransition(run.state as RunState, { type: 'finish', result }),
          reason,
          finished_at: now,
        });
        record({
          action: `executions.run.${result}`,
          resource: runRes,
          details: { reason, commit: run.commit_sha },
        });
        changes++;
        finished = true;
      }
      if (changes === 0) throw new NoChange();
    });
    if (queuedJobs) this.notifier.emit('job');
    // Not awaited: a slow ticket system must not hold up the scheduler or the runner.
    for (const f of finishedDeploys)
      void this.deps.gate?.finished?.(f).catch((err: unknown) => this.deps.onError?.(err));
    if (finished && this.timer)
      setImmediate(() => void this.tick().catch((err) => this.deps.onError?.(err)));
  }

  // ---------------------------------------------------------------- runner protocol

  async lease(
    ctx: RequestContext,
    input: { runnerId: string; pools: readonly string[] },
  ): Promise<JobPayload | undefined> {
    const leaseId = randomBytes(16).toString('hex');
    const leased = await this.maybe(ctx, async (tx, record) => {
      const job = await this.deps.store.nextQueuedJob(tx, input.pools);
      if (!job) throw new NoChange();
      const run = (await this.deps.store.run(tx, job.run_id))!;
      const pv = await this.deps.pipelines.version(
        run.project,
        run.pipeline,
        run.pipeline_version,
        tx,
      );
      const stageSpec = pv.spec.stages[job.stage_idx]!;
      if (job.kind === 'main' && stageSpec.environment && this.deps.gate) {
        const stage = (await this.deps.store.stages(tx, run.id)).find(
          (s) => s.idx === job.stage_idx,
        )!;
        const verdict = await this.deps.gate.check(tx, record, {
          run: gateRun(run),
          stage: { idx: stage.idx, name: stage.name, environment: stageSpec.environment },
          point: 'lease',
          at: this.deps.clock.now(),
        });
        if (!verdict.allowed) {
          // The job is withdrawn; the stage waits blocked and gets a fresh job once allowed.
          if (!(await this.finishJob(tx, job, { state: 'queued' }, 'cancelled', 'GATE_BLOCKED')))
            throw new NoChange();
          await this.deps.store.updateStage(tx, run.id, stage.idx, {
            state: stageTransition(stage.state as StageState, {
              type: 'block',
              status: verdict.status,
            }),
            generation: stage.generation + 1,
            reason: verdict.summary ?? verdict.status,
          });
          record({
            action: `executions.stage.${verdict.status.replace(/_/g, '-')}`,
            resource: { type: 'stage', id: `${run.id}/${stage.name}` },
            details: { run: run.id, job: job.id, environment: stageSpec.environment },
          });
          return undefined;
        }
      }
      const steps = job.kind === 'main' ? stageSpec.steps : (stageSpec.rollback ?? []);
      const timeoutMs =
        steps.reduce(
          (sum, s) =>
            sum +
            (s.timeout ? parseDuration(s.timeout)! : defaultStepTimeoutMs) * ((s.retries ?? 0) + 1),
          0,
        ) + 300_000;
      const now = this.now();
      const set: Partial<JobRow> = {
        state: jobTransition('queued', { type: 'lease' }),
        attempt: job.attempt + 1,
        runner_id: input.runnerId,
        lease_id: leaseId,
        lease_expires_at: this.later(this.options.leaseTtlMs),
        leased_at: now,
        deadline_at: this.later(timeoutMs),
      };
      if (!(await this.deps.store.transitionJob(tx, job.id, { state: 'queued' }, set)))
        throw new NoChange();
      if (job.attempt > 0) await this.deps.store.resetSteps(tx, job.id);
      record({
        action: 'executions.job.leased',
        resource: { type: 'job', id: job.id },
        details: { run: run.id, runner: input.runnerId, attempt: job.attempt + 1 },
      });
      return { job: { ...job, ...set } as JobRow, run, spec: pv.spec, steps };
    });
    if (!leased) return undefined;
    return this.payload(leased.job, leased.run, leased.spec, leased.steps);
  }

  // Long poll: waits up to waitMs for a job of the runner's pools.
  async leaseWait(
    ctx: RequestContext,
    input: { runnerId: string; pools: readonly string[]; waitMs: number },
  ): Promise<JobPayload | undefined> {
    const until = Date.now() + input.waitMs;
    for (;;) {
      const job = await this.lease(ctx, input);
      if (job) return job;
      const remaining = until - Date.now();
      if (remaining <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.notifier.off('job', done);
          this.notifier.off('stop', done);
          resolve();
        };
        const t = setTimeout(done, Math.min(remaining, 1000));
        this.notifier.once('job', done);
        this.notifier.once('stop', done);
      });
      if (this.stopped) return undefined;
    }
  }

  private async payload(
    job: JobRow,
    run: RunRow,
    spec: PipelineSpec,
    steps: StepSpec[],
  ): Promise<JobPayload> {
    const db = this.deps.database.db;
    const stage = spec.stages[job.stage_idx]!;
    const files = await this.deps.store.filesOfRun(db, run.id);
    const artifacts = files
      .filter((f) => f.kind === 'artifact')
      .map((f) => ({ env: artifactEnvName(f.name), name: f.name, digest: f.digest, path: f.path }));
    if (stage.environment) {
      const prev = await this.deps.store.previousRelease(
        db,
        run.project,
        stage.environment,
        run.id,
      );
      if (prev)
        for (const f of await this.deps.store.filesOfRun(db, prev))
          if (f.kind === 'artifact')
            artifacts.push({
              env: artifactEnvName(f.name, true),
              name: f.name,
              digest: f.digest,
              path: f.path,
            });
    }
    const secrets =
      (await this.deps.secrets?.forJob({
        project: run.project,
        environment: stage.environment ?? null,
        pool: job.pool,
      })) ?? {};
    return {
      jobId: job.id,
      leaseId: job.lease_id!,
      leaseTtlMs: this.options.leaseTtlMs,
      attempt: job.attempt,
      runId: run.id,
      project: run.project,
      pipeline: run.pipeline,
      pipelineVersion: run.pipeline_version,
      stage: stage.name,
      kind: job.kind as 'main' | 'rollback',
      environment: stage.environment ?? null,
      repository: run.repository,
      branch: run.branch,
      commit: run.commit_sha,
      inputs: JSON.parse(run.inputs) as Record<string, string>,
      steps: steps.map((s) => ({
        name: s.name,
        run: s.run,
        env: s.env ?? {},
        timeoutMs: s.timeout ? parseDuration(s.timeout)! : null,
        retries: s.retries ?? 0,
        evidence: s.evidence ?? [],
        artifacts: s.artifacts ?? [],
      })),
      artifacts,
      secrets,
    };
  }

  private async leased(tx: AnyTx, jobId: string, leaseId: string): Promise<JobRow> {
    const job = await this.deps.store.job(tx, jobId);
    if (!job) throw new DomainError(executionErrors.EXECUTIONS_JOB_NOT_FOUND);
    if (job.state !== 'leased' || job.lease_id !== leaseId)
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    return job;
  }

  async heartbeat(
    _ctx: RequestContext,
    jobId: string,
    leaseId: string,
  ): Promise<{ cancel: boolean }> {
    const db = this.deps.database.db;
    if (
      !(await this.deps.store.extendLease(db, jobId, leaseId, this.later(this.options.leaseTtlMs)))
    )
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    const job = (await this.deps.store.job(db, jobId))!;
    const run = await this.deps.store.run(db, job.run_id);
    return { cancel: run?.cancel_requested === 1 };
  }

  async reportCommit(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    commit: string,
  ): Promise<{ commit: string }> {
    if (!/^[0-9a-f]{40,64}$/.test(commit))
      throw new DomainError(executionErrors.EXECUTIONS_COMMIT_INVALID);
    const result = await this.maybe(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const run = (await this.deps.store.run(tx, job.run_id, true))!;
      if (run.commit_sha && commit.startsWith(run.commit_sha)) {
        if (run.commit_sha === commit) throw new NoChange();
      } else if (run.commit_sha) {
        throw new DomainError(
          executionErrors.EXECUTIONS_COMMIT_INVALID,
          `run is pinned to ${run.commit_sha}`,
        );
      }
      await this.deps.store.updateRun(tx, run.id, { commit_sha: commit });
      record({
        action: 'executions.run.commit-resolved',
        resource: { type: 'run', id: run.id },
        details: { commit },
      });
      return commit;
    });
    return { commit: result ?? commit };
  }

  async stepStarted(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    idx: number,
  ): Promise<void> {
    const withdrawn = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const step = (await this.deps.store.steps(tx, jobId)).find((s) => s.idx === idx);
      if (!step)
        throw new DomainError(
          executionErrors.EXECUTIONS_JOB_NOT_FOUND,
          `job ${jobId} has no step ${idx}`,
        );
      const blocked = await this.gateBeforeStep(tx, record, job, idx);
      if (blocked) return blocked;
      const next = stepTransition(step.state as StepState, { type: 'start' });
      await this.deps.store.updateStep(tx, jobId, idx, { state: next, started_at: this.now() });
      record({
        action: 'executions.step.started',
        resource: { type: 'step', id: `${jobId}/${step.name}` },
      });
      return undefined;
    });
    if (withdrawn) this.withdrawnByGate(withdrawn);
  }

  // The gate once more right before each deploy step, so a freeze (or a voided approval)
  // that begins while a deploy stage runs stops it before its next step: the job ends as
  // cancelled, the stage waits in the blocked state and later gets a fresh job. Returns the
  // gate's summary when it withdrew the job.
  private async gateBeforeStep(
    tx: AnyTx,
    record: RecordAudit,
    job: JobRow,
    stepIdx: number,
  ): Promise<string | undefined> {
    if (job.kind !== 'main' || !this.deps.gate) return undefined;
    const run = (await this.deps.store.run(tx, job.run_id))!;
    const stage = (await this.deps.store.stages(tx, run.id)).find((s) => s.idx === job.stage_idx)!;
    if (!stage.environment) return undefined;
    const verdict = await this.deps.gate.check(tx, record, {
      run: gateRun(run),
      stage: { idx: stage.idx, name: stage.name, environment: stage.environment },
      point: 'step',
      at: this.deps.clock.now(),
    });
    if (verdict.allowed) return undefined;
    const summary = verdict.summary ?? verdict.status;
    await this.finishJob(
      tx,
      job,
      { state: 'leased', lease_id: job.lease_id },
      'cancelled',
      'GATE_BLOCKED',
    );
    await this.deps.store.updateStage(tx, run.id, stage.idx, {
      state: stageTransition(stage.state as StageState, { type: 'block', status: verdict.status }),
      generation: stage.generation + 1,
      reason: summary,
    });
    record({
      action: `executions.stage.${verdict.status.replace(/_/g, '-')}`,
      resource: { type: 'stage', id: `${run.id}/${stage.name}` },
      details: { run: run.id, job: job.id, step: stepIdx, environment: stage.environment },
    });
    return summary;
  }

  // After the withdrawal committed: the runner learns through the lease-lost answer it
  // already handles (stop, report nothing more).
  private withdrawnByGate(summary: string): never {
    throw new DomainError(
      executionErrors.EXECUTIONS_LEASE_LOST,
      `the deployment gate withdrew this job before its next step: ${summary}`,
    );
  }

  async appendLog(
    _ctx: RequestContext,
    jobId: string,
    leaseId: string,
    chunk: { step: number; seq: number; content: string; sha256: string },
  ): Promise<void> {
    if (sha256(chunk.content) !== chunk.sha256)
      throw new DomainError(executionErrors.EXECUTIONS_DIGEST_MISMATCH);
    const db = this.deps.database.db;
    const job = await this.deps.store.job(db, jobId);
    if (!job) throw new DomainError(executionErrors.EXECUTIONS_JOB_NOT_FOUND);
    if (job.state !== 'leased' || job.lease_id !== leaseId)
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    // Defence in depth: the runner masks secrets; the server masks again before storing.
    const content = await this.mask(job, chunk.content);
    // Log chunks are data sealed by the step's audit entry (its log digest), not state changes.
    await this.deps.store.appendLog(db, {
      run_id: job.run_id,
      job_id: jobId,
      attempt: job.attempt,
      step_idx: chunk.step,
      seq: chunk.seq,
      content,
      sha256: content === chunk.content ? chunk.sha256 : sha256(content),
      created_at: this.now(),
    });
  }

  private async mask(job: JobRow, content: string): Promise<string> {
    if (!this.deps.secrets) return content;
    const run = (await this.deps.store.run(this.deps.database.db, job.run_id))!;
    const stage = (await this.deps.store.stages(this.deps.database.db, job.run_id)).find(
      (s) => s.idx === job.stage_idx,
    );
    const secrets = await this.deps.secrets.forJob({
      project: run.project,
      environment: stage?.environment ?? null,
      pool: job.pool,
    });
    let out = content;
    for (const value of Object.values(secrets))
      if (value.length >= 3) out = out.split(value).join('***');
    return out;
  }

  async uploadFile(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    file: {
      step: number;
      kind: 'artifact' | 'evidence';
      name: string;
      type: string;
      path: string;
      sha256: string;
      contentBase64: string;
    },
  ): Promise<{ id: string; digest: string; size: number }> {
    const bytes = Buffer.from(file.contentBase64, 'base64');
    if (sha256(bytes) !== file.sha256)
      throw new DomainError(executionErrors.EXECUTIONS_DIGEST_MISMATCH);
    const digest = `sha256:${file.sha256}`;
    return this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const id = newId('file');
      await this.deps.store.putBlob(tx, digest, bytes.length, file.contentBase64);
      await this.deps.store.insertFile(tx, {
        id,
        run_id: job.run_id,
        job_id: jobId,
        step_idx: file.step,
        kind: file.kind,
        name: file.name,
        type: file.type,
        path: file.path,
        digest,
        size: bytes.length,
        created_at: this.now(),
      });
      record({
        action: `executions.${file.kind}.recorded`,
        resource: { type: file.kind, id },
        details: {
          run: job.run_id,
          name: file.name,
          type: file.type,
          path: file.path,
          digest,
          size: bytes.length,
        },
      });
      return { id, digest, size: bytes.length };
    });
  }

  async stepFinished(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    idx: number,
    report: {
      result: StepResult;
      exitCode: number | null;
      attempts: number;
      reason?: string | undefined;
      // Starts the following step in the same transaction (one round trip between steps).
      next?: number | undefined;
    },
  ): Promise<void> {
    const withdrawn = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const steps = await this.deps.store.steps(tx, jobId);
      const step = steps.find((s) => s.idx === idx);
      if (!step)
        throw new DomainError(
          executionErrors.EXECUTIONS_JOB_NOT_FOUND,
          `job ${jobId} has no step ${idx}`,
        );
      const next = stepTransition(step.state as StepState, {
        type: 'finish',
        result: report.result,
      });
      const chunks = await this.deps.store.logChunks(tx, jobId, job.attempt, idx);
      const logDigest = `sha256:${sha256(chunks.map((c) => c.sha256).join('\n'))}`;
      await this.deps.store.updateStep(tx, jobId, idx, {
        state: next,
        exit_code: report.exitCode,
        attempts: report.attempts,
        reason: report.reason ?? null,
        log_digest: logDigest,
        finished_at: this.now(),
      });
      record({
        action: `executions.step.${next}`,
        resource: { type: 'step', id: `${jobId}/${step.name}` },
        details: {
          run: job.run_id,
          exitCode: report.exitCode,
          attempts: report.attempts,
          logDigest,
          logChunks: chunks.length,
          ...(report.reason ? { reason: report.reason } : {}),
        },
      });
      if (report.next !== undefined && next === 'succeeded') {
        const following = steps.find((s) => s.idx === report.next);
        if (!following)
          throw new DomainError(
            executionErrors.EXECUTIONS_JOB_NOT_FOUND,
            `job ${jobId} has no step ${report.next}`,
          );
        const blocked = await this.gateBeforeStep(tx, record, job, following.idx);
        if (blocked) return blocked;
        await this.deps.store.updateStep(tx, jobId, following.idx, {
          state: stepTransition(following.state as StepState, { type: 'start' }),
          started_at: this.now(),
        });
        record({
          action: 'executions.step.started',
          resource: { type: 'step', id: `${jobId}/${following.name}` },
        });
      }
      return undefined;
    });
    if (withdrawn) this.withdrawnByGate(withdrawn);
  }

  async completeJob(
    ctx: RequestContext,
    jobId: string,
    leaseId: string,
    report: { result: StepResult; reason?: string | undefined },
  ): Promise<void> {
    const job = await this.deps.uow.run(ctx, async (tx, record) => {
      const job = await this.leased(tx, jobId, leaseId);
      const reason =
        report.result === 'succeeded'
          ? null
          : (report.reason ?? (report.result === 'cancelled' ? 'CANCELLED' : 'STEP_FAILED'));
      if (
        !(await this.finishJob(
          tx,
          job,
          { state: 'leased', lease_id: leaseId },
          report.result,
          reason,
        ))
      )
        throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
      record({
        action: `executions.job.${report.result}`,
        resource: { type: 'job', id: jobId },
        details: {
          run: job.run_id,
          runner: job.runner_id,
          attempt: job.attempt,
          ...(reason ? { reason } : {}),
        },
      });
      return job;
    });
    await this.advanceRun(job.run_id);
  }

  async blob(digest: string): Promise<{ size: number; contentBase64: string }> {
    const row = await this.deps.store.blob(this.deps.database.db, digest);
    if (!row) throw new DomainError(executionErrors.EXECUTIONS_BLOB_NOT_FOUND);
    return { size: row.size, contentBase64: row.content_base64 };
  }
}
