import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const executionMigrations: ModuleMigrations = {
  '2026-11-22T0602-executions-runs': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('pipeline', 'text', (c) => c.notNull())
        .addColumn('pipeline_version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('commit_sha', 'text')
        .addColumn('inputs', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('cancel_requested', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema
        .createIndex('runs_state')
        .on('runs')
        .columns(['state', 'created_at'])
        .execute();
      await db.schema
        .createIndex('runs_pipeline')
        .on('runs')
        .columns(['project', 'pipeline', 'state'])
        .execute();
      await db.schema
        .createTable('run_stages')
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('environment', 'text')
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('run_stages_pk', ['run_id', 'idx'])
        .execute();
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
        .addColumn('stage_idx', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('runner_id', 'text')
        .addColumn('lease_id', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('deadline_at', 'text')
        .addColumn('reason', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('leased_at', 'text')
        .addColumn('finished_at', 'text')
        .addUniqueConstraint('jobs_stage_generation', ['run_id', 'stage_idx', 'kind', 'generation'])
        .execute();
      await db.schema
        .createIndex('jobs_queue')
        .on('jobs')
        .columns(['state', 'pool', 'created_at'])
        .execute();
      await db.schema
        .createTable('job_steps')
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('exit_code', 'integer')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('log_digest', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('job_steps_pk', ['job_id', 'idx'])
        .execute();
      await db.schema
        .createTable('log_chunks')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('step_idx', 'integer', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_chunks_pk', ['job_id', 'attempt', 'step_idx', 'seq'])
        .execute();
      await db.schema.createIndex('log_chunks_run').on('log_chunks').columns(['run_id']).execute();
      await db.schema
        .createTable('run_files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('step_idx', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('run_files_run').on('run_files').columns(['run_id']).execute();
      await db.schema
        .createTable('blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('content_base64', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('environment_locks')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('acquired_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('environment_locks_pk', ['project', 'environment'])
        .execute();
      await db.schema
        .createTable('environment_releases')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('released_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('environment_releases_env')
        .on('environment_releases')
        .columns(['project', 'environment', 'released_at'])
        .execute();
    },
  },
  // How long a stage has waited for the gate or its environment, so that no run waits forever.
  '2026-12-02T1500-executions-stage-waiting-since': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('run_stages').addColumn('waiting_since', 'text').execute();
    },
  },
  // The commits a run deploys to each environment, as its runner saw them at checkout: from
  // the release in force there (or the branch's merge base) to the deployed commit.
  '2026-12-02T1700-executions-run-commits': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('run_commit_ranges')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('since', 'text')
        .addColumn('head', 'text', (c) => c.notNull())
        .addColumn('truncated', 'integer', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('reported_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_commit_ranges_pk', ['run_id', 'environment'])
        .execute();
      await db.schema
        .createTable('run_commits')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('author_name', 'text', (c) => c.notNull())
        .addColumn('author_email', 'text', (c) => c.notNull())
        .addColumn('committer_name', 'text', (c) => c.notNull())
        .addColumn('committer_email', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_commits_pk', ['run_id', 'environment', 'idx'])
        .execute();
    },
  },
  // Which runner's principal holds a job's lease: only it may report under the lease.
  '2026-12-02T1800-executions-lease-holder': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('jobs').addColumn('lease_holder', 'text').execute();
    },
  },
  // The auditor's population lists deploy stages by start time.
  '2026-12-04T0500-executions-deploy-stage-start': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('run_stages_deploy_start')
        .on('run_stages')
        .columns(['type', 'started_at'])
        .execute();
    },
  },
};
