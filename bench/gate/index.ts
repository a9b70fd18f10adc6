// Deployment gate evaluation latency on SQLite, p50/p99, with every check enabled (deployers,
// promotion, native change record, freeze windows, two approval rules with segregation of
// duties, a policy hook), against an empty gate (an environment without rules) in the same run.
// Target: ≤ 5 ms p50 with all checks.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bootstrapAdmin, configSchema, createApp, systemContext } from '@custody/server';
import { KyselyExecutionStore } from '../../packages/server/src/modules/executions/index.ts';
import {
  DeploymentGate,
  KyselyDeploymentStore,
} from '../../packages/server/src/modules/deployments/index.ts';
import { KyselyRbacStore } from '../../packages/server/src/modules/identity/index.ts';
import { KyselyScmStore } from '../../packages/server/src/modules/scm/index.ts';

const ITERATIONS = Number(process.env.BENCH_GATE_ITERATIONS ?? 2000);
const dataDir = mkdtempSync(path.join(tmpdir(), 'custody-bench-gate-'));
const app = await createApp({
  config: configSchema.parse({
    databaseUrl: `sqlite:${path.join(dataDir, 'custody.db')}`,
    logLevel: 'silent',
    dataDir,
  }),
});
const boot = await bootstrapAdmin(app);
const ctx = systemContext(app, 'bench');
for (const name of ['bob', 'quinn', 'dev'])
  await app.services.identity.createPrincipal(ctx, { kind: 'user', name });

const manifest = `
apiVersion: custody/v1
kind: Group
metadata: { name: release-managers }
spec: { members: [user:bob] }
---
apiVersion: custody/v1
kind: Group
metadata: { name: qa }
spec: { members: [user:quinn] }
---
apiVersion: custody/v1
kind: Project
metadata: { name: bench }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: bench }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: sandbox, project: bench }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: bench }
spec:
  type: production
  deployers: { pipelines: [release], branches: [main, "release/*"] }
  promotion: { requires: [qa] }
  approvals:
    rules:
      - { name: release, group: release-managers, required: 1 }
      - { name: qa, group: qa, required: 1 }
    expiresAfter: 24h
  changeRecord: native
---
apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: weekends }
spec:
  scope: { environmentTypes: [production] }
  timeZone: America/New_York
  schedule:
    recurring: { rrule: "FREQ=WEEKLY;BYDAY=SA,SU", duration: 24h }
  exceptions: [rollback]
---
apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: holidays }
spec:
  scope: { projects: [bench] }
  timeZone: America/New_York
  schedule: { start: 2030-12-24T00:00, end: 2030-12-27T00:00 }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: bench }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps: [{ name: compile, run: make }]
    - name: deploy-production
      type: deploy
      environment: production
      steps: [{ name: deploy, run: ./deploy.sh }]
`;
const applied = await app.http.inject({
  method: 'POST',
  url: '/api/v1/apply',
  headers: { authorization: `Bearer ${boot!.token}`, 'content-type': 'application/yaml' },
  payload: manifest,
});
if (applied.statusCode !== 200) throw new Error(`apply failed: ${applied.body}`);

const change = await app.services.changes.requests.create(
  { ...ctx, actor: { ...ctx.actor, type: 'user', name: 'dev' } },
  { project: 'bench', environment: 'production', riskClass: 'normal', title: 'bench release' },
);

// A run that built one artifact and released it to QA.
const db = app.database.db;
const executions = new KyselyExecutionStore(app.database.dialect);
const at = new Date('2026-11-18T15:00:00Z'); // a Wednesday: no freeze in force
const pv = await app.services.pipelines.version('bench', 'release', 'latest');
await executions.insertRun(
  db,
  {
    id: 'run_bench',
    project: 'bench',
    pipeline: 'release',
    pipeline_version: pv.version,
    content_hash: pv.contentHash,
    repository: 'file:///tmp/none.git',
    branch: 'main',
    commit_sha: 'a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0',
    inputs: JSON.stringify({ change: change.id }),
    trigger: JSON.stringify({ type: 'manual' }),
    state: 'running',
    reason: null,
    cancel_requested: 0,
    created_by: 'user:dev',
    created_at: at.toISOString(),
    started_at: at.toISOString(),
    finished_at: null,
  },
  [
    {
      run_id: 'run_bench',
      idx: 1,
      name: 'deploy-production',
      type: 'deploy',
      environment: 'production',
      pool: 'default',
      state: 'pending',
      generation: 1,
      reason: null,
      waiting_since: null,
      started_at: null,
      finished_at: null,
    },
  ],
);
await executions.insertFile(db, {
  id: 'file_bench',
  run_id: 'run_bench',
  job_id: 'job_bench',
  step_idx: 0,
  kind: 'artifact',
  name: 'app',
  type: 'binary',
  path: 'dist/app',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 1,
  created_at: at.toISOString(),
});
await executions.recordRelease(db, 'bench', 'qa', 'run_bench', at.toISOString());

const store = new KyselyDeploymentStore();
const gate = new DeploymentGate({
  store,
  executions: app.services.engine.reads,
  clock: app.clock,
  projects: app.services.projects,
  freeze: app.services.freeze,
  changes: app.services.changes,
  pipelines: app.services.pipelines,
  governance: app.services.governance,
  directory: app.services.directory,
  sockPuppetWindowMs: null,
  scm: new KyselyScmStore(),
  rbac: new KyselyRbacStore(),
  policy: { evaluate: () => Promise.resolve({ allowed: true, reasons: [] }) },
});
const run = {
  id: 'run_bench',
  project: 'bench',
  pipeline: 'release',
  pipelineVersion: pv.version,
  contentHash: pv.contentHash,
  branch: 'main',
  commit: 'a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0',
  inputs: { change: change.id },
  trigger: { type: 'manual' },
  createdBy: 'user:dev',
};
const evaluate = (environment: string) =>
  db.transaction().execute((tx) =>
    gate.evaluate(tx, () => {}, {
      run,
      stage: { name: `deploy-${environment}` },
      environment,
      at,
    }),
  );

// The first evaluation opens the approval request; two approvers then meet both rules.
const first = await evaluate('production');
for (const principal of ['user:bob', 'user:quinn'])
  await store.insertVote(db, {
    request_id: first.approval!.id,
    principal,
    decision: 'approve',
    comment: null,
    decided_at: at.toISOString(),
  });
const full = await evaluate('production');
if (!full.allowed) {
  console.error('gate refused the bench deployment:', JSON.stringify(full.reasons, null, 2));
  process.exit(1);
}

async function measure(environment: string): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 100; i++) await evaluate(environment); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = process.hrtime.bigint();
    await evaluate(environment);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50: q(0.5), p99: q(0.99) };
}

const empty = await measure('sandbox');
const all = await measure('production');
const fmt = (n: number) => `${n.toFixed(3)} ms`;
console.log(`bench/gate: ${ITERATIONS} evaluations each, SQLite`);
console.log(`  empty gate (no rules)    p50 ${fmt(empty.p50)}  p99 ${fmt(empty.p99)}`);
console.log(
  `  all checks (deployers, promotion, change, freeze, approvals, policy)  p50 ${fmt(all.p50)}  p99 ${fmt(all.p99)}`,
);
console.log(`  target p50 ≤ 5 ms: ${all.p50 <= 5 ? 'met' : 'NOT met'}`);
await app.close();
process.exit(all.p50 <= 5 ? 0 : 1);
