import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Database, type DialectName } from '../db/database.ts';

// Every store test runs on both dialects: `for (const dialect of dialects) describe(...)`.
export const dialects: readonly DialectName[] = ['sqlite', 'postgres'];

export function postgresAdminUrl(): string {
  return inject('postgresUrl');
}

// A fresh, empty database per call: a temp SQLite file, or a new database in the shared
// PostgreSQL server (dropped again by destroy()).
export async function createTestDatabase(dialect: DialectName): Promise<Database> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-sqlite-'));
    const database = createDatabase(path.join(dir, 'custody.db'));
    return {
      ...database,
      destroy: async () => {
        await database.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = await createPostgresDatabase();
  const database = createDatabase(url);
  return {
    ...database,
    destroy: async () => {
      await database.destroy();
      await dropPostgresDatabase(url);
    },
  };
}

export async function createPostgresDatabase(): Promise<string> {
  const admin = postgresAdminUrl();
  const name = `custody_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: postgresAdminUrl() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
