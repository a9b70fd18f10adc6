import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { PageOf, PageRequest } from '../../platform/db/keyset.ts';
import type { DeploymentRow, KyselyExecutionStore } from './execution-store.ts';
import { gateRun, type GateRun } from './gate-port.ts';
import { rollbackTargetOf } from './rollback-plan.ts';

export interface RunRecord extends GateRun {
  state: string;
  createdAt: string;
}

export interface StageRecord {
  idx: number;
  name: string;
  environment: string | null;
  state: string;
  reason: string | null;
}

export interface CommitRecord {
  sha: string;
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
  signature: string; // good | bad | unknown | none
}

// The commits a run deploys to an environment, as its runner reported them at checkout.
export interface CommitRangeRecord {
  since: string | null;
  head: string;
  truncated: boolean;
  reportedAt: string;
  commits: CommitRecord[];
}

export interface BlobRecord {
  digest: string; // sha256:<hex> of the bytes
  size: number;
  contentBase64: string;
}

export interface BlobUse {
  run: string;
  job: string;
  kind: string;
  name: string;
  path: string;
}

// A job of a run with its steps and their outcomes (the dossier's record of what ran).
export interface JobRecord {
  id: string;
  stageIdx: number;
  kind: string;
  generation: number;
  pool: string;
  state: string;
  attempt: number;
  runner: string | null;
  reason: string | null;
  createdAt: string;
  leasedAt: string | null;
  finishedAt: string | null;
  steps: {
    index: number;
    name: string;
    state: string;
    exitCode: number | null;
    attempts: number;
    reason: string | null;
    logDigest: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  }[];
}

export interface ReleaseRecord {
  runId: string;
  releasedAt: string;
  commit: string | null;
}

// One deploy stage of a run that started: what the auditor's population counts as a
// deployment. Its id is `<run id>/<stage name>` (stage names are unique within a run).
export interface DeploymentRecord {
  id: string;
  runId: string;
  stageIdx: number;
  stage: string;
  project: string;
  environment: string;
  // The stage's state: running, rolling_back, succeeded, failed, rolled_back, cancelled, …
  state: string;
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
  pipeline: string;
  pipelineVersion: number;
  contentHash: string;
  branch: string;
  commit: string | null;
  inputs: Record<string, string>;
  trigger: Record<string, unknown>;
  // The run a rollback redeploys (the release it goes back to), when this is a rollback.
  rollbackOf: string | null;
  createdBy: string;
  runCreatedAt: string;
}

export interface DeploymentFilter {
  // Only these (project, environment) pairs; an empty list matches nothing.
  environments?: readonly { project: string; environment: string }[] | undefined;
  project?: string | undefined;
  // ISO instants; `from` inclusive, `to` exclusive, on the stage's start.
  from?: string | undefined;
  to?: string | undefined;
}

export function deploymentId(runId: string, stage: string): string {
  return `${runId}/${stage}`;
}

export function parseDeploymentId(id: string): { runId: string; stage: string } | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) return undefined;
  return { runId: id.slice(0, slash), stage: id.slice(slash + 1) };
}

function deploymentRecord(r: DeploymentRow): DeploymentRecord {
  const trigger = JSON.parse(r.trigger) as Record<string, unknown>;
  return {
    id: deploymentId(r.run_id, r.name),
    runId: r.run_id,
    stageIdx: r.idx,
    stage: r.name,
    project: r.project,
    environment: r.environment,
    state: r.state,
    reason: r.reason,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    pipeline: r.pipeline,
    pipelineVersion: r.pipeline_version,
    contentHash: r.content_hash,
    branch: r.branch,
    commit: r.commit_sha,
    inputs: JSON.parse(r.inputs) as Record<string, string>,
    trigger,
    rollbackOf: rollbackTargetOf(trigger)?.release ?? null,
    createdBy: r.created_by,
    runCreatedAt: r.created_at,
  };
}

// What other modules (the deployment gate, the auditor's reports) may read about runs: plain
// records, never the execution tables themselves.
export class ExecutionReads {
  constructor(private readonly store: KyselyExecutionStore) {}

  async run(db: AnyDb | AnyTx, id: string): Promise<RunRecord | undefined> {
    const row = await this.store.run(db, id);
    return row ? { ...gateRun(row), state: row.state, createdAt: row.created_at } : undefined;
  }

  async stages(db: AnyDb | AnyTx, runId: string): Promise<StageRecord[]> {
    return (await this.store.stages(db, runId)).map((s) => ({
      idx: s.idx,
      name: s.name,
      environment: s.environment,
      state: s.state,
      reason: s.reason,
    }));
  }

  // Stored blobs in digest order, `limit` after `afterDigest`: content as recorded, for a
  // fixity check that re-hashes them.
  async blobPage(
    db: AnyDb | AnyTx,
    page: { afterDigest?: string | undefined; limit: number },
  ): Promise<BlobRecord[]> {
    return (await this.store.blobPage(db, page.afterDigest, page.limit)).map((b) => ({
      digest: b.digest,
      size: b.size,
      contentBase64: b.content_base64,
    }));
  }

