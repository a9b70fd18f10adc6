import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import { artifactEnvName, type PipelineSpec, type StepSpec } from '../pipelines/index.ts';
import { rangesToReport } from './commit-ranges.ts';
import type { JobRow, KyselyExecutionStore, RunRow } from './execution-store.ts';

// Secrets reach jobs through this port; the secrets module implements it.
export interface SecretSource {
  // In the lease's transaction: each step's named secrets the job may hold, step by step, each
  // release (and refusal) recorded with the job, runner and pool.
  release(
    tx: AnyTx,
    record: RecordAudit,
    request: {
      project: string;
      environment: string | null;
      pool: string;
      job: string;
      run: string;
      attempt: number;
      runner: string;
      steps: readonly { name: string; secrets: readonly string[] }[];
    },
  ): Promise<Record<string, string>[]>;
  // Masks every secret (and its encodings) a job of this scope could hold.
  masker(input: {
    project: string;
    environment: string | null;
  }): Promise<{ mask(text: string): string }>;
}

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
    evidence: { type: string; path: string; optional: boolean }[];
    artifacts: { name: string; path: string }[];
    // Only the secrets this step names; the runner exposes them to this step alone.
    secrets: Record<string, string>;
  }[];
  artifacts: { env: string; name: string; digest: string; path: string }[];
  // The commit ranges the runner reports after checkout (segregation of duties).
  history: { branch: string; ranges: { environment: string; since: string | null }[] };
}

// What a runner receives with its lease: the steps (each with the secrets it names), the
// artifacts built before (and, for a deploy stage, those of the environment's previous release).
export class JobPayloadBuilder {
  constructor(
    private readonly deps: {
      db: AnyDb;
      store: KyselyExecutionStore;
      secrets?: SecretSource | undefined;
      leaseTtlMs: number;
    },
  ) {}

  // Called by the lease inside its transaction, so each release is recorded with it.
  async releaseSecrets(
    tx: AnyTx,
    record: RecordAudit,
    input: { job: JobRow; run: RunRow; spec: PipelineSpec; steps: StepSpec[] },
  ): Promise<Record<string, string>[]> {
    const { job, run } = input;
    if (!this.deps.secrets) return input.steps.map(() => ({}));
    return this.deps.secrets.release(tx, record, {
      project: run.project,
      environment: input.spec.stages[job.stage_idx]!.environment ?? null,
      pool: job.pool,
      job: job.id,
      run: run.id,
      attempt: job.attempt,
      runner: job.runner_id ?? '',
      steps: input.steps.map((s) => ({ name: s.name, secrets: s.secrets ?? [] })),
    });
  }

  async build(
    job: JobRow,
    run: RunRow,
    spec: PipelineSpec,
    steps: StepSpec[],
    secrets: readonly Record<string, string>[],
  ): Promise<JobPayload> {
    const stage = spec.stages[job.stage_idx]!;
    const environment = stage.environment ?? null;
    return {
      jobId: job.id,
      leaseId: job.lease_id!,
      leaseTtlMs: this.deps.leaseTtlMs,
      attempt: job.attempt,
      runId: run.id,
      project: run.project,
      pipeline: run.pipeline,
      pipelineVersion: run.pipeline_version,
      stage: stage.name,
      kind: job.kind as 'main' | 'rollback',
      environment,
      repository: run.repository,
      branch: run.branch,
      commit: run.commit_sha,
      inputs: JSON.parse(run.inputs) as Record<string, string>,
      steps: steps.map((s, i) => ({
        name: s.name,
        run: s.run,
        env: s.env ?? {},
        timeoutMs: s.timeout ? parseDuration(s.timeout)! : null,
        retries: s.retries ?? 0,
        evidence: (s.evidence ?? []).map((e) => ({ ...e, optional: e.optional === true })),
        artifacts: s.artifacts ?? [],
        secrets: secrets[i] ?? {},
      })),
      artifacts: await jobArtifacts(this.deps.db, this.deps.store, run, environment),
      history: {
        branch: run.branch,
        ranges: await rangesToReport(this.deps.db, this.deps.store, run, spec),
      },
    };
  }
}

// The artifacts a job may use: those its run recorded and, for a deploy stage, those of the
// environment's previous release (for rollback steps). The runner downloads only these.
export async function jobArtifacts(
  db: AnyDb | AnyTx,
  store: KyselyExecutionStore,
  run: RunRow,
  environment: string | null,
): Promise<JobPayload['artifacts']> {
  const out = (await store.filesOfRun(db, run.id))
    .filter((f) => f.kind === 'artifact')
    .map((f) => ({ env: artifactEnvName(f.name), name: f.name, digest: f.digest, path: f.path }));
  if (!environment) return out;
  const prev = await store.previousRelease(db, run.project, environment, run.id);
  if (prev)
    for (const f of await store.filesOfRun(db, prev))
      if (f.kind === 'artifact')
        out.push({
          env: artifactEnvName(f.name, true),
          name: f.name,
          digest: f.digest,
          path: f.path,
        });
  return out;
}
