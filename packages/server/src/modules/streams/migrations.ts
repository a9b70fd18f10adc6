import { SqliteAdapter, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const streamMigrations: ModuleMigrations = {
  '2026-11-22T0610-streams-destinations': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      const big = sqlite ? 'integer' : 'bigint';
      // The current version of each AuditStream resource (history lives in resources).
      await db.schema
        .createTable('stream_destinations')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      // Where each destination is in the audit trail: the next seq to deliver.
      await db.schema
        .createTable('stream_cursors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('next_seq', big, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_attempt_at', 'text')
        .addColumn('last_delivery_at', 'text')
        .execute();
      // Write-only secrets (HMAC keys, tokens), sealed with AES-256-GCM.
      await db.schema
        .createTable('stream_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  // The last ledger checkpoint (size) each destination received, for `checkpoints: true`.
  '2026-12-02T1520-streams-checkpoint-cursor': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      await db.schema
        .alterTable('stream_cursors')
        .addColumn('checkpoint_size', sqlite ? 'integer' : 'bigint')
        .execute();
    },
  },
};
