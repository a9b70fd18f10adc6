// A real server (in this process, listening on a loopback port) on SQLite or on a fresh
// PostgreSQL database, for CLI tests that need an audit trail and a database to tamper with.
import { createHmac, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  bootstrapAdmin,
  configSchema,
  createApp,
  createDatabase,
  Ledger,
  ledgerEntryKey,
  systemContext,
  type App,
  type Database,
} from '@custody/server';
import { generateSignerKey } from '@custody/ledger';
import { sql } from 'kysely';
import pino from 'pino';
import { inject } from 'vitest';
import { main } from '../main.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, capturing what it prints. */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    const status = await main(['node', 'custody', ...args]);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

async function adminQuery(text: string): Promise<void> {
  const admin = createDatabase(inject('postgresUrl'));
  try {
    await sql.raw(text).execute(admin.db);
  } finally {
    await admin.destroy();
  }
}

/** A fresh empty database: a temp SQLite file or a new PostgreSQL database. */
export async function freshDatabase(
  dialect: Dialect,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-db-'));
    return {
      url: path.join(dir, 'custody.db'),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `custody_cli_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export interface LedgerFixture {
  readonly app: App;
  readonly db: Database;
  readonly dialect: Dialect;
  readonly url: string;
  readonly token: string;
  readonly verifierKey: string;
  readonly dataDir: string;
  /** Global CLI flags to reach this server. */
  readonly flags: string[];
  /** Appends audit entries until the trail has `size` entries. */
  growTo(size: number): Promise<void>;
  checkpoint(): Promise<{ size: number; note: string }>;
  close(): Promise<void>;
}

export async function startLedgerFixture(
  dialect: Dialect,
  extraConfig: Record<string, unknown> = {},
): Promise<LedgerFixture> {
  const database = await freshDatabase(dialect);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custody-cli-data-'));
  const config = configSchema.parse({
    databaseUrl: database.url,
    dataDir,
    logLevel: 'silent',
    port: 0,
    ...extraConfig,
  });
  const app = await createApp({ config, logger: pino({ level: 'silent' }) });
  const boot = await bootstrapAdmin(app);
  const address = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const url = address.replace('[::1]', '127.0.0.1');
  const token = boot!.token;
  const ctx = systemContext(app, 'test');
  let counter = 0;
  return {
    app,
    db: app.database,
    dialect,
    url,
    token,
    verifierKey: app.services.ledger.service.verifierKey().verifierKey,
    dataDir,
    flags: ['--server', url, '--token', token],
    async growTo(size) {
      for (;;) {
        const n = size - (await app.services.audit.size());
        if (n <= 0) return;
        await app.uow.run(ctx, async (_tx, record) => {
          for (let i = 0; i < Math.min(n, 500); i++) {
            const id = counter++;
            record({
              action: 'test.thing.changed',
              resource: { type: 'thing', id: `thing-${id}` },
              details: { n: id, note: `change ${id}` },
            });
          }
        });
      }
    },
    async checkpoint() {
      const row = await app.services.ledger.checkpointNow();
      return { size: row.size, note: row.note };
    },
    async close() {
      await app.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** SQL an attacker with database access runs first: the append-only triggers go. */
export async function dropAppendOnlyTriggers(f: LedgerFixture): Promise<void> {
  const tables = ['audit_entries', 'ledger_tile_segments', 'ledger_checkpoints', 'ledger_keys'];
  for (const t of tables) {
    if (f.dialect === 'sqlite') {
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_update`).execute(f.db.db);
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_delete`).execute(f.db.db);
    } else {
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_update_delete ON ${t}`).execute(f.db.db);
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_truncate ON ${t}`).execute(f.db.db);
    }
  }
}

/**
 * The attacker rebuilds the ledger from `fromSize` on over the (changed) rows and signs it,
 * with a key of their own or (if they stole it) a copy of the log's key file, on a machine of
 * their own (no signer state). Our Ledger class stands in for the attacker's tool; it is given
 * the application's entry MAC key (which rehashRow uses too) so that it signs what the
 * attacker wants: these tests are about what verification detects.
 */
export async function rebuildLedger(
  f: LedgerFixture,
  fromSize: number,
  keyFile?: string,
): Promise<void> {
  const db = f.db.db;
  // Keep the genuine checkpoints up to fromSize, rebuild the whole tree over the current rows,
  // then put the genuine checkpoints back: a log that looks whole, re-signed from fromSize on.
  const kept = (await sql`select * from ledger_checkpoints where size <= ${fromSize}`.execute(db))
    .rows as Record<string, unknown>[];
  await sql`delete from ledger_checkpoints`.execute(db);
  await sql`delete from ledger_tile_segments`.execute(db);
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'custody-attacker-'));
  const file = path.join(elsewhere, 'ledger.key');
  if (keyFile) copyFileSync(keyFile, file);
  else {
    writeFileSync(file, generateSignerKey('attacker/ledger').signerKey + '\n', { mode: 0o600 });
    await sql`delete from ledger_keys`.execute(db);
  }
  const ledger = new Ledger({
    database: f.db,
    audit: {
      list: (filter) => f.app.services.audit.list(filter),
      leafHashes: (afterSeq, limit) => f.app.services.audit.leafHashes(afterSeq, limit),
      size: () => f.app.services.audit.size(),
      macsFrom: () => f.app.services.audit.macsFrom(),
    },
    key: { dataDir: elsewhere, ledgerKeyFile: file },
    entryKey: () =>
      ledgerEntryKey({ dataDir: f.dataDir, ledgerKeyFile: f.app.config.ledgerKeyFile }),
    clock: f.app.clock,
    logger: pino({ level: 'silent' }),
  });
  await ledger.checkpointNow();
  for (const row of kept) await db.insertInto('ledger_checkpoints').values(row).execute();
}

/**
 * Rewrites the stored leaf hash of a changed row, as a careful attacker would, and its entry
 * MAC as one holding the ledger key could.
 */
export async function rehashRow(f: LedgerFixture, seq: number): Promise<string> {
  const [entry] = await f.app.services.audit.list({ afterSeq: seq - 1, limit: 1 });
  const { leafHash } = await import('@custody/ledger');
  const { leafBytes } = await import('@custody/server');
  const h = Buffer.from(leafHash(leafBytes(entry!))).toString('hex');
  await sql`update audit_entries set leaf_hash = ${h} where seq = ${seq}`.execute(f.db.db);
  await remacRow(f, seq, h);
  return h;
}

/** Gives a row the entry MAC the application would (an attacker holding the ledger key). */
export async function remacRow(f: LedgerFixture, seq: number, leaf: string): Promise<void> {
  const key = ledgerEntryKey({ dataDir: f.dataDir, ledgerKeyFile: f.app.config.ledgerKeyFile });
  const mac = createHmac('sha256', key).update(`${seq}\n${leaf}`).digest('hex');
  await sql`update audit_entries set entry_mac = ${mac} where seq = ${seq}`.execute(f.db.db);
}
