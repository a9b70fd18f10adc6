import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { stageNeeds, type PipelineSpec } from '../pipelines/index.ts';
import {
  gateBlockedStates,
  runTransition,
  stageTransition,
  terminalJobStates,
  terminalStageStates,
  type JobState,
  type RunResult,
  type RunState,
  type StageState,
} from './execution-state.ts';
import type { JobRow, KyselyExecutionStore, RunRow, StageRow } from './execution-store.ts';
import { gateRun, type DeploymentGatePort, type GateStage } from './gate-port.ts';
import { auditSuffix, lockHolder, type JobLifecycle } from './job-lifecycle.ts';
import { rollbackTargetOf, skippedByRollback, type RollbackTarget } from './rollback-plan.ts';

export interface FinishedDeploy {
  stage: GateStage;
  result: 'succeeded' | 'failed' | 'rolled_back';
}

// One pass of the scheduler over one run, inside one transaction: every stage moves as far
// as it can, each transition an audit entry. `changes` counts what was written.
export class RunPass {
  changes = 0;
  queuedJobs = false;
  finished = false;
  readonly finishedDeploys: FinishedDeploy[] = [];
  private readonly now: string;
  private readonly cancel: boolean;
  private readonly rollback: RollbackTarget | undefined;
  private readonly byName: Map<string, StageRow>;

  constructor(
    private readonly deps: {
      tx: AnyTx;
      record: RecordAudit;
      store: KyselyExecutionStore;
      jobs: JobLifecycle;
      gate?: DeploymentGatePort | undefined;
      at: Date;
      defaultConcurrency: number;
      gateWaitTimeoutMs: number;
      // The runner pool of the environment in force now: a deploy stage always runs there.
      environmentPool: (
        project: string,
        environment: string,
        tx?: AnyTx,
      ) => Promise<string | undefined>;
    },
    private readonly run: RunRow,
    private readonly spec: PipelineSpec,
    private readonly stages: StageRow[],
    private readonly jobRows: JobRow[],
  ) {
    this.now = deps.at.toISOString();
    this.cancel = run.cancel_requested === 1;
    this.rollback = rollbackTargetOf(JSON.parse(run.trigger));
    this.byName = new Map(stages.map((s) => [s.name, s]));
  }

  private get runRes() {
    return { type: 'run', id: this.run.id };
  }

  async execute(): Promise<void> {
    if (this.cancel) await this.cancelQueuedJobs();
    if (this.run.state === 'queued') {
      if (this.cancel) return this.cancelQueuedRun();
      if (!(await this.startRun())) return;
    }
    for (const stage of this.stages) await this.advanceStage(stage);
    await this.finishRunIfDone();
  }

  // ---- run level

  // Cancellation: queued jobs end now; leased ones end when their runner reports.
  private async cancelQueuedJobs(): Promise<void> {
    for (const job of this.jobRows) {
      if (job.state !== 'queued') continue;
      if (
        await this.deps.jobs.finish(
          this.deps.tx,
          job,
          { state: 'queued' },
          'cancelled',
          'CANCELLED',
        )
      ) {
        job.state = 'cancelled';
        this.deps.record({
          action: 'executions.job.cancelled',
          resource: { type: 'job', id: job.id },
          details: { run: this.run.id },
        });
        this.changes++;
      }
    }
  }

  private async cancelQueuedRun(): Promise<void> {
    for (const stage of this.stages)
      await this.setStage(stage, stageTransition(stage.state as StageState, { type: 'cancel' }));
    const next = runTransition('queued', { type: 'finish', result: 'cancelled' });
    await this.deps.store.updateRun(this.deps.tx, this.run.id, {
      state: next,
      finished_at: this.now,
      reason: 'CANCELLED',
    });
    this.deps.record({ action: 'executions.run.cancelled', resource: this.runRes });
    await this.ended('CANCELLED');
  }

  // A queued run starts when its pipeline is under its concurrency limit and no older run of
  // the pipeline waits. False when it must keep waiting.
  private async startRun(): Promise<boolean> {
    const { tx, store } = this.deps;
    const run = this.run;
    const limit = this.spec.concurrency ?? this.deps.defaultConcurrency;
    await store.lockPipeline(tx, run.project, run.pipeline);
    if ((await store.countRunning(tx, run.project, run.pipeline)) >= limit) return false;
    if ((await store.olderQueued(tx, run)) > 0) return false;
    await store.updateRun(tx, run.id, {
      state: runTransition('queued', { type: 'start' }),
      started_at: this.now,
    });
    run.state = 'running';
    this.deps.record({
      action: 'executions.run.started',
      resource: this.runRes,
      details: { version: run.pipeline_version },
    });
    this.changes++;
    return true;
  }

