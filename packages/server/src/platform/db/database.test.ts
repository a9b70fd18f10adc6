import pg from 'pg';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase } from './database.ts';
import {
  createPostgresDatabase,
  dropPostgresDatabase,
  postgresAdminUrl,
} from '../testing/test-databases.ts';

describe('PostgreSQL connection pool', () => {
  it('survives an idle connection killed by the server and reconnects for the next query', async () => {
    const url = await createPostgresDatabase();
    const errors: Error[] = [];
    const database = createDatabase(url, { onConnectionError: (err) => errors.push(err) });
    try {
      const before = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(
        database.db,
      );
      const pid = before.rows[0]!.pid;

      const admin = new pg.Client({ connectionString: postgresAdminUrl() });
      await admin.connect();
      try {
        await admin.query('select pg_terminate_backend($1)', [pid]);
      } finally {
        await admin.end();
      }
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect((errors[0] as Error & { code?: string }).code).toBe('57P01');

      const after = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db);
      expect(after.rows[0]!.pid).not.toBe(pid);
    } finally {
      await database.destroy();
      await dropPostgresDatabase(url);
    }
  });
});
