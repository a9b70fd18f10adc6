import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bootstrapAdmin, configSchema, startServer } from '@custody/server';
import { load } from '../load.ts';

// Authenticated GET (token lookup + RBAC + the audit read path) against bare /healthz on the
// same server in the same run; the ratio is what authentication and authorization cost.
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const dir = mkdtempSync(path.join(tmpdir(), 'custody-bench-api-'));
const config = configSchema.parse({
  databaseUrl: process.env.DATABASE_URL ?? path.join(dir, 'custody.db'),
  port: 0,
  logLevel: 'silent',
  dataDir: dir,
});
const server = await startServer({ config });
const boot = await bootstrapAdmin(server.app);
if (!boot) throw new Error('bench needs a fresh database');
const headers = { authorization: `Bearer ${boot.token}` };

await load(`${server.url}/healthz`, { concurrency, seconds: 1 }); // warm-up
const baseline = await load(`${server.url}/healthz`, { concurrency, seconds });
const authed = await load(`${server.url}/api/v1/audit/entries?limit=10`, {
  headers,
  concurrency,
  seconds,
});
await server.close();

const fmt = (n: number) => n.toFixed(1);
console.log(
  `bench/api (${server.app.database.dialect}, ${concurrency} connections, ${seconds}s each)`,
);
console.log(
  `  GET /healthz                   ${fmt(baseline.throughput)} req/s  p50 ${fmt(baseline.p50Ms)} ms  p99 ${fmt(baseline.p99Ms)} ms  errors ${baseline.errors}`,
);
console.log(
  `  GET /api/v1/audit/entries (auth) ${fmt(authed.throughput)} req/s  p50 ${fmt(authed.p50Ms)} ms  p99 ${fmt(authed.p99Ms)} ms  errors ${authed.errors}`,
);
console.log(
  `  ratio authenticated/baseline: throughput ${(authed.throughput / baseline.throughput).toFixed(2)}, p99 ${(authed.p99Ms / baseline.p99Ms).toFixed(2)}x`,
);
if (authed.errors > 0 || baseline.errors > 0) process.exitCode = 1;