  private async finishRunIfDone(): Promise<void> {
    const stages = this.stages;
    if (!stages.every((s) => terminalStageStates.includes(s.state as StageState))) return;
    const result = runResult(stages, this.cancel, this.rollback);
    const bad = stages.find((s) =>
      ['failed', 'rolled_back', 'cancelled', 'rejected'].includes(s.state),
    );
    const reason =
      result === 'succeeded'
        ? null
        : result === 'cancelled'
          ? 'CANCELLED'
          : (bad?.reason ?? 'STAGE_FAILED');
    await this.deps.store.updateRun(this.deps.tx, this.run.id, {
      state: runTransition(this.run.state as RunState, { type: 'finish', result }),
      reason,
      finished_at: this.now,
    });
    this.deps.record({
      action: `executions.run.${result}`,
      resource: this.runRes,
      details: { reason, commit: this.run.commit_sha },
    });
    this.changes++;
    await this.ended(reason ?? 'SUCCEEDED');
  }

  private async ended(reason: string): Promise<void> {
    this.finished = true;
    await this.deps.gate?.runEnded?.(this.deps.tx, this.deps.record, {
      run: gateRun(this.run),
      reason,
    });
  }

  // ---- stage level

  private async advanceStage(stage: StageRow): Promise<void> {
    const state = stage.state as StageState;
    switch (state) {
      case 'pending':
      case 'waiting':
      case 'blocked_by_freeze':
      case 'waiting_for_approval':
      case 'blocked':
        return this.tryStart(stage, state);
      case 'running':
        return this.afterMainJob(stage, state);
      case 'rolling_back':
        return this.afterRollbackJob(stage);
      case 'succeeded':
      case 'ignored':
      case 'rolled_back':
      case 'failed':
      case 'skipped':
      case 'cancelled':
      case 'rejected':
        return;
      default: {
        const never: never = state;
        throw new Error(`unknown stage state ${String(never)}`);
      }
    }
  }

  private currentJob(stage: StageRow, kind: 'main' | 'rollback'): JobRow | undefined {
    return this.jobRows.find(
      (j) => j.stage_idx === stage.idx && j.kind === kind && j.generation === stage.generation,
    );
  }

  // A stage that has not started: its needs, the deployment gate, the environment lock.
  private async tryStart(stage: StageRow, state: StageState): Promise<void> {
    if (this.cancel) return this.setStage(stage, stageTransition(state, { type: 'cancel' }));
    if (this.waitedTooLong(stage))
      return this.setStage(stage, stageTransition(state, { type: 'expire' }), {
        reason: `GATE_WAIT_EXPIRED: waiting since ${stage.waiting_since} (${stage.reason ?? state})`,
      });
    const needs = stageNeeds(this.spec, stage.idx).map((n) => this.byName.get(n)!);
    if (needs.some((n) => !terminalStageStates.includes(n.state as StageState))) return;
    const satisfied = (n: StageRow) =>
      n.state === 'succeeded' || n.state === 'ignored' || skippedByRollback(n, this.rollback);
    if (!needs.every(satisfied)) {
      if (state === 'pending')
        await this.setStage(
          stage,
          stageTransition(state, { type: 'skip' }),
          {},
          { reason: 'a needed stage did not succeed' },
        );
      return;
    }
    if (stage.environment && !(await this.gatePasses(stage, state, stage.environment))) return;
    if (stage.environment) {
      const { tx, store } = this.deps;
      const holder = lockHolder(this.run.id, stage.idx);
      if (!(await store.tryLock(tx, this.run.project, stage.environment, holder, this.now))) {
        if (state === 'pending')
          await this.setStage(
            stage,
            stageTransition(state, { type: 'wait-for-environment' }),
            {},
            { environment: stage.environment },
          );
        return;
      }
    }
    await this.setStage(
      stage,
      stageTransition(state, { type: 'start' }),
      gateBlockedStates.includes(state) ? { reason: null } : {},
    );
    await this.createJob(stage, 'main');
  }

  private async gatePasses(
    stage: StageRow,
    state: StageState,
    environment: string,
  ): Promise<boolean> {
    const gate = this.deps.gate;
    if (!gate) return true;
    const verdict = await gate.check(this.deps.tx, this.deps.record, {
      run: gateRun(this.run),
      stage: { idx: stage.idx, name: stage.name, environment },
      point: 'stage',
      at: this.deps.at,
    });
    if (verdict.recorded) this.changes++;
    if (verdict.allowed) return true;
    if (verdict.final) {
      await this.setStage(
        stage,
        stageTransition(state, { type: 'reject' }),
        { reason: verdict.summary ?? 'APPROVAL_REJECTED' },
        { environment },
      );
      return false;
    }
    if (state !== verdict.status)
      await this.setStage(
        stage,
        stageTransition(state, { type: 'block', status: verdict.status }),
        { reason: verdict.summary ?? verdict.status },
        { environment },
      );
    return false;
  }

  private async afterMainJob(stage: StageRow, state: StageState): Promise<void> {
    const job = this.currentJob(stage, 'main');
    if (!job) return this.createJob(stage, 'main');
    const js = job.state as JobState;
    if (!terminalJobStates.includes(js)) return;
    if (js === 'succeeded') {
      await this.setStage(stage, stageTransition(state, { type: 'finish', result: 'succeeded' }));
      if (stage.environment)
        await this.deps.store.recordRelease(
          this.deps.tx,
          this.run.project,
          stage.environment,
          this.run.id,
          this.now,
        );
      return;
    }
    if (js === 'cancelled' || this.cancel)
      return this.setStage(stage, stageTransition(state, { type: 'cancel' }), {
        reason: job.reason ?? 'CANCELLED',
      });
    return this.onFailure(stage, state, job);
  }

