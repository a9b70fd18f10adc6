import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const freezeMigrations: ModuleMigrations = {
  '2026-11-22T0600-freeze-windows-overrides': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('freeze_windows')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('freeze_overrides')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'text', (c) => c.notNull())
        .addColumn('ends_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('windows', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('freeze_overrides_target')
        .on('freeze_overrides')
        .columns(['project', 'environment', 'ends_at'])
        .execute();
    },
  },
};
