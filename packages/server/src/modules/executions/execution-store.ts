import { sql, type Kysely } from 'kysely';
import type { AnyDb, AnyTx, DialectName } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface RunRow {
  id: string;
  project: string;
  pipeline: string;
  pipeline_version: number;
  content_hash: string;
  repository: string;
  branch: string;
  commit_sha: string | null;
  inputs: string;
  trigger: string;
  state: string;
  reason: string | null;
  cancel_requested: number;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface StageRow {
  run_id: string;
  idx: number;
  name: string;
  type: string;
  environment: string | null;
  pool: string;
  state: string;
  generation: number;
  reason: string | null;
  // Since when it waits on the deployment gate or its environment's lock (null otherwise).
  waiting_since: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface JobRow {
  id: string;
  run_id: string;
  stage_idx: number;
  kind: string;
  generation: number;
  pool: string;
  state: string;
  attempt: number;
  max_attempts: number;
  runner_id: string | null;
  lease_id: string | null;
  // The principal (runner service account) that took the lease.
  lease_holder: string | null;
  lease_expires_at: string | null;
  deadline_at: string | null;
  reason: string | null;
  created_at: string;
  leased_at: string | null;
  finished_at: string | null;
}

export interface StepRow {
  job_id: string;
  idx: number;
  name: string;
  state: string;
  exit_code: number | null;
  attempts: number;
  reason: string | null;
  log_digest: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface LogChunkRow {
  run_id: string;
  job_id: string;
  attempt: number;
  step_idx: number;
  seq: number;
  content: string;
  sha256: string;
  created_at: string;
}

export interface FileRow {
  id: string;
  run_id: string;
  job_id: string;
  step_idx: number;
  kind: string;
  name: string;
  type: string;
  path: string;
  digest: string;
  size: number;
  created_at: string;
}

export interface CommitRangeRow {
  run_id: string;
  environment: string;
  since: string | null;
  head: string;
  truncated: number;
  job_id: string;
  reported_at: string;
}

export interface CommitRow {
  run_id: string;
  environment: string;
  idx: number;
  sha: string;
  author_name: string;
  author_email: string;
  committer_name: string;
  committer_email: string;
  signature: string;
}

export interface DeploymentRow {
  run_id: string;
  idx: number;
  name: string;
  environment: string;
  state: string;
  reason: string | null;
  started_at: string;
  finished_at: string | null;
  project: string;
  pipeline: string;
  pipeline_version: number;
  content_hash: string;
  branch: string;
  commit_sha: string | null;
  inputs: string;
  trigger: string;
  created_by: string;
  created_at: string;
}

const deploymentsOldestFirst: KeyColumn<DeploymentRow>[] = [
  { column: 's.started_at', type: 'string', value: (r) => r.started_at },
  { column: 's.run_id', type: 'string', value: (r) => r.run_id },
  { column: 's.idx', type: 'number', value: (r) => r.idx },
];

interface ExecutionTables {
  runs: RunRow;
  run_stages: StageRow;
  jobs: JobRow;
  job_steps: StepRow;
  log_chunks: LogChunkRow;
  run_files: FileRow;
  blobs: { digest: string; size: number; content_base64: string };
  environment_locks: { project: string; environment: string; holder: string; acquired_at: string };
  run_commit_ranges: CommitRangeRow;
  run_commits: CommitRow;
  environment_releases: {
    project: string;
    environment: string;
    run_id: string;
    released_at: string;
  };
}

type Db = AnyDb | AnyTx;
const runsNewestFirst: KeyColumn<RunRow>[] = [
  { column: 'created_at', type: 'string', desc: true, value: (r) => r.created_at },
  { column: 'id', type: 'string', desc: true, value: (r) => r.id },
];
const k = (db: Db) => db as unknown as Kysely<ExecutionTables>;
const changed = (r: { numUpdatedRows: bigint } | { numDeletedRows: bigint }) =>
  Number('numUpdatedRows' in r ? r.numUpdatedRows : r.numDeletedRows);

export class KyselyExecutionStore {
  constructor(private readonly dialect: DialectName) {}

  // ---- runs
  async insertRun(db: Db, run: RunRow, stages: StageRow[]): Promise<void> {
    await k(db).insertInto('runs').values(run).execute();
    if (stages.length) await k(db).insertInto('run_stages').values(stages).execute();
  }

  async run(db: Db, id: string, lock = false): Promise<RunRow | undefined> {
    let q = k(db).selectFrom('runs').selectAll().where('id', '=', id);
    if (lock && this.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  async updateRun(db: Db, id: string, set: Partial<RunRow>): Promise<void> {
    await k(db).updateTable('runs').set(set).where('id', '=', id).execute();
  }

  async activeRunIds(db: Db): Promise<string[]> {
    const rows = await k(db)
      .selectFrom('runs')
      .select('id')
      .where('state', 'in', ['queued', 'running'])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }

  // Serializes starting runs of one pipeline across replicas (the concurrency limit); SQLite
  // has a single writer already. Held until the transaction ends.
  async lockPipeline(db: Db, project: string, pipeline: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await sql`select pg_advisory_xact_lock(hashtext(${`custody-pipeline:${project}/${pipeline}`}))`.execute(
      db,
    );
  }

  async countRunning(db: Db, project: string, pipeline: string): Promise<number> {
    const r = await k(db)
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project', '=', project)
      .where('pipeline', '=', pipeline)
      .where('state', '=', 'running')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // Older queued runs of the same pipeline go first.
  async olderQueued(db: Db, run: RunRow): Promise<number> {
    const r = await k(db)
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project', '=', run.project)
      .where('pipeline', '=', run.pipeline)
      .where('state', '=', 'queued')
      .where((eb) =>
        eb.or([
          eb('created_at', '<', run.created_at),
          eb.and([eb('created_at', '=', run.created_at), eb('id', '<', run.id)]),
        ]),
      )
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // Newest first, a page at a time.
  async listRuns(
    db: Db,
    f: {
      project?: string | undefined;
      pipeline?: string | undefined;
      state?: string | undefined;
    },
    page: PageRequest,
  ): Promise<PageOf<RunRow>> {
    let q = k(db).selectFrom('runs').selectAll();
    if (f.project) q = q.where('project', '=', f.project);
    if (f.pipeline) q = q.where('pipeline', '=', f.pipeline);
    if (f.state) q = q.where('state', '=', f.state);
    return fetchPage(q, runsNewestFirst, page);
  }

  // ---- stages
  async stages(db: Db, runId: string): Promise<StageRow[]> {
    return k(db)
      .selectFrom('run_stages')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('idx')
      .execute();
  }

  async updateStage(db: Db, runId: string, idx: number, set: Partial<StageRow>): Promise<void> {
    await k(db)
      .updateTable('run_stages')
      .set(set)
      .where('run_id', '=', runId)
      .where('idx', '=', idx)
      .execute();
  }

  // ---- jobs
  async insertJob(db: Db, job: JobRow, steps: StepRow[]): Promise<void> {
    await k(db).insertInto('jobs').values(job).execute();
    if (steps.length) await k(db).insertInto('job_steps').values(steps).execute();
  }

  async job(db: Db, id: string): Promise<JobRow | undefined> {
    return k(db).selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async jobsOfRun(db: Db, runId: string): Promise<JobRow[]> {
    return k(db)
      .selectFrom('jobs')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('created_at')
      .orderBy('stage_idx')
      .orderBy('generation')
      .execute();
  }

  // The oldest queued job of the given pools, locked so no other replica leases it.
  async nextQueuedJob(db: Db, pools: readonly string[]): Promise<JobRow | undefined> {
    let q = k(db).selectFrom('jobs').selectAll().where('state', '=', 'queued');
    if (!pools.includes('*')) q = q.where('pool', 'in', pools);
    q = q.orderBy('created_at').orderBy('id').limit(1);
    if (this.dialect === 'postgres') q = q.forUpdate().skipLocked();
    return q.executeTakeFirst();
  }

  // Conditional updates: the `where` on the expected state makes every transition happen once,
  // however many replicas or timers race for it.
  async transitionJob(
    db: Db,
    id: string,
    from: { state: string; lease_id?: string | null },
    set: Partial<JobRow>,
  ): Promise<boolean> {
    let q = k(db).updateTable('jobs').set(set).where('id', '=', id).where('state', '=', from.state);
    if (from.lease_id !== undefined)
      q =
        from.lease_id === null
          ? q.where('lease_id', 'is', null)
          : q.where('lease_id', '=', from.lease_id);
    return changed(await q.executeTakeFirst()) === 1;
  }

  async extendLease(db: Db, id: string, leaseId: string, expiresAt: string): Promise<boolean> {
    const r = await k(db)
      .updateTable('jobs')
      .set({ lease_expires_at: expiresAt })
      .where('id', '=', id)
      .where('state', '=', 'leased')
      .where('lease_id', '=', leaseId)
      .executeTakeFirst();
    return changed(r) === 1;
  }

  // After a control-plane restart runners could not heartbeat: give them one lease period.
  async graceLeases(db: Db, expiresAt: string): Promise<void> {
    await k(db)
      .updateTable('jobs')
      .set({ lease_expires_at: expiresAt })
      .where('state', '=', 'leased')
      .where('lease_expires_at', '<', expiresAt)
      .execute();
  }

  async expiredLeases(db: Db, now: string): Promise<JobRow[]> {
    return k(db)
      .selectFrom('jobs')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'leased'), eb('lease_expires_at', '<', now)]),
          eb.and([eb('state', '=', 'leased'), eb('deadline_at', '<', now)]),
          eb.and([eb('state', '=', 'queued'), eb('deadline_at', '<', now)]),
        ]),
      )
      .execute();
  }

  // ---- steps
  async steps(db: Db, jobId: string): Promise<StepRow[]> {
    return k(db)
      .selectFrom('job_steps')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('idx')
      .execute();
  }

  async stepsOfRun(db: Db, runId: string): Promise<StepRow[]> {
    return k(db)
      .selectFrom('job_steps')
      .innerJoin('jobs', 'jobs.id', 'job_steps.job_id')
      .selectAll('job_steps')
      .where('jobs.run_id', '=', runId)
      .orderBy('job_steps.job_id')
      .orderBy('job_steps.idx')
      .execute();
  }

  async updateStep(db: Db, jobId: string, idx: number, set: Partial<StepRow>): Promise<void> {
    await k(db)
      .updateTable('job_steps')
      .set(set)
      .where('job_id', '=', jobId)
      .where('idx', '=', idx)
      .execute();
  }

  async resetSteps(db: Db, jobId: string): Promise<void> {
    await k(db)
      .updateTable('job_steps')
      .set({
        state: 'pending',
        exit_code: null,
        attempts: 0,
        reason: null,
        log_digest: null,
        started_at: null,
        finished_at: null,
      })
      .where('job_id', '=', jobId)
      .execute();
  }

  // ---- logs
  async appendLog(db: Db, row: LogChunkRow): Promise<void> {
    await k(db)
      .insertInto('log_chunks')
      .values(row)
      .onConflict((oc) => oc.columns(['job_id', 'attempt', 'step_idx', 'seq']).doNothing())
      .execute();
  }

  async logChunks(db: Db, jobId: string, attempt: number, stepIdx: number): Promise<LogChunkRow[]> {
    return k(db)
      .selectFrom('log_chunks')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('attempt', '=', attempt)
      .where('step_idx', '=', stepIdx)
      .orderBy('seq')
      .execute();
  }

  async logsOfRun(db: Db, runId: string): Promise<LogChunkRow[]> {
    return k(db)
      .selectFrom('log_chunks')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('created_at')
      .orderBy('job_id')
      .orderBy('attempt')
      .orderBy('step_idx')
      .orderBy('seq')
      .execute();
  }

  // ---- files and blobs
  async putBlob(db: Db, digest: string, size: number, contentBase64: string): Promise<void> {
    await k(db)
      .insertInto('blobs')
      .values({ digest, size, content_base64: contentBase64 })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }

  async blob(
    db: Db,
    digest: string,
  ): Promise<{ size: number; content_base64: string } | undefined> {
    return k(db)
      .selectFrom('blobs')
      .select(['size', 'content_base64'])
      .where('digest', '=', digest)
      .executeTakeFirst();
  }

  // Blobs by digest, a page at a time (the retention module's fixity check).
  async blobPage(
    db: Db,
    afterDigest: string | undefined,
    limit: number,
  ): Promise<{ digest: string; size: number; content_base64: string }[]> {
    let q = k(db).selectFrom('blobs').select(['digest', 'size', 'content_base64']);
    if (afterDigest !== undefined) q = q.where('digest', '>', afterDigest);
    return q.orderBy('digest').limit(limit).execute();
  }

  async filesWithDigest(db: Db, digest: string, limit: number): Promise<FileRow[]> {
    return k(db)
      .selectFrom('run_files')
      .selectAll()
      .where('digest', '=', digest)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async insertFile(db: Db, row: FileRow): Promise<void> {
    await k(db).insertInto('run_files').values(row).execute();
  }

  async filesOfJob(db: Db, jobId: string): Promise<FileRow[]> {
    return k(db)
      .selectFrom('run_files')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  // The runs of `project` that recorded any of `digests` as an artifact.
  async artifactOrigins(
    db: Db,
    project: string,
    digests: readonly string[],
  ): Promise<{ digest: string; run_id: string; created_at: string }[]> {
    if (digests.length === 0) return [];
    return k(db)
      .selectFrom('run_files as f')
      .innerJoin('runs as r', 'r.id', 'f.run_id')
      .select(['f.digest', 'f.run_id', 'f.created_at'])
      .where('r.project', '=', project)
      .where('f.kind', '=', 'artifact')
      .where('f.digest', 'in', [...digests])
      .orderBy('f.created_at', 'desc')
      .execute();
  }

  // The newest run of `project` with a stage deploying to `environment`.
  async latestRunTo(db: Db, project: string, environment: string): Promise<string | undefined> {
    const row = await k(db)
      .selectFrom('runs as r')
      .innerJoin('run_stages as s', 's.run_id', 'r.id')
      .select('r.id')
      .where('r.project', '=', project)
      .where('s.environment', '=', environment)
      .orderBy('r.created_at', 'desc')
      .orderBy('r.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }

  async file(db: Db, id: string): Promise<FileRow | undefined> {
    return k(db).selectFrom('run_files').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async filesOfRun(db: Db, runId: string): Promise<FileRow[]> {
    return k(db)
      .selectFrom('run_files')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  // ---- environments
  async tryLock(
    db: Db,
    project: string,
    environment: string,
    holder: string,
    at: string,
  ): Promise<boolean> {
    await k(db)
      .insertInto('environment_locks')
      .values({ project, environment, holder, acquired_at: at })
      .onConflict((oc) => oc.columns(['project', 'environment']).doNothing())
      .execute();
    const row = await k(db)
      .selectFrom('environment_locks')
      .select('holder')
      .where('project', '=', project)
      .where('environment', '=', environment)
      .executeTakeFirst();
    return row?.holder === holder;
  }

  async unlock(db: Db, project: string, environment: string, holder: string): Promise<void> {
    await k(db)
      .deleteFrom('environment_locks')
      .where('project', '=', project)
      .where('environment', '=', environment)
      .where('holder', '=', holder)
      .execute();
  }

  async recordRelease(
    db: Db,
    project: string,
    environment: string,
    runId: string,
    at: string,
  ): Promise<void> {
    await k(db)
      .insertInto('environment_releases')
      .values({ project, environment, run_id: runId, released_at: at })
      .execute();
  }

  // ---- commit ranges
  // The latest report for a run and environment replaces the one before.
  async replaceCommitRange(db: Db, range: CommitRangeRow, commits: CommitRow[]): Promise<void> {
    await k(db)
      .deleteFrom('run_commits')
      .where('run_id', '=', range.run_id)
      .where('environment', '=', range.environment)
      .execute();
    await k(db)
      .deleteFrom('run_commit_ranges')
      .where('run_id', '=', range.run_id)
      .where('environment', '=', range.environment)
      .execute();
    await k(db).insertInto('run_commit_ranges').values(range).execute();
    // 10 columns per row: 500 rows stay far below both databases' parameter limits.
    for (let i = 0; i < commits.length; i += 500)
      await k(db)
        .insertInto('run_commits')
        .values(commits.slice(i, i + 500))
        .execute();
  }

  async commitRange(
    db: Db,
    runId: string,
    environment: string,
  ): Promise<{ range: CommitRangeRow; commits: CommitRow[] } | undefined> {
    const range = await k(db)
      .selectFrom('run_commit_ranges')
      .selectAll()
      .where('run_id', '=', runId)
      .where('environment', '=', environment)
      .executeTakeFirst();
    if (!range) return undefined;
    const commits = await k(db)
      .selectFrom('run_commits')
      .selectAll()
      .where('run_id', '=', runId)
      .where('environment', '=', environment)
      .orderBy('idx')
      .execute();
    return { range, commits };
  }

  // The run's artifacts (the last digest per name). `exceptStage` leaves out what that stage's
  // own jobs uploaded: a deploy stage is approved for what was built before it, and a file its
  // steps record must not void that approval between two of its steps.
  async artifacts(
    db: Db,
    runId: string,
    exceptStage?: string,
  ): Promise<{ name: string; digest: string }[]> {
    let q = k(db)
      .selectFrom('run_files')
      .select(['run_files.name', 'run_files.digest', 'run_files.created_at'])
      .where('run_files.run_id', '=', runId)
      .where('run_files.kind', '=', 'artifact');
    if (exceptStage !== undefined)
      q = q.where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('jobs')
              .innerJoin('run_stages', (j) =>
                j
                  .onRef('run_stages.run_id', '=', 'jobs.run_id')
                  .onRef('run_stages.idx', '=', 'jobs.stage_idx'),
              )
              .select('jobs.id')
              .whereRef('jobs.id', '=', 'run_files.job_id')
              .where('run_stages.name', '=', exceptStage),
          ),
        ),
      );
    const rows = await q.orderBy('run_files.created_at').execute();
    const byName = new Map<string, string>();
    for (const r of rows) byName.set(r.name, r.digest);
    return [...byName.entries()]
      .map(([name, digest]) => ({ name, digest }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // Successful deployments to an environment, newest first, with their commits.
  async releases(
    db: Db,
    project: string,
    environment: string,
  ): Promise<{ run_id: string; released_at: string; commit_sha: string | null }[]> {
    return k(db)
      .selectFrom('environment_releases as r')
      .innerJoin('runs as u', 'u.id', 'r.run_id')
      .select(['r.run_id', 'r.released_at', 'u.commit_sha'])
      .where('r.project', '=', project)
      .where('r.environment', '=', environment)
      .orderBy('r.released_at', 'desc')
      .limit(200)
      .execute();
  }

  // Deploy stages that started (the gate let them through), oldest first, a page at a time:
  // the population of deployments other modules report on.
  async deployments(
    db: Db,
    f: {
      environments?: readonly { project: string; environment: string }[] | undefined;
      project?: string | undefined;
      from?: string | undefined;
      to?: string | undefined;
    },
    page: PageRequest,
  ): Promise<PageOf<DeploymentRow>> {
    if (f.environments && f.environments.length === 0) return { items: [], next: null };
    let q = k(db)
      .selectFrom('run_stages as s')
      .innerJoin('runs as r', 'r.id', 's.run_id')
      .select([
        's.run_id',
        's.idx',
        's.name',
        's.environment',
        's.state',
        's.reason',
        's.started_at',
        's.finished_at',
        'r.project',
        'r.pipeline',
        'r.pipeline_version',
        'r.content_hash',
        'r.branch',
        'r.commit_sha',
        'r.inputs',
        'r.trigger',
        'r.created_by',
        'r.created_at',
      ])
      .where('s.type', '=', 'deploy')
      .where('s.environment', 'is not', null)
      .where('s.started_at', 'is not', null);
    if (f.project) q = q.where('r.project', '=', f.project);
    if (f.from) q = q.where('s.started_at', '>=', f.from);
    if (f.to) q = q.where('s.started_at', '<', f.to);
    if (f.environments) {
      const pairs = f.environments;
      q = q.where((eb) =>
        eb.or(
          pairs.map((p) =>
            eb.and([eb('r.project', '=', p.project), eb('s.environment', '=', p.environment)]),
          ),
        ),
      );
    }
    return fetchPage(q as never, deploymentsOldestFirst, page) as Promise<PageOf<DeploymentRow>>;
  }

  async previousRelease(
    db: Db,
    project: string,
    environment: string,
    exceptRun: string,
  ): Promise<string | undefined> {
    const row = await k(db)
      .selectFrom('environment_releases')
      .select('run_id')
      .where('project', '=', project)
      .where('environment', '=', environment)
      .where('run_id', '!=', exceptRun)
      .orderBy('released_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.run_id;
  }
}
