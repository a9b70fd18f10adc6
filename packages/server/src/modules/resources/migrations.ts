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
};
