import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const secretMigrations: ModuleMigrations = {
  '2026-11-22T0604-secrets-secrets': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('secrets')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('pools', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('secrets_pk', ['project', 'environment', 'name'])
        .execute();
    },
  },
  // The sealing keys replicas have sealed under (ids only, never keys): a replica that lacks
  // one of them refuses to start instead of failing leases later.
  '2026-12-03T1000-secrets-sealing-keys': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sealing_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('registered_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
    },
  },
  // Versions of secrets whose scope reaches production wait here for a second person; the
  // secrets table keeps the version in force (what jobs receive). `sealed` is emptied once the
  // version is decided or withdrawn: an applied value lives on in `secrets`, a refused one
  // nowhere.
  '2026-12-04T1100-secrets-pending-versions': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('secret_changes')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('pools', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text')
        .addColumn('sealed_digest', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('reaches', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('approval_id', 'text', (c) => c.notNull().unique())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('closed_by', 'text')
        .addColumn('closed_at', 'text')
        .addColumn('close_reason', 'text')
        .addPrimaryKeyConstraint('secret_changes_pk', ['project', 'environment', 'name', 'version'])
        .execute();
      await db.schema
        .createIndex('secret_changes_pending')
        .on('secret_changes')
        .columns(['project', 'state', 'environment', 'name'])
        .execute();
      // Who approved the version in force, when a second person had to.
      await db.schema.alterTable('secrets').addColumn('approval_id', 'text').execute();
      await db.schema.alterTable('secrets').addColumn('approved_by', 'text').execute();
    },
  },
};
