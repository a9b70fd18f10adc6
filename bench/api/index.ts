import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bootstrapAdmin, configSchema, startServer } from '@custody/server';
import { load } from '../load.ts';

// Authenticated GET (token lookup + RBAC + the audit read path) against bare /healthz on the
// same server in the same run; the ratio is what authentication and authorization cost.
// Then one page of the Project listing with 40 projects and again with 4,000: keyset
// pagination makes the page cost independent of how many exist (ratio close to 1).
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const dir = mkdtempSync(path.join(tmpdir(), 'custody-bench-api-'));
const config = configSchema.parse({
  databaseUrl: process.env.DATABASE_URL ?? path.join(dir, 'custody.db'),
  port: 0,
  logLevel: 'silent',
  dataDir: dir,
  // The limiters run (their cost is measured) but one client at full speed stays under them.
  rateLimitPerAddress: '1000000000/1m',
  rateLimitPerPrincipal: '1000000000/1m',
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

const pageSize = Number(process.env.BENCH_PAGE_SIZE ?? 20);
async function addProjects(from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 1000) {
    const docs = [];
    for (let i = start; i < Math.min(to, start + 1000); i++)
      docs.push(
        `apiVersion: custody/v1\nkind: Project\nmetadata: { name: p${String(i).padStart(5, '0')} }\n`,
      );
    const res = await fetch(`${server.url}/api/v1/apply`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/yaml' },
      body: docs.join('---\n'),
    });
    if (!res.ok) throw new Error(`apply failed: ${res.status} ${await res.text()}`);
  }
}
// A page from the middle of the listing, reached with the cursor of the page before it.
async function middlePage(): Promise<string> {
  const all = await fetch(`${server.url}/api/v1/resources/Project?limit=${pageSize}`, { headers });
  const { next } = (await all.json()) as { next: string | null };
  return `${server.url}/api/v1/resources/Project?limit=${pageSize}${next ? `&cursor=${next}` : ''}`;
}
await addProjects(0, 40);
const small = await load(await middlePage(), { headers, concurrency, seconds });
await addProjects(40, 4000);
const large = await load(await middlePage(), { headers, concurrency, seconds });
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
console.log(
  `  GET /api/v1/resources/Project?limit=${pageSize}, 40 projects    ${fmt(small.throughput)} req/s  p50 ${fmt(small.p50Ms)} ms  p99 ${fmt(small.p99Ms)} ms  errors ${small.errors}`,
);
console.log(
  `  GET /api/v1/resources/Project?limit=${pageSize}, 4,000 projects ${fmt(large.throughput)} req/s  p50 ${fmt(large.p50Ms)} ms  p99 ${fmt(large.p99Ms)} ms  errors ${large.errors}`,
);
console.log(
  `  ratio 4,000/40 projects: throughput ${(large.throughput / small.throughput).toFixed(2)}, p50 ${(large.p50Ms / small.p50Ms).toFixed(2)}x`,
);
if ([authed, baseline, small, large].some((r) => r.errors > 0)) process.exitCode = 1;
