import { randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import type { PipelineService, StepSpec } from '../pipelines/index.ts';
import type { EngineOptions } from './engine-options.ts';
import { jobTransition } from './execution-state.ts';
import type { JobRow, KyselyExecutionStore } from './execution-store.ts';
import type { GateCheckpoints } from './gate-checkpoints.ts';
import type { JobPayload, JobPayloadBuilder } from './job-payload.ts';
import { maybe, NoChange } from './quiet-unit.ts';
import type { Scheduler } from './scheduler.ts';

const defaultStepTimeoutMs = 3_600_000;

// Runners take work here: the oldest queued job of their pools, once the gate allows it.
export class JobLeasing {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyExecutionStore;
      clock: Clock;
      pipelines: PipelineService;
      checkpoints: GateCheckpoints;
      payloads: JobPayloadBuilder;
      scheduler: Scheduler;
      options: EngineOptions;
    },
  ) {}

  private later(ms: number): string {
    return new Date(this.deps.clock.now().getTime() + ms).toISOString();
  }

  async lease(
    ctx: RequestContext,
    input: { runnerId: string; pools: readonly string[] },
  ): Promise<JobPayload | undefined> {
    const leaseId = randomBytes(16).toString('hex');
    const leased = await maybe(this.deps.uow, ctx, async (tx, record) => {
      const job = await this.deps.store.nextQueuedJob(tx, input.pools);
      if (!job) throw new NoChange();
      return this.take(tx, record, {
        job,
        runnerId: input.runnerId,
        leaseId,
        holder: principalOf(ctx.actor),
      });
    });
    if (!leased) return undefined;
    const { job, run, spec, steps, secrets } = leased;
    return this.deps.payloads.build(job, run, spec, steps, secrets);
  }

  // Leases one job, or withdraws it when the gate refuses (then nothing is handed out).
  private async take(
    tx: AnyTx,
    record: RecordAudit,
    input: { job: JobRow; runnerId: string; leaseId: string; holder: string },
  ) {
    const { job } = input;
    const { store, pipelines } = this.deps;
    const run = (await store.run(tx, job.run_id))!;
    const pv = await pipelines.version(run.project, run.pipeline, run.pipeline_version, tx);
    const stageSpec = pv.spec.stages[job.stage_idx]!;
    if (await this.deps.checkpoints.check(tx, record, { run, job, point: 'lease' }))
      return undefined;
    const steps: StepSpec[] = job.kind === 'main' ? stageSpec.steps : (stageSpec.rollback ?? []);
    const set: Partial<JobRow> = {
      state: jobTransition('queued', { type: 'lease' }),
      attempt: job.attempt + 1,
      runner_id: input.runnerId,
      lease_id: input.leaseId,
      lease_holder: input.holder,
      lease_expires_at: this.later(this.deps.options.leaseTtlMs),
      leased_at: this.deps.clock.now().toISOString(),
      deadline_at: this.later(jobTimeoutMs(steps)),
    };
    if (!(await store.transitionJob(tx, job.id, { state: 'queued' }, set))) throw new NoChange();
    if (job.attempt > 0) await store.resetSteps(tx, job.id);
    record({
      action: 'executions.job.leased',
      resource: { type: 'job', id: job.id },
      details: { run: run.id, runner: input.runnerId, attempt: job.attempt + 1 },
    });
    const leased = { ...job, ...set } as JobRow;
    const secrets = await this.deps.payloads.releaseSecrets(tx, record, {
      job: leased,
      run,
      spec: pv.spec,
      steps,
    });
    return { job: leased, run, spec: pv.spec, steps, secrets };
  }

  // Long poll: waits up to waitMs for a job of the runner's pools.
  async leaseWait(
    ctx: RequestContext,
    input: { runnerId: string; pools: readonly string[]; waitMs: number },
  ): Promise<JobPayload | undefined> {
    const until = Date.now() + input.waitMs;
    const notifier = this.deps.scheduler.jobs;
    for (;;) {
      const job = await this.lease(ctx, input);
      if (job) return job;
      const remaining = until - Date.now();
      if (remaining <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          notifier.off('job', done);
          notifier.off('stop', done);
          resolve();
        };
        const t = setTimeout(done, Math.min(remaining, 1000));
        notifier.once('job', done);
        notifier.once('stop', done);
      });
      if (this.deps.scheduler.stopped) return undefined;
    }
  }
}

// The job's deadline: every step's timeout (or an hour) times its attempts, plus 5 minutes.
function jobTimeoutMs(steps: readonly StepSpec[]): number {
  return (
    steps.reduce(
      (sum, s) =>
        sum +
        (s.timeout ? parseDuration(s.timeout)! : defaultStepTimeoutMs) * ((s.retries ?? 0) + 1),
      0,
    ) + 300_000
  );
}
