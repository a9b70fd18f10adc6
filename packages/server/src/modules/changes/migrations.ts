import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const changeMigrations: ModuleMigrations = {
  '2026-11-22T0615-changes-requests-templates-connectors': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('change_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('risk_class', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('template', 'text')
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_after_ms', 'integer', (c) => c.notNull())
        .addColumn('review_within_ms', 'integer')
        .addColumn('activated_by', 'text')
        .addColumn('activated_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('review_due_at', 'text')
        .addColumn('reviewed_by', 'text')
        .addColumn('reviewed_at', 'text')
        .addColumn('review_notes', 'text')
        .execute();
      await db.schema
        .createIndex('change_requests_target')
        .on('change_requests')
        .columns(['project', 'environment', 'created_at'])
        .execute();
      await db.schema
        .createIndex('change_requests_review_due')
        .on('change_requests')
        .columns(['review_due_at'])
        .execute();
      await db.schema
        .createTable('change_templates')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('change_connectors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      // Write-only credentials live apart from the versioned document and are never returned.
      await db.schema
        .createTable('change_connector_credentials')
        .addColumn('connector', 'text', (c) => c.primaryKey())
        .addColumn('auth', 'text', (c) => c.notNull())
        .addColumn('username', 'text')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // Break-glass is bound to what it was requested for, and every use of a change is kept.
  '2026-12-02T1600-changes-commit-and-uses': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('change_requests').addColumn('commit_sha', 'text').execute();
      await db.schema
        .createTable('change_uses')
        .addColumn('change_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('commit_sha', 'text')
        .addColumn('intent_hash', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('change_uses_pk', ['change_id', 'run_id', 'stage'])
        .execute();
    },
  },
};
