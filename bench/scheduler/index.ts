import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { bootstrapAdmin, configSchema, startServer, systemContext } from '@custody/server';
import { sql } from 'kysely';

// 200 runs of 5 no-op steps across 4 separate runner processes, against the same 5 steps run
// directly by bash in the same run. Prints the control-plane overhead per step (time between
// the first step's start and the last step's end, less what bash alone needs, per step) and the
// queue-to-start latency (job queued → leased by a runner), p50 and p99.
const runs = Number(process.env.BENCH_RUNS ?? 200);
const runnerCount = Number(process.env.BENCH_RUNNERS ?? 4);
const steps = 5;
const dir = mkdtempSync(path.join(tmpdir(), 'custody-bench-sched-'));
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(repoRoot, 'node_modules', '.bin', 'custody');

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

// Baseline: the same steps, bash spawned directly, as the runner spawns it.
const direct: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) spawnSync('bash', ['-eo', 'pipefail', '-c', 'true']);
  direct.push((performance.now() - t0) / steps);
}

const repo = path.join(dir, 'repo');
mkdirSync(repo);
writeFileSync(path.join(repo, 'README'), 'bench\n');
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@x',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@x',
};
for (const args of [
  ['init', '-q', '-b', 'main'],
  ['add', '.'],
  ['commit', '-q', '-m', 'bench'],
])
  execFileSync('git', args, { cwd: repo, env: gitEnv });

const config = configSchema.parse({
  databaseUrl: process.env.DATABASE_URL ?? path.join(dir, 'custody.db'),
  port: 0,
  logLevel: 'silent',
  dataDir: path.join(dir, 'data'),
});
const server = await startServer({ config });
const boot = await bootstrapAdmin(server.app);
if (!boot) throw new Error('bench needs a fresh database');
const headers = { authorization: `Bearer ${boot.token}`, 'content-type': 'application/json' };
const stepsYaml = Array.from(
  { length: steps },
  (_, i) => `        - { name: s${i}, run: 'true' }`,
).join('\n');
const applied = await fetch(`${server.url}/api/v1/apply`, {
  method: 'POST',
  headers: { ...headers, 'content-type': 'application/yaml' },
  body: `apiVersion: custody/v1
kind: Project
metadata: { name: bench }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: noop, project: bench }
spec:
  source: { repository: 'file://${repo}', branch: main }
  concurrency: 100
  stages:
    - name: work
      type: ci
      steps:
${stepsYaml}
`,
});
if (!applied.ok) throw new Error(`apply failed: ${await applied.text()}`);
const { token } = await server.app.services.runners.createToken(
  systemContext(server.app, 'bench'),
  {
    name: 'bench',
    pools: ['default'],
    ttlMs: 86_400_000,
  },
);
const runners: ChildProcess[] = [];
for (let i = 0; i < runnerCount; i++)
  runners.push(
    spawn(
      bin,
      [
        'runner',
        '--server',
        server.url,
        '--token',
        token,
        '--pool',
        'default',
        '--work-dir',
        path.join(dir, `work-${i}`),
        '--name',
        `bench-${i}`,
      ],
      {
        stdio: 'ignore',
        env: { ...process.env, CUSTODY_SERVER: '', CUSTODY_TOKEN: '' },
      },
    ),
  );

const runOnce = async (): Promise<string> => {
  const res = await fetch(`${server.url}/api/v1/projects/bench/pipelines/noop/runs`, {
    method: 'POST',
    headers,
    body: '{}',
  });
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const r = (await (await fetch(`${server.url}/api/v1/runs/${id}`, { headers })).json()) as {
      state: string;
      reason: string | null;
    };
    if (r.state === 'succeeded') return id;
    if (r.state === 'failed' || r.state === 'cancelled')
      throw new Error(`run ${id} ${r.state}: ${r.reason}`);
  }
};
await runOnce(); // warm-up: runner processes registered, caches warm
const t0 = performance.now();
let next = 0;
const ids: string[] = [];
await Promise.all(
  Array.from({ length: runnerCount }, async () => {
    while (next < runs) {
      next++;
      ids.push(await runOnce());
    }
  }),
);
const wall = (performance.now() - t0) / 1000;

const db = server.app.database.db;
const jobs = (
  await sql<{
    id: string;
    created_at: string;
    leased_at: string;
    run_id: string;
  }>`select id, created_at, leased_at, run_id from jobs`.execute(db)
).rows.filter((j) => ids.includes(j.run_id));
const stepRows = (
  await sql<{
    job_id: string;
    started_at: string;
    finished_at: string;
  }>`select job_id, started_at, finished_at from job_steps`.execute(db)
).rows;
const ms = (s: string) => new Date(s).getTime();
const baselineStep = quantile(direct, 0.5);
const overhead: number[] = [];
const queue: number[] = [];
for (const job of jobs) {
  const mine = stepRows.filter((s) => s.job_id === job.id);
  const span =
    Math.max(...mine.map((s) => ms(s.finished_at))) -
    Math.min(...mine.map((s) => ms(s.started_at)));
  overhead.push(span / steps - baselineStep);
  queue.push(ms(job.leased_at) - ms(job.created_at));
}
if (process.env.BENCH_DEBUG) {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const sums = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const m = line.match(
      /^custody_http_request_duration_seconds_(sum|count)\{method="(\w+)",route="([^"]+)"\} ([\d.e-]+)/,
    );
    if (m) sums.set(`${m[2]} ${m[3]} ${m[1]}`, Number(m[4]));
  }
  for (const [k, v] of sums)
    if (k.endsWith(' count'))
      console.log(
        `  ${k.slice(0, -6).padEnd(50)} n=${v} mean=${((1000 * sums.get(k.replace(/count$/, 'sum'))!) / v).toFixed(1)} ms`,
      );
}
for (const r of runners) r.kill('SIGTERM');
await server.close();

const f = (n: number) => n.toFixed(1).padStart(6);
console.log(
  `bench/scheduler (${server.app.database.dialect}, ${runs} runs × ${steps} no-op steps, ${runnerCount} runner processes, ${wall.toFixed(1)} s)`,
);
console.log(
  `  bash alone, per step           p50 ${f(baselineStep)} ms  p99 ${f(quantile(direct, 0.99))} ms`,
);
console.log(
  `  control-plane overhead / step  p50 ${f(quantile(overhead, 0.5))} ms  p99 ${f(quantile(overhead, 0.99))} ms   (target p50 ≤ 20 ms)`,
);
console.log(
  `  queue-to-start latency         p50 ${f(quantile(queue, 0.5))} ms  p99 ${f(quantile(queue, 0.99))} ms`,
);
console.log(
  `  throughput                     ${((runs * steps) / wall).toFixed(1)} steps/s (${(runs / wall).toFixed(1)} runs/s)`,
);
console.log(
  `  machine load (1 min / 5 min)   ${loadavg()
    .slice(0, 2)
    .map((l) => l.toFixed(2))
    .join(' / ')} (the figures above compare only at similar load)`,
);
if (jobs.length !== runs) {
  console.error(`expected ${runs} jobs, found ${jobs.length}`);
  process.exitCode = 1;
}
process.exitCode ??= quantile(overhead, 0.5) <= 20 ? 0 : 1;
