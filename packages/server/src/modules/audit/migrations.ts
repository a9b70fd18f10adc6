import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const auditMigrations: ModuleMigrations = {
  '2026-11-22T0500-audit-entries': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      const big = sqlite ? 'integer' : 'bigint';
      await db.schema
        .createTable('audit_entries')
        .addColumn('seq', big, (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_name', 'text', (c) => c.notNull())
        .addColumn('auth_method', 'text', (c) => c.notNull())
        .addColumn('actor_ip', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .addColumn('chain_hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_entries_action')
        .on('audit_entries')
        .column('action')
        .execute();
      await db.schema
        .createIndex('audit_entries_actor')
        .on('audit_entries')
        .column('actor_name')
        .execute();
      await db.schema
        .createIndex('audit_entries_resource')
        .on('audit_entries')
        .columns(['resource_type', 'resource_id'])
        .execute();
      await db.schema
        .createIndex('audit_entries_time')
        .on('audit_entries')
        .column('created_at')
        .execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('next_seq', big, (c) => c.notNull())
        .addColumn('chain_hash', 'text', (c) => c.notNull())
        .execute();
      await db
        .insertInto('audit_head')
        .values({ id: 1, next_seq: 0, chain_hash: '0'.repeat(64) })
        .execute();
      // The audit trail is append-only in the database itself, not just in the application.
      if (sqlite) {
        await sql`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`.execute(
          db,
        );
      } else {
        await sql`CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$ LANGUAGE plpgsql`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`.execute(
          db,
        );
      }
    },
  },
  // The per-row hash chain was never verified and, keyless, proved nothing a signed Merkle
  // checkpoint does not; the tree covers every entry. Dropping the columns rewrites no row
  // through UPDATE, so the append-only triggers stay as they are.
  '2026-11-29T1200-audit-drop-chain-hash': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema.alterTable('audit_entries').dropColumn('chain_hash').execute();
      await db.schema.alterTable('audit_head').dropColumn('chain_hash').execute();
    },
  },
  // Each entry carries an HMAC written by the application (entry-mac.ts) that the
  // checkpointer checks before signing. Rows written before this migration have none:
  // `macs_from` records where MACs begin, so the ledger can tell them from rows inserted
  // later without one (docs/reference/ledger.md, threat model). Adding a column runs no UPDATE, so the append-only
  // triggers stay as they are.
  '2026-12-02T1500-audit-entry-macs': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      await db.schema.alterTable('audit_entries').addColumn('entry_mac', 'text').execute();
      await db.schema
        .alterTable('audit_head')
        .addColumn('macs_from', sqlite ? 'integer' : 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`UPDATE audit_head SET macs_from = next_seq`.execute(db);
    },
  },
};
