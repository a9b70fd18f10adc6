import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const ledgerMigrations: ModuleMigrations = {
  '2026-11-22T0600-ledger-tree': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      const big = sqlite ? 'integer' : 'bigint';
      const bytes = sqlite ? 'blob' : 'bytea';
      // Hashes of the tree nodes at tree levels 0, 8, 16, ... (the contents of tlog tiles):
      // row (level L, idx i) is node (8L, i). Level 0 holds the leaf hashes the ledger
      // computed when it integrated each audit entry.
      await db.schema
        .createTable('ledger_hashes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', big, (c) => c.notNull())
        .addColumn('hash', bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_hashes_pk', ['level', 'idx'])
        .execute();
      // Every signed checkpoint, with the compact range the next integration continues from.
      await db.schema
        .createTable('ledger_checkpoints')
        .addColumn('size', big, (c) => c.primaryKey())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('range_state', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signed_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // Verifier keys the log has used; a replica with another key refuses to sign.
      await db.schema
        .createTable('ledger_keys')
        .addColumn('verifier_key', 'text', (c) => c.primaryKey())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      for (const table of ['ledger_hashes', 'ledger_checkpoints', 'ledger_keys']) {
        if (sqlite) {
          await sql
            .raw(
              `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
            )
            .execute(db);
          await sql
            .raw(
              `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
            )
            .execute(db);
        } else {
          await sql
            .raw(
              `CREATE FUNCTION ${table}_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '${table} is append-only'; END $$ LANGUAGE plpgsql`,
            )
            .execute(db);
          await sql
            .raw(
              `CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`,
            )
            .execute(db);
          await sql
            .raw(
              `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only()`,
            )
            .execute(db);
        }
      }
    },
  },
  // Tile hashes as segments (a run of consecutive hashes of one tile) instead of one row per
  // hash: an integration writes a few rows per tile level, not one per entry.
  '2026-11-22T0620-ledger-tile-segments': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      const big = sqlite ? 'integer' : 'bigint';
      const bytes = sqlite ? 'blob' : 'bytea';
      // Row (level L, tile T, start S) holds hashes S, S+1, ... of tile L/T: tree nodes
      // (8L, 256 T + S), ... concatenated, 32 bytes each.
      await db.schema
        .createTable('ledger_tile_segments')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('tile', big, (c) => c.notNull())
        .addColumn('start', 'integer', (c) => c.notNull())
        .addColumn('hashes', bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_tile_segments_pk', ['level', 'tile', 'start'])
        .execute();
      await sql`INSERT INTO ledger_tile_segments (level, tile, start, hashes) SELECT level, idx / 256, idx % 256, hash FROM ledger_hashes`.execute(
        db,
      );
      await db.schema.dropTable('ledger_hashes').execute();
      if (!sqlite) await sql.raw('DROP FUNCTION ledger_hashes_append_only()').execute(db);
      const table = 'ledger_tile_segments';
      if (sqlite) {
        await sql
          .raw(
            `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
          )
          .execute(db);
        await sql
          .raw(
            `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
          )
          .execute(db);
      } else {
        await sql
          .raw(
            `CREATE FUNCTION ${table}_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '${table} is append-only'; END $$ LANGUAGE plpgsql`,
          )
          .execute(db);
        await sql
          .raw(
            `CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`,
          )
          .execute(db);
        await sql
          .raw(
            `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only()`,
          )
          .execute(db);
      }
    },
  },
  // Witness cosignatures of checkpoints (c2sp.org/tlog-cosignature) and the control
  // failures the checkpointer detected (an entry without a valid MAC, a database that does
  // not extend the signer's state). Both are evidence: append-only like the rest.
  '2026-12-02T1510-ledger-cosignatures-control-failures': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      const big = sqlite ? 'integer' : 'bigint';
      await db.schema
        .createTable('ledger_cosignatures')
        .addColumn('witness', 'text', (c) => c.notNull())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('cosigned_at', big, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_cosignatures_pk', ['witness', 'size'])
        .execute();
      await db.schema
        .createIndex('ledger_cosignatures_size')
        .on('ledger_cosignatures')
        .column('size')
        .execute();
      await db.schema
        .createTable('ledger_control_failures')
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('detected_at', 'text', (c) => c.notNull())
        .addColumn('detected_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_control_failures_pk', ['code', 'seq'])
        .execute();
      for (const table of ['ledger_cosignatures', 'ledger_control_failures']) {
        if (sqlite) {
          for (const op of ['update', 'delete'])
            await sql
              .raw(
                `CREATE TRIGGER ${table}_no_${op} BEFORE ${op.toUpperCase()} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
              )
              .execute(db);
        } else {
          await sql
            .raw(
              `CREATE FUNCTION ${table}_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '${table} is append-only'; END $$ LANGUAGE plpgsql`,
            )
            .execute(db);
          await sql
            .raw(
              `CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_append_only()`,
            )
            .execute(db);
          await sql
            .raw(
              `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only()`,
            )
            .execute(db);
        }
      }
    },
  },
};
