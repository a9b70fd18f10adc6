import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { KyselyExecutionStore } from './execution-store.ts';
import { gateRun, type GateRun } from './gate-port.ts';

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

export interface ReleaseRecord {
  runId: string;
  releasedAt: string;
  commit: string | null;
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
