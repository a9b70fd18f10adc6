import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../app.ts';
import { systemContext } from '../../bootstrap.ts';
import { ManualClock } from '../../platform/clock.ts';
import { configSchema } from '../../platform/config/config.ts';
import { createDatabase } from '../../platform/db/database.ts';
import { createLogger } from '../../platform/log/logger.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const solo = `apiVersion: custody/v1
kind: Pipeline
metadata: { name: limited, project: shop }
spec:
  source: { repository: file:///tmp/none.git }
  concurrency: 1
  stages:
    - name: flaky
      type: ci
      runnerPool: solo
      failureStrategy: retry
      retries: 1
      steps:
        - { name: try, run: ./try.sh, timeout: 1s }
    - name: optional
      type: ci
      runnerPool: solo
      failureStrategy: ignore
      steps:
        - { name: lint, run: ./lint.sh }
    - name: last
      type: ci
      runnerPool: solo
      steps:
        - { name: done, run: 'true' }
`;

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  inputs:
    - { name: reason, default: routine }
  stages:
    - name: build
      type: ci
      steps:
        - { name: compile, run: make }
        - { name: test, run: make test }
    - name: deploy-qa
      type: deploy
      environment: qa
      failureStrategy: rollback
      steps:
        - { name: deploy, run: ./deploy.sh qa }
      rollback:
        - { name: restore, run: ./deploy.sh qa previous }
`;

interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
  kind: string;
  attempt: number;
  steps: { name: string }[];
  secrets: Record<string, string>;
  artifacts: { env: string; digest: string }[];
}

