import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const resourceMigrations: ModuleMigrations = {
  '2026-11-22T0520-resources-versions': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      await db.schema
        .createTable('resource_versions')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('applied_by', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('resource_versions_pk', ['kind', 'project', 'name', 'version'])
        .execute();
      await db.schema
        .createTable('resource_heads')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('resource_heads_pk', ['kind', 'project', 'name'])
        .execute();
      // Versions are immutable history: the database refuses to rewrite them.
      if (sqlite) {
        await sql`CREATE TRIGGER resource_versions_no_update BEFORE UPDATE ON resource_versions BEGIN SELECT RAISE(ABORT, 'resource_versions is append-only'); END`.execute(
          db,
        );
        await sql`CREATE TRIGGER resource_versions_no_delete BEFORE DELETE ON resource_versions BEGIN SELECT RAISE(ABORT, 'resource_versions is append-only'); END`.execute(
          db,
        );
      } else {
        await sql`CREATE FUNCTION resource_versions_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'resource_versions is append-only'; END $$ LANGUAGE plpgsql`.execute(
          db,
        );
        await sql`CREATE TRIGGER resource_versions_no_update_delete BEFORE UPDATE OR DELETE ON resource_versions FOR EACH ROW EXECUTE FUNCTION resource_versions_append_only()`.execute(
          db,
        );
      }
    },
  },
  '2026-12-02T1500-resources-governed-versions': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // The version in force (what the owning module's tables hold) may lag the newest
      // version while a governed version waits for a second person.
      await db.schema
        .alterTable('resource_heads')
        .addColumn('in_force_version', 'integer')
        .execute();
      await sql`UPDATE resource_heads SET in_force_version = version WHERE deleted = 0`.execute(db);
      // Governed versions and their approval: pending -> applied | rejected | withdrawn.
      await db.schema
        .createTable('resource_changes')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('approval_id', 'text', (c) => c.notNull().unique())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('closed_by', 'text')
        .addColumn('closed_at', 'text')
        .addColumn('close_reason', 'text')
        .addPrimaryKeyConstraint('resource_changes_pk', ['kind', 'project', 'name', 'version'])
        .execute();
      await db.schema
        .createIndex('resource_changes_pending')
        .on('resource_changes')
        .columns(['kind', 'state'])
        .execute();
    },
  },
};
