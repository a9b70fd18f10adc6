import type { Clock } from '../../platform/clock.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { newId } from '../../platform/ids.ts';
import type { PipelineSpec } from '../pipelines/index.ts';
import {
  jobTransition,
  stageTransition,
  stepTransition,
  type JobState,
  type StageState,
  type StepState,
} from './execution-state.ts';
import type { JobRow, KyselyExecutionStore, RunRow, StageRow, StepRow } from './execution-store.ts';
import type { GateVerdict } from './gate-port.ts';

export type StepResult = 'succeeded' | 'failed' | 'cancelled';

export const auditSuffix = (state: string) => state.replace(/_/g, '-');

// Creating, ending and withdrawing jobs: shared by the scheduler and the runner protocol.
export class JobLifecycle {
  constructor(
    private readonly deps: {
      store: KyselyExecutionStore;
      clock: Clock;
      maxAttempts: number;
    },
  ) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  async create(
    tx: AnyTx,
    record: RecordAudit,
    input: { run: RunRow; stage: StageRow; spec: PipelineSpec; kind: 'main' | 'rollback' },
  ): Promise<JobRow> {
    const { run, stage, kind } = input;
    const stageSpec = input.spec.stages[stage.idx]!;
    const steps = kind === 'main' ? stageSpec.steps : (stageSpec.rollback ?? []);
    const job: JobRow = {
      id: newId('job'),
      run_id: run.id,
      stage_idx: stage.idx,
      kind,
      generation: stage.generation,
      pool: stage.pool,
      state: 'queued',
      attempt: 0,
      max_attempts: this.deps.maxAttempts,
      runner_id: null,
      lease_id: null,
      lease_holder: null,
      lease_expires_at: null,
      deadline_at: null,
      reason: null,
      created_at: this.now(),
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
    await this.deps.store.insertJob(tx, job, stepRows);
    record({
      action: 'executions.job.queued',
      resource: { type: 'job', id: job.id },
      details: { run: run.id, stage: stage.name, kind, generation: job.generation, pool: job.pool },
    });
    return job;
  }

  // Ends a job and its unfinished steps (running → the result, pending → skipped). False when
  // the job was no longer in `from` (another replica or timer got there first).
  async finish(
    tx: AnyTx,
    job: JobRow,
    from: { state: string; lease_id?: string | null },
    result: StepResult,
    reason: string | null,
  ): Promise<boolean> {
    const store = this.deps.store;
    jobTransition(from.state as JobState, { type: 'finish', result });
    const ok = await store.transitionJob(tx, job.id, from, {
      state: result,
      reason,
      finished_at: this.now(),
      lease_expires_at: null,
    });
    if (!ok) return false;
    for (const step of await store.steps(tx, job.id)) {
      const s = step.state as StepState;
      if (s === 'running')
        await store.updateStep(tx, job.id, step.idx, {
          state: stepTransition(s, {
            type: 'finish',
            result: result === 'succeeded' ? 'failed' : result,
          }),
          reason,
          finished_at: this.now(),
        });
      else if (s === 'pending')
        await store.updateStep(tx, job.id, step.idx, {
          state: stepTransition(s, { type: 'skip' }),
        });
    }
    return true;
  }

  // The gate refused a queued or running job: the job ends `cancelled` (GATE_BLOCKED), the
  // stage waits blocked with a fresh generation, and it gives the environment back so that
  // other runs to it are not held up while this one waits. False if the job had moved on.
  async withdraw(
    tx: AnyTx,
    record: RecordAudit,
    input: {
      run: RunRow;
      stage: StageRow;
      job: JobRow;
      verdict: GateVerdict;
      step?: number | undefined;
    },
  ): Promise<boolean> {
    const { run, stage, job, verdict } = input;
    const from = { state: job.state, lease_id: job.lease_id };
    if (!(await this.finish(tx, job, from, 'cancelled', 'GATE_BLOCKED'))) return false;
    const store = this.deps.store;
    // A refusal by an approver ends the stage; anything else holds it until the gate allows.
    const next = stageTransition(
      stage.state as StageState,
      verdict.final ? { type: 'reject' } : { type: 'block', status: verdict.status },
    );
    const now = this.now();
    await store.updateStage(tx, run.id, stage.idx, {
      state: next,
      generation: stage.generation + 1,
      reason: verdict.summary ?? verdict.status,
      ...(verdict.final ? { finished_at: now, waiting_since: null } : { waiting_since: now }),
    });
    if (stage.environment)
      await store.unlock(tx, run.project, stage.environment, lockHolder(run.id, stage.idx));
    record({
      action: `executions.stage.${auditSuffix(next)}`,
      resource: { type: 'stage', id: `${run.id}/${stage.name}` },
      details: {
        run: run.id,
        job: job.id,
        environment: stage.environment,
        ...(input.step !== undefined ? { step: input.step } : {}),
      },
    });
    return true;
  }
}

// Who holds an environment's lock: one deploy stage of one run.
export const lockHolder = (runId: string, stageIdx: number) => `${runId}/${stageIdx}`;