  private async onFailure(stage: StageRow, state: StageState, job: JobRow): Promise<void> {
    const stageSpec = this.spec.stages[stage.idx]!;
    const strategy = stageSpec.failureStrategy ?? 'abort';
    const finish = (result: 'failed' | 'ignored') =>
      this.setStage(stage, stageTransition(state, { type: 'finish', result }), {
        reason: job.reason,
      });
    switch (strategy) {
      case 'retry':
        if (stage.generation >= (stageSpec.retries ?? 1) + 1) return finish('failed');
        await this.setStage(
          stage,
          stageTransition(state, { type: 'retry' }),
          { generation: stage.generation + 1 },
          { failed: job.reason },
        );
        return this.createJob(stage, 'main');
      case 'rollback':
        await this.setStage(
          stage,
          stageTransition(state, { type: 'roll-back' }),
          { reason: job.reason },
          { failed: job.reason },
        );
        return this.createJob(stage, 'rollback');
      case 'ignore':
        return finish('ignored');
      case 'abort':
        return finish('failed');
      default: {
        const never: never = strategy;
        throw new Error(`unknown strategy ${String(never)}`);
      }
    }
  }

  private async afterRollbackJob(stage: StageRow): Promise<void> {
    const job = this.currentJob(stage, 'rollback');
    if (!job) return this.createJob(stage, 'rollback');
    const js = job.state as JobState;
    if (!terminalJobStates.includes(js)) return;
    const ok = js === 'succeeded';
    await this.setStage(
      stage,
      stageTransition('rolling_back', { type: 'finish', result: ok ? 'rolled_back' : 'failed' }),
      ok ? {} : { reason: job.reason ?? 'ROLLBACK_FAILED' },
    );
  }

  private waitedTooLong(stage: StageRow): boolean {
    if (!stage.waiting_since) return false;
    return this.deps.at.getTime() - Date.parse(stage.waiting_since) > this.deps.gateWaitTimeoutMs;
  }

  // ---- writes

  private async createJob(stage: StageRow, kind: 'main' | 'rollback'): Promise<void> {
    if (stage.environment) {
      const pool =
        (await this.deps.environmentPool(this.run.project, stage.environment, this.deps.tx)) ??
        'default';
      if (pool !== stage.pool) {
        await this.deps.store.updateStage(this.deps.tx, this.run.id, stage.idx, { pool });
        stage.pool = pool;
      }
    }
    const job = await this.deps.jobs.create(this.deps.tx, this.deps.record, {
      run: this.run,
      stage,
      spec: this.spec,
      kind,
    });
    this.jobRows.push(job);
    this.queuedJobs = true;
    this.changes++;
  }

  private async setStage(
    stage: StageRow,
    next: StageState,
    extra: Partial<StageRow> = {},
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const { tx, store } = this.deps;
    const terminal = terminalStageStates.includes(next);
    const unstarted =
      next === 'pending' ||
      next === 'waiting' ||
      next === 'skipped' ||
      gateBlockedStates.includes(next);
    const waits = next === 'waiting' || gateBlockedStates.includes(next);
    const set: Partial<StageRow> = {
      state: next,
      ...(stage.started_at || unstarted ? {} : { started_at: this.now }),
      ...(terminal ? { finished_at: this.now } : {}),
      waiting_since: waits ? (stage.waiting_since ?? this.now) : null,
      ...extra,
    };
    await store.updateStage(tx, this.run.id, stage.idx, set);
    Object.assign(stage, set);
    if (terminal && stage.environment)
      await store.unlock(
        tx,
        this.run.project,
        stage.environment,
        lockHolder(this.run.id, stage.idx),
      );
    if (stage.environment && (next === 'succeeded' || next === 'failed' || next === 'rolled_back'))
      this.finishedDeploys.push({
        stage: { idx: stage.idx, name: stage.name, environment: stage.environment },
        result: next,
      });
    this.deps.record({
      action: `executions.stage.${auditSuffix(next)}`,
      resource: { type: 'stage', id: `${this.run.id}/${stage.name}` },
      details: { run: this.run.id, ...details },
    });
    this.changes++;
  }
}

// A run ends cancelled (when asked to), rejected (an approver refused a deployment), failed
// (a stage failed, or one was skipped because a stage it needed did not succeed) or succeeded.
function runResult(
  stages: readonly StageRow[],
  cancel: boolean,
  rollback: RollbackTarget | undefined,
): RunResult {
  if (cancel && stages.some((s) => s.state === 'cancelled')) return 'cancelled';
  if (stages.some((s) => s.state === 'rejected')) return 'rejected';
  const failed = stages.some(
    (s) =>
      ['failed', 'rolled_back', 'cancelled'].includes(s.state) ||
      (s.state === 'skipped' && !skippedByRollback(s, rollback)),
  );
  return failed ? 'failed' : 'succeeded';
}