  // Where a blob is used: the run files (artifacts, reports, evidence) that name its digest.
  async blobUses(db: AnyDb | AnyTx, digest: string, limit = 20): Promise<BlobUse[]> {
    return (await this.store.filesWithDigest(db, digest, limit)).map((f) => ({
      run: f.run_id,
      job: f.job_id,
      kind: f.kind,
      name: f.name,
      path: f.path,
    }));
  }

  async jobs(db: AnyDb | AnyTx, runId: string): Promise<JobRecord[]> {
    const [jobs, steps] = await Promise.all([
      this.store.jobsOfRun(db, runId),
      this.store.stepsOfRun(db, runId),
    ]);
    return jobs.map((j) => ({
      id: j.id,
      stageIdx: j.stage_idx,
      kind: j.kind,
      generation: j.generation,
      pool: j.pool,
      state: j.state,
      attempt: j.attempt,
      runner: j.runner_id,
      reason: j.reason,
      createdAt: j.created_at,
      leasedAt: j.leased_at,
      finishedAt: j.finished_at,
      steps: steps
        .filter((s) => s.job_id === j.id)
        .map((s) => ({
          index: s.idx,
          name: s.name,
          state: s.state,
          exitCode: s.exit_code,
          attempts: s.attempts,
          reason: s.reason,
          logDigest: s.log_digest,
          startedAt: s.started_at,
          finishedAt: s.finished_at,
        })),
    }));
  }

  artifacts(
    db: AnyDb | AnyTx,
    runId: string,
    exceptStage?: string,
  ): Promise<{ name: string; digest: string }[]> {
    return this.store.artifacts(db, runId, exceptStage);
  }

  async commitRange(
    db: AnyDb | AnyTx,
    runId: string,
    environment: string,
  ): Promise<CommitRangeRecord | undefined> {
    const found = await this.store.commitRange(db, runId, environment);
    if (!found) return undefined;
    return {
      since: found.range.since,
      head: found.range.head,
      truncated: found.range.truncated === 1,
      reportedAt: found.range.reported_at,
      commits: found.commits.map((c) => ({
        sha: c.sha,
        authorName: c.author_name,
        authorEmail: c.author_email,
        committerName: c.committer_name,
        committerEmail: c.committer_email,
        signature: c.signature,
      })),
    };
  }

  // The runs that built any of `digests` (recorded it as an artifact), newest first.
  async artifactOrigins(
    db: AnyDb | AnyTx,
    project: string,
    digests: readonly string[],
  ): Promise<{ digest: string; runId: string }[]> {
    return (await this.store.artifactOrigins(db, project, digests)).map((r) => ({
      digest: r.digest,
      runId: r.run_id,
    }));
  }

  latestRunTo(
    db: AnyDb | AnyTx,
    project: string,
    environment: string,
  ): Promise<string | undefined> {
    return this.store.latestRunTo(db, project, environment);
  }

  // Deploy stages that started, oldest first by start, a page at a time.
  async deployments(
    db: AnyDb | AnyTx,
    filter: DeploymentFilter,
    page: PageRequest,
  ): Promise<PageOf<DeploymentRecord>> {
    const found = await this.store.deployments(db, filter, page);
    return { items: found.items.map(deploymentRecord), next: found.next };
  }

  async deployment(db: AnyDb | AnyTx, id: string): Promise<DeploymentRecord | undefined> {
    const parsed = parseDeploymentId(id);
    if (!parsed) return undefined;
    const run = await this.store.run(db, parsed.runId);
    const stage = (await this.store.stages(db, parsed.runId)).find((s) => s.name === parsed.stage);
    if (!run || !stage || stage.type !== 'deploy' || !stage.environment || !stage.started_at)
      return undefined;
    return deploymentRecord({
      run_id: run.id,
      idx: stage.idx,
      name: stage.name,
      environment: stage.environment,
      state: stage.state,
      reason: stage.reason,
      started_at: stage.started_at,
      finished_at: stage.finished_at,
      project: run.project,
      pipeline: run.pipeline,
      pipeline_version: run.pipeline_version,
      content_hash: run.content_hash,
      branch: run.branch,
      commit_sha: run.commit_sha,
      inputs: run.inputs,
      trigger: run.trigger,
      created_by: run.created_by,
      created_at: run.created_at,
    });
  }

  async releases(
    db: AnyDb | AnyTx,
    project: string,
    environment: string,
  ): Promise<ReleaseRecord[]> {
    return (await this.store.releases(db, project, environment)).map((r) => ({
      runId: r.run_id,
      releasedAt: r.released_at,
      commit: r.commit_sha,
    }));
  }
}
