import type { Clock } from '../../platform/clock.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { executionErrors } from './errors.ts';
import type { JobRow, KyselyExecutionStore, RunRow, StageRow } from './execution-store.ts';
import { gateRun, type DeploymentGatePort } from './gate-port.ts';
import type { JobLifecycle } from './job-lifecycle.ts';

// The gate once more right before a deploy job is leased and before each of its steps, so a
// freeze (or a voided approval) that begins meanwhile stops the job: it is withdrawn, the
// stage waits blocked and later gets a fresh job. Returns the gate's summary when it withdrew.
export class GateCheckpoints {
  constructor(
    private readonly deps: {
      store: KyselyExecutionStore;
      clock: Clock;
      lifecycle: JobLifecycle;
      gate?: DeploymentGatePort | undefined;
    },
  ) {}

  async check(
    tx: AnyTx,
    record: RecordAudit,
    input: { run: RunRow; job: JobRow; point: 'lease' | 'step'; step?: number },
  ): Promise<string | undefined> {
    const { run, job } = input;
    const gate = this.deps.gate;
    if (job.kind !== 'main' || !gate) return undefined;
    const stage = await this.stageOf(tx, job);
    if (!stage.environment) return undefined;
    const verdict = await gate.check(tx, record, {
      run: gateRun(run),
      stage: { idx: stage.idx, name: stage.name, environment: stage.environment },
      point: input.point,
      at: this.deps.clock.now(),
    });
    if (verdict.allowed) return undefined;
    const withdrawn = await this.deps.lifecycle.withdraw(tx, record, {
      run,
      stage,
      job,
      verdict,
      step: input.step,
    });
    // The job moved on meanwhile (its lease expired): this caller holds nothing any more.
    if (!withdrawn) throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    return verdict.summary ?? verdict.status;
  }

  private async stageOf(tx: AnyTx, job: JobRow): Promise<StageRow> {
    const stages = await this.deps.store.stages(tx, job.run_id);
    return stages.find((s) => s.idx === job.stage_idx)!;
  }
}

// After a withdrawal committed: the runner learns through the lease-lost answer it already
// handles (stop, report nothing more).
export function withdrawnByGate(summary: string): never {
  throw new DomainError(
    executionErrors.EXECUTIONS_LEASE_LOST,
    `the deployment gate withdrew this job before its next step: ${summary}`,
  );
}
