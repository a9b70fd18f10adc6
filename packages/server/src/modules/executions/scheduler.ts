import { EventEmitter } from 'node:events';
import type { Clock } from '../../platform/clock.ts';
import { systemActor, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { newId } from '../../platform/ids.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { EngineOptions } from './engine-options.ts';
import {
  terminalRunStates,
  type JobState,
  jobTransition,
  type RunState,
} from './execution-state.ts';
import type { JobRow, KyselyExecutionStore } from './execution-store.ts';
import { gateRun, type DeploymentGatePort } from './gate-port.ts';
import type { JobLifecycle } from './job-lifecycle.ts';
import { maybe, NoChange } from './quiet-unit.ts';
import { RunPass } from './run-pass.ts';

export const schedulerCtx = (): Pick<RequestContext, 'actor' | 'requestId'> => ({
  actor: { ...systemActor, name: 'scheduler' },
  requestId: newId('sched'),
});

// Moves runs forward: on every tick it expires leases and deadlines, then advances every
// active run; use cases call `advance` right after they change a run. `jobs` tells waiting
// runners that a job was queued.
export class Scheduler {
  readonly jobs = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  stopped = false;

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyExecutionStore;
      clock: Clock;
      pipelines: PipelineService;
      lifecycle: JobLifecycle;
      gate?: DeploymentGatePort | undefined;
      options: EngineOptions;
      onError?: ((err: unknown) => void) | undefined;
      environmentPool: (
        project: string,
        environment: string,
        tx?: AnyTx,
      ) => Promise<string | undefined>;
    },
  ) {
    this.jobs.setMaxListeners(0);
  }

  private later(ms: number): string {
    return new Date(this.deps.clock.now().getTime() + ms).toISOString();
  }

  // One pass. Tests call this directly with a ManualClock; the server calls it on an interval.
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
    this.jobs.emit('stop');
    await this.ticking;
  }

  // After a control-plane restart runners could not heartbeat: give them one lease period.
  async graceLeases(): Promise<void> {
    await this.deps.store.graceLeases(
      this.deps.database.db,
      this.later(this.deps.options.leaseTtlMs),
    );
  }

  private async doTick(): Promise<void> {
    const db = this.deps.database.db;
    const now = this.deps.clock.now().toISOString();
    for (const job of await this.deps.store.expiredLeases(db, now)) await this.expireJob(job, now);
    for (const id of await this.deps.store.activeRunIds(db)) await this.advance(id);
  }

  // Moves one run forward as far as it can go, in one transaction. On PostgreSQL the run row
  // is locked so replicas advance a run one at a time.
  async advance(runId: string): Promise<void> {
    const { store, pipelines, gate } = this.deps;
    const pass = await maybe(this.deps.uow, schedulerCtx(), async (tx, record) => {
      const run = await store.run(tx, runId, true);
      if (!run || terminalRunStates.includes(run.state as RunState)) throw new NoChange();
      const pv = await pipelines.version(run.project, run.pipeline, run.pipeline_version, tx);
      const p = new RunPass(
        {
          tx,
          record,
          store,
          jobs: this.deps.lifecycle,
          gate,
          at: this.deps.clock.now(),
          defaultConcurrency: this.deps.options.defaultConcurrency,
          gateWaitTimeoutMs: this.deps.options.gateWaitTimeoutMs,
          environmentPool: this.deps.environmentPool,
        },
        run,
        pv.spec,
        await store.stages(tx, runId),
        await store.jobsOfRun(tx, runId),
      );
      await p.execute();
      if (p.changes === 0) throw new NoChange();
      return { pass: p, run };
    });
    if (!pass) return;
    if (pass.pass.queuedJobs) this.jobs.emit('job');
    // Not awaited: a slow ticket system must not hold up the scheduler or the runner.
    for (const f of pass.pass.finishedDeploys)
      void gate
        ?.finished?.({ run: gateRun(pass.run), ...f })
        .catch((err: unknown) => this.deps.onError?.(err));
    if (pass.pass.finished && this.timer)
      setImmediate(() => void this.tick().catch((err) => this.deps.onError?.(err)));
  }

  private async expireJob(job: JobRow, now: string): Promise<void> {
    const changed = await maybe(this.deps.uow, schedulerCtx(), async (tx, record) => {
      const run = (await this.deps.store.run(tx, job.run_id, true))!;
      const resource = { type: 'job', id: job.id };
      const fail = async (from: { state: string; lease_id?: string | null }, reason: string) => {
        if (!(await this.deps.lifecycle.finish(tx, job, from, 'failed', reason)))
          throw new NoChange();
        record({
          action: 'executions.job.failed',
          resource,
          details: { reason, attempt: job.attempt, runner: job.runner_id },
        });
        return true;
      };
      if (job.state === 'queued') return fail({ state: 'queued', lease_id: null }, 'RUNNER_LOST');
      const from = { state: 'leased', lease_id: job.lease_id };
      if (job.deadline_at && job.deadline_at < now) return fail(from, 'TIMEOUT');
      if (run.cancel_requested) {
        if (!(await this.deps.lifecycle.finish(tx, job, from, 'cancelled', 'CANCELLED')))
          throw new NoChange();
        record({
          action: 'executions.job.cancelled',
          resource,
          details: { reason: 'lease expired after cancel' },
        });
        return true;
      }
      if (job.attempt >= job.max_attempts) return fail(from, 'RUNNER_LOST');
      jobTransition(job.state as JobState, { type: 'requeue' });
      const ok = await this.deps.store.transitionJob(tx, job.id, from, {
        state: 'queued',
        runner_id: null,
        lease_id: null,
        lease_holder: null,
        lease_expires_at: null,
        deadline_at: this.later(this.deps.options.requeueTimeoutMs),
      });
      if (!ok) throw new NoChange();
      record({
        action: 'executions.job.lease-expired',
        resource,
        details: { runner: job.runner_id, attempt: job.attempt, requeued: true },
      });
      return true;
    });
    if (!changed) return;
    this.jobs.emit('job');
    await this.advance(job.run_id);
  }
}