for (const dialect of dialects) {
  describe(`execution engine [${dialect}]`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let runner: TestRunner;
    let dev: string;

    const api = (method: 'GET' | 'POST' | 'PUT', url: string, json?: unknown, token?: string) =>
      callApi(t, method, url, json, token);
    const lease = () => runner.lease<Job>();
    const report = (job: Job, what: string, json: Record<string, unknown> = {}) =>
      runner.report(job, what, json);
    // Plays a runner: every step succeeds unless `fail` names it.
    const play = async (job: Job, fail?: string) => {
      let ok = true;
      for (const [i, step] of job.steps.entries()) {
        expect((await report(job, 'steps/start', { step: i })).status).toBe(200);
        const content = `running ${step.name}\n`;
        expect(
          (await report(job, 'logs', { step: i, seq: 0, content, sha256: sha(content) })).status,
        ).toBe(200);
        const failed = step.name === fail;
        await report(job, 'steps/finish', {
          step: i,
          result: failed ? 'failed' : 'succeeded',
          exitCode: failed ? 1 : 0,
          attempts: 1,
        });
        if (failed) {
          ok = false;
          break;
        }
      }
      expect((await report(job, 'complete', { result: ok ? 'succeeded' : 'failed' })).status).toBe(
        200,
      );
    };
    const run = async (id: string) => (await api('GET', `/api/v1/runs/${id}`)).body;

    beforeAll(async () => {
      clock = new ManualClock('2026-11-22T10:00:00Z');
      t = await createTestApp(dialect, {
        clock,
        config: { dataDir: mkdtempSync(path.join(tmpdir(), 'custody-exec-')) },
        engine: { leaseTtlMs: 10_000, requeueTimeoutMs: 60_000 },
      });
      expect((await t.apply(manifest)).statusCode).toBe(200);
      runner = await TestRunner.register(t);
      dev = await t.user('dana', ['developer@project:shop']);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a runner token serves only its pools', async () => {
      const res = await api(
        'POST',
        '/api/v1/runner/register',
        { name: 'r1', pools: ['prod'] },
        runner.token,
      );
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('RUNNERS_POOL_FORBIDDEN');
    });

    it('runs stages in order through jobs, records every transition, and the exact version', async () => {
      const created = await api(
        'POST',
        '/api/v1/projects/shop/pipelines/release/runs',
        { inputs: { reason: 'x' } },
        dev,
      );
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect(created.body).toMatchObject({
        state: 'running',
        pipelineVersion: 1,
        createdBy: 'user:dana',
      });
      const build = (await lease())!;
      expect(build).toMatchObject({ stage: 'build', kind: 'main', attempt: 1 });
      expect(await lease()).toBeNull(); // deploy-qa waits for build
      await play(build);
      const deploy = (await lease())!;
      expect(deploy.stage).toBe('deploy-qa');
      await play(deploy);
      const detail = await run(id);
      expect(detail.state).toBe('succeeded');
      expect(detail.stages.map((s: { state: string }) => s.state)).toEqual([
        'succeeded',
        'succeeded',
      ]);
      expect(detail.stages[0].jobs[0].steps[1]).toMatchObject({
        name: 'test',
        state: 'succeeded',
        exitCode: 0,
      });
      const logs = (await api('GET', `/api/v1/runs/${id}/logs?step=test`)).body;
      expect(logs.chunks).toHaveLength(1);
      expect(logs.chunks[0]).toMatchObject({
        content: 'running test\n',
        sha256: sha('running test\n'),
      });
      const audit = (await api('GET', `/api/v1/audit/entries?limit=1000`)).body;
      const actions = (audit.entries as { action: string }[]).map((e) => e.action);
      for (const a of [
        'executions.run.created',
        'executions.run.started',
        'executions.job.leased',
        'executions.step.succeeded',
        'executions.stage.succeeded',
        'executions.run.succeeded',
      ])
        expect(actions).toContain(a);
    });

    it('a failed deploy rolls back and the run fails', async () => {
      const id = (await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev)).body
        .id as string;
      await play((await lease())!);
      await play((await lease())!, 'deploy');
      const rollback = (await lease())!;
      expect(rollback).toMatchObject({ stage: 'deploy-qa', kind: 'rollback' });
      await play(rollback);
      const detail = await run(id);
      expect(detail.state).toBe('failed');
      expect(detail.stages[1].state).toBe('rolled_back');
    });

    it('a lost runner: the job is requeued once, then fails with RUNNER_LOST; the run ends', async () => {
      const id = (await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev)).body
        .id as string;
      const first = (await lease())!;
      await report(first, 'steps/start', { step: 0 });
      clock.advance(11_000);
      await t.app.services.engine.tick();
      expect((await report(first, 'heartbeat')).body.error.code).toBe('EXECUTIONS_LEASE_LOST');
      const second = (await lease())!;
      expect(second).toMatchObject({ jobId: first.jobId, attempt: 2 });
      clock.advance(11_000);
      await t.app.services.engine.tick();
      await t.app.services.engine.tick();
      const detail = await run(id);
      expect(detail.state).toBe('failed');
      expect(detail.reason).toBe('RUNNER_LOST');
      expect(detail.stages[1].state).toBe('skipped');
    });

    it('one deploy at a time per environment', async () => {
      const a = (await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev)).body
        .id as string;
      const b = (await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev)).body
        .id as string;
      let deployA: Job | undefined;
      for (let i = 0; i < 3 && !deployA; i++) {
        const job = (await lease())!;
        if (job.stage === 'build') await play(job);
        else deployA = job;
      }
      expect(deployA?.stage).toBe('deploy-qa');
      if (!deployA) return;
      const [holder, waiter] = (await run(a)).stages[1].state === 'running' ? [a, b] : [b, a];
      for (let job = await lease(); job; job = await lease()) {
        expect(job.stage).toBe('build');
        await play(job);
      }
      await report(deployA, 'steps/start', { step: 0 });
      await t.app.services.engine.tick();
      expect((await run(waiter)).stages[1].state).toBe('waiting');
      expect((await run(holder)).stages[1].state).toBe('running');
      expect(await lease()).toBeNull();
      await report(deployA, 'steps/finish', {
        step: 0,
        result: 'succeeded',
        exitCode: 0,
        attempts: 1,
      });
      await report(deployA, 'complete', { result: 'succeeded' });
      await t.app.services.engine.tick();
      const deployB = (await lease())!;
      expect(deployB.stage).toBe('deploy-qa');
      await play(deployB);
      expect((await run(a)).state).toBe('succeeded');
      expect((await run(b)).state).toBe('succeeded');
    });

    it('cancel ends queued work and tells the runner through its heartbeat', async () => {
      const id = (await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev)).body
        .id as string;
      const job = (await lease())!;
      const cancelled = await api('POST', `/api/v1/runs/${id}/cancel`, undefined, dev);
      expect(cancelled.status).toBe(200);
      expect((await report(job, 'heartbeat')).body.cancel).toBe(true);
      await report(job, 'complete', { result: 'cancelled' });
      const detail = await run(id);
      expect(detail.state).toBe('cancelled');
      expect(detail.stages.map((s: { state: string }) => s.state)).toEqual([
        'cancelled',
        'cancelled',
      ]);
      expect((await api('POST', `/api/v1/runs/${id}/cancel`, undefined, dev)).body.error.code).toBe(
        'EXECUTIONS_RUN_FINISHED',
      );
    });

    // Replicas share PostgreSQL (SQLite is the single-process embedded mode).
    if (dialect === 'postgres')
      it('two replicas on one database never lease a job twice, and a lease expiry fires once', async () => {
        const second = await createApp({
          config: configSchema.parse({
            databaseUrl: t.app.database.url,
            logLevel: 'silent',
            dataDir: t.app.config.dataDir,
          }),
          database: createDatabase(t.app.database.url),
          logger: createLogger('silent'),
          clock,
          engine: { leaseTtlMs: 10_000, requeueTimeoutMs: 60_000 },
        });
        try {
          for (let i = 0; i < 6; i++)
            await api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, dev);
          const ctx = systemContext(t.app, 'test');
          const engines = [t.app.services.engine, second.services.engine];
          const leased = await Promise.all(
            Array.from({ length: 16 }, (_, i) =>
              engines[i % 2]!.leasing.lease(ctx, { runnerId: runner.id, pools: ['default'] }),
            ),
          );
          const ids = leased.filter((j) => j !== undefined).map((j) => j.jobId);
          expect(ids.length).toBe(6);
          expect(new Set(ids).size).toBe(6);
          clock.advance(11_000);
          await Promise.all([engines[0]!.tick(), engines[1]!.tick(), engines[0]!.tick()]);
          const audit = await t.app.services.audit.list({
            limit: 1000,
            action: 'executions.job.lease-expired',
          });
          const expiredIds = audit
            .filter((e) => ids.includes(e.resource.id))
            .map((e) => e.resource.id);
          expect(expiredIds.sort()).toEqual([...ids].sort());
        } finally {
          await second.close();
          await second.database.destroy();
        }
        // Drain what is left so later tests start from an empty queue.
        for (let job = await lease(); job; job = await lease()) await play(job);
        await t.app.services.engine.tick();
        for (let job = await lease(); job; job = await lease()) await play(job);
      });

    it('concurrency per pipeline, retry and ignore strategies, and the job deadline', async () => {
      expect((await t.apply(solo)).statusCode).toBe(200);
      const soloRunner = await TestRunner.register(t, 'solo', ['solo']);
      const leaseSolo = () => soloRunner.lease<Job>();
      const playSolo = async (job: Job, ok: boolean) => {
        const r = (what: string, json: Record<string, unknown>) =>
          soloRunner.report(job, what, json);
        await r('steps/start', { step: 0 });
        await r('steps/finish', {
          step: 0,
          result: ok ? 'succeeded' : 'failed',
          exitCode: ok ? 0 : 1,
          attempts: 1,
        });
        await r('complete', { result: ok ? 'succeeded' : 'failed' });
      };
      const r1 = (await api('POST', '/api/v1/projects/shop/pipelines/limited/runs', {}, dev)).body;
      const r2 = (await api('POST', '/api/v1/projects/shop/pipelines/limited/runs', {}, dev)).body;
      expect([r1.state, r2.state]).toEqual(['running', 'queued']);
      await playSolo((await leaseSolo())!, false); // flaky fails once: retried
      const retried = (await leaseSolo())!;
      expect(retried.stage).toBe('flaky');
      await playSolo(retried, true);
      await playSolo((await leaseSolo())!, false); // optional fails: ignored
      await playSolo((await leaseSolo())!, true);
      const d1 = await run(r1.id);
      expect(d1.state).toBe('succeeded');
      expect(d1.stages.map((s: { state: string }) => s.state)).toEqual([
        'succeeded',
        'ignored',
        'succeeded',
      ]);
      expect(d1.stages[0].jobs).toHaveLength(2);
      await t.app.services.engine.tick();
      expect((await run(r2.id)).state).toBe('running');
      // The job deadline (step timeouts plus a grace period) ends a job whose runner hangs.
      const hung = (await leaseSolo())!;
      clock.advance(400_000);
      await t.app.services.engine.tick();
      const d2 = await run(r2.id);
      expect(d2.stages[0].jobs[0]).toMatchObject({ state: 'failed', reason: 'TIMEOUT' });
      expect(d2.stages[0].jobs[1]).toMatchObject({ state: 'queued', generation: 2 });
      expect((await soloRunner.report(hung, 'heartbeat')).body.error.code).toBe(
        'EXECUTIONS_LEASE_LOST',
      );
      expect((await api('POST', `/api/v1/runs/${r2.id}/cancel`, undefined, dev)).status).toBe(200);
      expect((await run(r2.id)).state).toBe('cancelled');
    });

    it("a deploy stage without its own runnerPool runs in its environment's pool", async () => {
      const res = await t.apply(`apiVersion: custody/v1
kind: Environment
metadata: { name: staging, project: shop }
spec: { type: pre-production, runnerPool: staging-pool }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: pooled, project: shop }
spec:
  source: { repository: file:///tmp/none.git }
  stages:
    - name: ship
      type: deploy
      environment: staging
      steps: [ { name: ship, run: ./ship.sh } ]
    - name: notify
      type: ci
      steps: [ { name: say, run: echo done } ]
`);
      expect(res.statusCode).toBe(200);
      const id = (await api('POST', '/api/v1/projects/shop/pipelines/pooled/runs', {}, dev)).body
        .id as string;
      const d = await run(id);
      expect(d.stages.map((s: { pool: string }) => s.pool)).toEqual(['staging-pool', 'default']);
      expect(d.stages[0].jobs[0]).toMatchObject({ pool: 'staging-pool', state: 'queued' });
      // The default-pool runner never sees it.
      for (let job = await lease(); job; job = await lease()) {
        expect((job as Job & { runId: string }).runId).not.toBe(id);
        await play(job);
      }
      await api('POST', `/api/v1/runs/${id}/cancel`, undefined, dev);
    });

    it('bad run input gets a stable code and writes nothing', async () => {
      const before = (await api('GET', '/api/v1/runs?project=shop&limit=500')).body.items.length;
      const unknown = await api(
        'POST',
        '/api/v1/projects/shop/pipelines/release/runs',
        { inputs: { colour: 'red' } },
        dev,
      );
      expect(unknown.body.error.code).toBe('EXECUTIONS_INPUT_UNKNOWN');
      const commit = await api(
        'POST',
        '/api/v1/projects/shop/pipelines/release/runs',
        { commit: 'not-a-sha' },
        dev,
      );
      expect(commit.body.error.code).toBe('EXECUTIONS_COMMIT_INVALID');
      expect((await api('GET', '/api/v1/runs?project=shop&limit=500')).body.items.length).toBe(
        before,
      );
    });
  });
}
