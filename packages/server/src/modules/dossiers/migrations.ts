import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const dossierMigrations: ModuleMigrations = {
  '2026-12-04T0600-dossiers-built': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      await db.schema
        .createTable('dossiers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('deployment_id', 'text', (c) => c.notNull())
        .addColumn('final', 'integer', (c) => c.notNull())
        .addColumn('manifest_sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('zip', sqlite ? 'blob' : 'bytea', (c) => c.notNull())
        .execute();
      // A finished deployment has one dossier; it is served again, never rebuilt.
      await sql`CREATE UNIQUE INDEX dossiers_final ON dossiers (deployment_id) WHERE final = 1`.execute(
        db,
      );
      await sql`CREATE INDEX dossiers_deployment ON dossiers (deployment_id, created_at)`.execute(
        db,
      );
      // Built dossiers are evidence: append-only in the database itself.
      if (sqlite) {
        await sql`CREATE TRIGGER dossiers_no_update BEFORE UPDATE ON dossiers BEGIN SELECT RAISE(ABORT, 'dossiers is append-only'); END`.execute(
          db,
        );
        await sql`CREATE TRIGGER dossiers_no_delete BEFORE DELETE ON dossiers BEGIN SELECT RAISE(ABORT, 'dossiers is append-only'); END`.execute(
          db,
        );
      } else {
        await sql`CREATE FUNCTION dossiers_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'dossiers is append-only'; END $$ LANGUAGE plpgsql`.execute(
          db,
        );
        await sql`CREATE TRIGGER dossiers_no_update_delete BEFORE UPDATE OR DELETE ON dossiers FOR EACH ROW EXECUTE FUNCTION dossiers_append_only()`.execute(
          db,
        );
        await sql`CREATE TRIGGER dossiers_no_truncate BEFORE TRUNCATE ON dossiers FOR EACH STATEMENT EXECUTE FUNCTION dossiers_append_only()`.execute(
          db,
        );
      }
    },
  },
};
