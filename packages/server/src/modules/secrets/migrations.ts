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
};
