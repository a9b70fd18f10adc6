import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { bootstrapAdmin, configSchema, startServer, systemContext } from '@custody/server';
import { sql } from 'kysely';

// 200 runs of 5 no-op steps across 4 separate runner processes, against the same 5 steps run
// directly by bash in the same run; once with runners that sandbox each step (bubblewrap, the
// default) and once with runners started --unsafe-no-sandbox, printed side by side. Prints the
// control-plane overhead per step (time between the first step's start and the last step's
// end, less what bash alone needs, per step — for sandboxed steps the sandbox's own start is
// part of the overhead) and the queue-to-start latency (job queued → leased), p50 and p99.
const runs = Number(process.env.BENCH_RUNS ?? 200);
const runnerCount = Number(process.env.BENCH_RUNNERS ?? 4);
const steps = 5;
const dir = mkdtempSync(path.join(tmpdir(), 'custody-bench-sched-'));
chmodSync(dir, 0o755); // unsandboxed steps of a root runner run as 65534 below it
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
const tokenFile = path.join(dir, 'runner.token');
writeFileSync(tokenFile, token + '\n', { mode: 0o600 });

type Mode = 'sandboxed' | 'unsandboxed';
interface Figures {
  overhead: number[];
  queue: number[];
  wall: number;
  jobs: number;
}

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

// The same runs with runner processes that sandbox each step (bubblewrap) and, for the ratio,
// with runner processes started --unsafe-no-sandbox.
async function measure(mode: Mode): Promise<Figures> {
  const runners: ChildProcess[] = [];
  for (let i = 0; i < runnerCount; i++)
    runners.push(
      spawn(
        bin,
        [
          'runner',
          '--server',
          server.url,
          '--token-file',
          tokenFile,
          '--pool',
          'default',
          '--work-dir',
          path.join(dir, `work-${mode}-${i}`),
          '--name',
          `bench-${mode}-${i}`,
          ...(mode === 'unsandboxed' ? ['--unsafe-no-sandbox'] : []),
        ],
        {
          stdio: 'ignore',
          env: { ...process.env, CUSTODY_SERVER: '', CUSTODY_TOKEN: '' },
        },
      ),
    );
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
  await Promise.all(
    runners.map((r) => new Promise((done) => (r.once('exit', done), r.kill('SIGTERM')))),
  );

  const db = server.app.database.db;
  const wanted = new Set(ids);
  const jobs = (
    await sql<{
      id: string;
      created_at: string;
      leased_at: string;
      run_id: string;
    }>`select id, created_at, leased_at, run_id from jobs`.execute(db)
  ).rows.filter((j) => wanted.has(j.run_id));
  const stepRows = (
    await sql<{
      job_id: string;
      started_at: string;
      finished_at: string;
    }>`select job_id, started_at, finished_at from job_steps`.execute(db)
  ).rows;
  const ms = (s: string) => new Date(s).getTime();
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
  return { overhead, queue, wall, jobs: jobs.length };
}

const baselineStep = quantile(direct, 0.5);
const sandboxed = await measure('sandboxed');
const unsandboxed = await measure('unsandboxed');
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
await server.close();

const f = (n: number) => n.toFixed(1).padStart(6);
const both = (label: string, pick: (x: Figures) => number[], note = '') =>
  console.log(
    `  ${label.padEnd(31)}p50 ${f(quantile(pick(sandboxed), 0.5))} ms  p99 ${f(quantile(pick(sandboxed), 0.99))} ms   │ p50 ${f(quantile(pick(unsandboxed), 0.5))} ms  p99 ${f(quantile(pick(unsandboxed), 0.99))} ms${note}`,
  );
console.log(
  `bench/scheduler (${server.app.database.dialect}, ${runs} runs × ${steps} no-op steps, ${runnerCount} runner processes; sandboxed ${sandboxed.wall.toFixed(1)} s, unsandboxed ${unsandboxed.wall.toFixed(1)} s)`,
);
console.log(
  `  ${''.padEnd(31)}${'sandboxed (bubblewrap)'.padEnd(35)}│ unsandboxed (--unsafe-no-sandbox)`,
);
console.log(
  `  ${'bash alone, per step'.padEnd(31)}p50 ${f(baselineStep)} ms  p99 ${f(quantile(direct, 0.99))} ms`,
);
both('control-plane overhead / step', (x) => x.overhead, '   (target: sandboxed p50 ≤ 20 ms)');
both('queue-to-start latency', (x) => x.queue);
console.log(
  `  ${'throughput'.padEnd(31)}${`${((runs * steps) / sandboxed.wall).toFixed(1)} steps/s (${(runs / sandboxed.wall).toFixed(1)} runs/s)`.padEnd(35)}│ ${((runs * steps) / unsandboxed.wall).toFixed(1)} steps/s (${(runs / unsandboxed.wall).toFixed(1)} runs/s)`,
);
console.log(
  `  ${'sandboxed / unsandboxed'.padEnd(31)}overhead p50 × ${(quantile(sandboxed.overhead, 0.5) / quantile(unsandboxed.overhead, 0.5)).toFixed(2)}, throughput × ${(unsandboxed.wall / sandboxed.wall).toFixed(2)}`,
);
console.log(
  `  machine load (1 min / 5 min)   ${loadavg()
    .slice(0, 2)
    .map((l) => l.toFixed(2))
    .join(' / ')} (the figures above compare only at similar load)`,
);
for (const [mode, x] of [
  ['sandboxed', sandboxed],
  ['unsandboxed', unsandboxed],
] as const)
  if (x.jobs !== runs) {
    console.error(`${mode}: expected ${runs} jobs, found ${x.jobs}`);
    process.exitCode = 1;
  }
process.exitCode ??= quantile(sandboxed.overhead, 0.5) <= 20 ? 0 : 1;
