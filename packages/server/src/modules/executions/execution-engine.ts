import type { Clock } from '../../platform/clock.ts';
import type { RunPolicyHook } from './run-policy-port.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { PipelineGovernance, PipelineService } from '../pipelines/index.ts';
import { defaultEngineOptions, type EngineOptions } from './engine-options.ts';
import { ExecutionReads } from './execution-reads.ts';
import type { KyselyExecutionStore } from './execution-store.ts';
import { GateCheckpoints } from './gate-checkpoints.ts';
import type { AttestationPort, EvidencePort } from './evidence-port.ts';
import type { DeploymentGatePort } from './gate-port.ts';
import { JobLeasing } from './job-leasing.ts';
import { JobLifecycle } from './job-lifecycle.ts';
import { JobPayloadBuilder, type SecretSource } from './job-payload.ts';
import { JobFiles } from './job-files.ts';
import { JobReports } from './job-reports.ts';
import { LeaseGuard } from './lease-guard.ts';
import { RunService } from './run-service.ts';
import { Scheduler } from './scheduler.ts';

export interface ExecutionEngineDeps {
  database: Database;
  uow: UnitOfWork;
  store: KyselyExecutionStore;
  clock: Clock;
  pipelines: PipelineService;
  governance: PipelineGovernance;
  secrets?: SecretSource;
  gate?: DeploymentGatePort;
  // Parses and keeps the reports steps record (the evidence module).
  evidence?: EvidencePort;
  // Signs the provenance of what each job built (the attestations module).
  attestations?: AttestationPort;
  options?: Partial<EngineOptions>;
  // `custody.run` policies, when the policies module is wired.
  policy?: RunPolicyHook | undefined;
  onError?: (err: unknown) => void;
  // The runner pool an environment names (its production pool).
  environmentPool?: (
    project: string,
    environment: string,
    tx?: AnyTx,
  ) => Promise<string | undefined>;
}

// The execution engine, assembled: run use cases (`runs`), the scheduler that moves runs
// forward, and the runner protocol (`leasing`, `reports`, `files`). `reads` is what other
// modules see.
export class ExecutionEngine {
  readonly options: EngineOptions;
  readonly runs: RunService;
  readonly scheduler: Scheduler;
  readonly leasing: JobLeasing;
  readonly reports: JobReports;
  readonly files: JobFiles;
  readonly reads: ExecutionReads;

  constructor(deps: ExecutionEngineDeps) {
    const options = { ...defaultEngineOptions, ...deps.options };
    this.options = options;
    const { database, uow, store, clock, pipelines, gate, secrets } = deps;
    const environmentPool = deps.environmentPool ?? (async () => undefined);
    const lifecycle = new JobLifecycle({ store, clock, maxAttempts: options.maxAttempts });
    this.scheduler = new Scheduler({
      database,
      uow,
      store,
      clock,
      pipelines,
      lifecycle,
      gate,
      options,
      onError: deps.onError,
      environmentPool,
    });
    this.runs = new RunService({
      database,
      uow,
      store,
      clock,
      pipelines,
      governance: deps.governance,
      advance: (id) => this.scheduler.advance(id),
      environmentPool,
      gateWaitTimeoutMs: options.gateWaitTimeoutMs,
      policy: deps.policy,
    });
    const checkpoints = new GateCheckpoints({ store, clock, lifecycle, gate });
    const payloads = new JobPayloadBuilder({
      db: database.db,
      store,
      secrets,
      leaseTtlMs: options.leaseTtlMs,
    });
    this.leasing = new JobLeasing({
      database,
      uow,
      store,
      clock,
      pipelines,
      checkpoints,
      payloads,
      scheduler: this.scheduler,
      options,
    });
    const guard = new LeaseGuard({ store, uow });
    this.reports = new JobReports({
      database,
      uow,
      store,
      clock,
      pipelines,
      lifecycle,
      checkpoints,
      scheduler: this.scheduler,
      guard,
      leaseTtlMs: options.leaseTtlMs,
      evidence: deps.evidence,
      attestations: deps.attestations,
    });
    this.files = new JobFiles({
      database,
      uow,
      store,
      clock,
      pipelines,
      guard,
      secrets,
      evidence: deps.evidence,
    });
    this.reads = new ExecutionReads(store);
  }

  // The scheduler's lifecycle, for the composition root and tests.
  tick(): Promise<void> {
    return this.scheduler.tick();
  }
  start(intervalMs?: number): void {
    this.scheduler.start(intervalMs);
  }
  stop(): Promise<void> {
    return this.scheduler.stop();
  }
}
