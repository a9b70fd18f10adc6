import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/test-app.ts';
import { dialects, postgresAdminUrl } from '../testing/test-databases.ts';

// A full disk, for real: SQLite stops at `max_page_count`; PostgreSQL's tables live in a
// tablespace on a tiny tmpfs that is then filled up.

const bigProject = (name: string) => `apiVersion: custody/v1
kind: Project
metadata:
  name: ${name}
  labels: { filler: "${randomBytes(96 * 1024).toString('base64')}" }
spec: { description: a project too big for the disk }
`;

interface FullDisk {
  free(): Promise<void>;
  release(): Promise<void>;
}

async function fillSqlite(t: TestApp): Promise<FullDisk> {
  const db = t.app.database.db;
  const { rows } = await sql<{ page_count: number }>`PRAGMA page_count`.execute(db);
  const pages = rows[0]!.page_count;
  await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(db);
  return {
    free: async () => {
      await sql.raw(`PRAGMA max_page_count = ${pages * 10}`).execute(db);
    },
    release: async () => {},
  };
}

async function fillPostgres(t: TestApp): Promise<FullDisk> {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-tiny-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  chownSync(dir, uid, gid);
  const space = `tiny_${randomBytes(4).toString('hex')}`;
  const db = t.app.database.db;
  await sql.raw(`CREATE TABLESPACE ${space} LOCATION '${dir}'`).execute(db);
  for (const table of ['resource_heads', 'resource_versions'])
    await sql.raw(`ALTER TABLE ${table} SET TABLESPACE ${space}`).execute(db);
  // What is left of the file system goes to a filler file.
  const filler = path.join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return {
    free: async () => {
      rmSync(filler, { force: true });
    },
    release: async () => {
      const admin = new pg.Client({ connectionString: postgresAdminUrl() });
      await admin.connect();
      try {
        await admin.query(`DROP TABLESPACE IF EXISTS ${space}`);
      } finally {
        await admin.end();
      }
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const dialect of dialects) {
  describe(`a full disk [${dialect}]`, () => {
    let t: TestApp | undefined;
    let disk: FullDisk | undefined;
    afterEach(async () => {
      await t?.close();
      await disk?.release();
      t = undefined;
      disk = undefined;
    });

    it('answers 503 STORAGE_FULL, writes nothing, and the same request succeeds once space is back', async () => {
      t = await createTestApp(dialect);
      await t.apply(bigProject('seed')); // the tables have rows and pages before the disk fills
      const before = await t.app.services.audit.size();
      disk = dialect === 'sqlite' ? await fillSqlite(t) : await fillPostgres(t);
      // A small document first: its rows may still fit, the second's cannot; all or nothing.
      const manifest = `apiVersion: custody/v1\nkind: Project\nmetadata: { name: first }\n---\n${bigProject('overflow')}`;
      const res = await t.apply(manifest);
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('STORAGE_FULL');
      // Nothing half-written: no resource, no version, no audit entry.
      for (const name of ['first', 'overflow']) {
        const get = await t.request({ method: 'GET', url: `/api/v1/resources/Project/${name}` });
        expect(get.statusCode).toBe(404);
      }
      expect(await t.app.services.audit.size()).toBe(before);
      await disk.free();
      const retried = await t.apply(manifest);
      expect(retried.statusCode).toBe(200);
      expect(retried.json().results).toMatchObject([
        { name: 'first', change: 'created' },
        { name: 'overflow', change: 'created' },
      ]);
      expect(await t.app.services.audit.size()).toBe(before + 2);
    });
  });
}
