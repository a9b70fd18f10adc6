import { sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const controlMigrations: ModuleMigrations = {
  '2026-12-04T0610-controls-check-states': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // One row per period in which a check of an environment held one state; the open period
      // has `until_at` null. A convenience for reading: the ledger's entries are the record.
      await db.schema
        .createTable('control_check_states')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('check_id', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('cause', 'text', (c) => c.notNull())
        .addColumn('from_at', 'text', (c) => c.notNull())
        .addColumn('until_at', 'text')
        .execute();
      await db.schema
        .createIndex('control_check_states_target')
        .on('control_check_states')
        .columns(['project', 'environment', 'check_id', 'from_at'])
        .execute();
      await db.schema
        .createIndex('control_check_states_from')
        .on('control_check_states')
        .columns(['from_at', 'id'])
        .execute();
      // At most one open period per check: of two transactions that move the same check at
      // once, one commits and the other rolls back (with its change) instead of doubling it.
      await sql`create unique index control_check_states_open on control_check_states (project, environment, check_id) where until_at is null`.execute(
        db,
      );
    },
  },
};
