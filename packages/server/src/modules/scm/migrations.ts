import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const scmMigrations: ModuleMigrations = {
  '2026-11-22T0605-scm-changes': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('scm_commits')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('committer', 'text', (c) => c.notNull())
        .addColumn('pushed_by', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scm_commits_pk', ['provider', 'project', 'repository', 'sha'])
        .execute();
      await db.schema
        .createTable('scm_changes')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('head_sha', 'text')
        .addColumn('merge_commit_sha', 'text')
        .addColumn('merged', 'integer', (c) => c.notNull())
        .addColumn('target_branch', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scm_changes_pk', ['provider', 'project', 'repository', 'number'])
        .execute();
      await db.schema
        .createTable('scm_reviews')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('reviewer', 'text', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('commit_sha', 'text')
        .addColumn('submitted_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('scm_reviews_change')
        .on('scm_reviews')
        .columns(['provider', 'project', 'repository', 'number'])
        .execute();
    },
  },
  // Webhook secrets are platform secrets with a store of their own (never job secrets), and
  // each delivery is processed once.
  '2026-12-03T1010-scm-webhook-secrets-deliveries': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('scm_webhook_secrets')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scm_webhook_secrets_pk', ['project', 'provider'])
        .execute();
      await db.schema
        .createTable('scm_deliveries')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('delivery', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scm_deliveries_pk', ['provider', 'project', 'delivery'])
        .execute();
    },
  },
};
