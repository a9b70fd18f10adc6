import type { FileRow, JobRow, RunRow, StageRow, StepRow } from './execution-store.ts';
import type { JobState, RunState, StageState, StepState } from './execution-state.ts';

export interface RunView {
  id: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  contentHash: string;
  repository: string;
  branch: string;
  commit: string | null;
  inputs: Record<string, string>;
  trigger: Record<string, unknown>;
  state: RunState;
  reason: string | null;
  cancelRequested: boolean;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StepView {
  index: number;
  name: string;
  state: StepState;
  exitCode: number | null;
  attempts: number;
  reason: string | null;
  logDigest: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobView {
  id: string;
  kind: 'main' | 'rollback';
  generation: number;
  pool: string;
  state: JobState;
  attempt: number;
  runner: string | null;
  reason: string | null;
  steps: StepView[];
}

export interface StageView {
  name: string;
  type: 'ci' | 'deploy';
  environment: string | null;
  pool: string;
  state: StageState;
  reason: string | null;
  // While the stage waits on the gate or its environment: since when, and when it fails.
  waitingSince: string | null;
  waitExpiresAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  jobs: JobView[];
}

export interface FileView {
  id: string;
  kind: 'artifact' | 'evidence';
  name: string;
  type: string;
  path: string;
  digest: string;
  size: number;
  stage: string;
  step: string;
  createdAt: string;
}

export interface RunDetail extends RunView {
  stages: StageView[];
  files: FileView[];
}

export function toRunView(row: RunRow): RunView {
  return {
    id: row.id,
    project: row.project,
    pipeline: row.pipeline,
    pipelineVersion: row.pipeline_version,
    contentHash: row.content_hash,
    repository: row.repository,
    branch: row.branch,
    commit: row.commit_sha,
    inputs: JSON.parse(row.inputs) as Record<string, string>,
    trigger: JSON.parse(row.trigger) as Record<string, unknown>,
    state: row.state as RunState,
    reason: row.reason,
    cancelRequested: row.cancel_requested === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function toRunDetail(
  run: RunRow,
  stages: StageRow[],
  jobs: JobRow[],
  steps: StepRow[],
  files: FileRow[],
  gateWaitTimeoutMs: number,
): RunDetail {
  const stepsOf = (jobId: string): StepView[] =>
    steps
      .filter((s) => s.job_id === jobId)
      .map((s) => ({
        index: s.idx,
        name: s.name,
        state: s.state as StepState,
        exitCode: s.exit_code,
        attempts: s.attempts,
        reason: s.reason,
        logDigest: s.log_digest,
        startedAt: s.started_at,
        finishedAt: s.finished_at,
      }));
  const jobById = new Map(jobs.map((j) => [j.id, j]));
  return {
    ...toRunView(run),
    stages: stages.map((s) => ({
      name: s.name,
      type: s.type as 'ci' | 'deploy',
      environment: s.environment,
      pool: s.pool,
      state: s.state as StageState,
      reason: s.reason,
      waitingSince: s.waiting_since,
      waitExpiresAt: s.waiting_since
        ? new Date(Date.parse(s.waiting_since) + gateWaitTimeoutMs).toISOString()
        : null,
      startedAt: s.started_at,
      finishedAt: s.finished_at,
      jobs: jobs
        .filter((j) => j.stage_idx === s.idx)
        .map((j) => ({
          id: j.id,
          kind: j.kind as 'main' | 'rollback',
          generation: j.generation,
          pool: j.pool,
          state: j.state as JobState,
          attempt: j.attempt,
          runner: j.runner_id,
          reason: j.reason,
          steps: stepsOf(j.id),
        })),
    })),
    files: files.map((f) => {
      const job = jobById.get(f.job_id);
      const stage = stages.find((s) => s.idx === job?.stage_idx);
      const step = steps.find((s) => s.job_id === f.job_id && s.idx === f.step_idx);
      return {
        id: f.id,
        kind: f.kind as 'artifact' | 'evidence',
        name: f.name,
        type: f.type,
        path: f.path,
        digest: f.digest,
        size: f.size,
        stage: stage?.name ?? '',
        step: step?.name ?? '',
        createdAt: f.created_at,
      };
    }),
  };
}
