import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';

const commit = 'b1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0';

// A production deploy stage of three steps under a weekend freeze in New York.
const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: ops }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: ops }
# Four eyes without named rules; the approval outlives the weekends this test waits through.
spec: { type: production, approvals: { expiresAfter: 30d } }
---
apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: ops-weekends }
spec:
  scope: { projects: [ops] }
  timeZone: America/New_York
  schedule:
    recurring: { rrule: "FREQ=WEEKLY;BYDAY=SA,SU", duration: 24h }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: ops }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy-production
      type: deploy
      environment: production
      steps:
        - { name: migrate, run: ./migrate.sh }
        - { name: deploy, run: ./deploy.sh }
        - { name: smoke, run: ./smoke.sh }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: approved, project: ops }
spec:
  type: production
  approvals: { rules: [{ name: owner, users: [user:quinn], required: 1 }] }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ship, project: ops }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy-approved
      type: deploy
      environment: approved
      steps:
        - { name: render, run: ./render.sh, artifacts: [{ name: rendered, path: out/rendered.yaml }] }
        - { name: apply, run: ./apply.sh }
`;

interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
}
interface Stage {
  name: string;
  state: string;
  reason: string | null;
  jobs: { state: string; reason: string | null; steps: { name: string; state: string }[] }[];
}

for (const dialect of dialects) {
  describe(`the deployment gate before each deploy step [${dialect}]`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let runner: TestRunner;
    let dev: string;
    let reviewer: string;
    let firstRun = '';

    const api = (method: 'GET' | 'POST', url: string, json?: unknown, token?: string) =>
      callApi(t, method, url, json, token);
    const lease = () => runner.lease<Job>();
    const report = (job: Job, what: string, json: Record<string, unknown>) =>
      runner.report(job, what, json);
    const finish = (job: Job, step: number, next?: number) =>
      report(job, 'steps/finish', {
        step,
        result: 'succeeded',
        exitCode: 0,
        attempts: 1,
        ...(next !== undefined ? { next } : {}),
      });
    const stage = async (run: string) =>
      ((await api('GET', `/api/v1/runs/${run}`)).body.stages as Stage[])[0]!;
    const blockedEntries = async () =>
      (
        await t.app.services.audit.list({
          action: 'executions.stage.blocked-by-freeze',
          limit: 100,
        })
      ).length;

    beforeAll(async () => {
      clock = new ManualClock('2026-11-20T16:00:00Z'); // Friday 11:00 in New York
      t = await createTestApp(dialect, { clock });
      dev = await t.user('dev', ['developer@project:ops']);
      reviewer = await t.user('rita', ['release-manager@project:ops']);
      expect((await t.apply(manifest)).statusCode).toBe(200);
      const pending = await api('GET', '/api/v1/approvals?state=pending');
      for (const r of pending.body.items as { id: string }[])
        expect((await api('POST', `/api/v1/approvals/${r.id}/approve`, {}, reviewer)).status).toBe(
          200,
        );
      runner = await TestRunner.register(t);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a freeze that begins between two deploy steps stops the job before the next one', async () => {
      const res = await api('POST', '/api/v1/projects/ops/pipelines/release/runs', { commit }, dev);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const run = res.body.id as string;
      firstRun = run;
      expect((await stage(run)).state).toBe('waiting_for_approval');
      const gate = (await api('GET', `/api/v1/runs/${run}/gate`)).body.stages as {
        approval: { id: string };
      }[];
      const approved = await api(
        'POST',
        `/api/v1/deployments/approvals/${gate[0]!.approval.id}/approve`,
        {},
        reviewer,
      );
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      await t.app.services.engine.tick();
      const job = (await lease())!;
      expect(job.stage).toBe('deploy-production');
      expect((await report(job, 'steps/start', { step: 0 })).status).toBe(200);
      const before = await blockedEntries();

      clock.set('2026-11-21T15:00:00Z'); // Saturday 10:00 in New York
      const refused = await finish(job, 0, 1);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'EXECUTIONS_LEASE_LOST' });
      expect(JSON.stringify(refused.body.error)).toContain('FREEZE_ACTIVE');

      const s = await stage(run);
      expect(s.state).toBe('blocked_by_freeze');
      expect(s.reason).toMatch(/^FREEZE_ACTIVE/);
      // The step that ran is recorded as done; the next ones never started.
      expect(s.jobs[0]).toMatchObject({ state: 'cancelled', reason: 'GATE_BLOCKED' });
      expect(s.jobs[0]!.steps.map((x) => x.state)).toEqual(['succeeded', 'skipped', 'skipped']);
      expect(await blockedEntries()).toBe(before + 1);
      await t.app.services.engine.tick();
      expect(await lease()).toBeNull();
    });

    it('a step started on its own is checked too; after the freeze the stage gets a fresh job', async () => {
      clock.set('2026-11-23T15:00:00Z'); // Monday 10:00
      await t.app.services.engine.tick();
      const job = (await lease())!;
      expect(job.stage).toBe('deploy-production');
      expect((await report(job, 'steps/start', { step: 0 })).status).toBe(200);
      expect((await finish(job, 0)).status).toBe(200);

      clock.set('2026-11-28T15:00:00Z'); // the next Saturday
      const refused = await report(job, 'steps/start', { step: 1 });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'EXECUTIONS_LEASE_LOST' });

      clock.set('2026-11-30T15:00:00Z'); // Monday again
      await t.app.services.engine.tick();
      const last = (await lease())!;
      for (const step of [0, 1, 2]) {
        expect((await report(last, 'steps/start', { step })).status).toBe(200);
        expect((await finish(last, step)).status).toBe(200);
      }
      expect((await report(last, 'complete', { result: 'succeeded' })).status).toBe(200);
      const runs = await t.app.services.audit.list({
        action: 'executions.run.succeeded',
        limit: 10,
      });
      expect(runs).toHaveLength(1);
    });

    it('a release without artifacts cannot be rolled back to, and nothing is started', async () => {
      const runsBefore = (
        await t.app.services.audit.list({ action: 'executions.run.created', limit: 100 })
      ).length;
      const res = await api(
        'POST',
        '/api/v1/projects/ops/environments/production/rollback',
        // The clock has moved past the users' 24 h tokens: the admin asks.
        { to: firstRun, reason: 'test' },
      );
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'EXECUTIONS_ROLLBACK_NOT_DEPLOYABLE' });
      expect(
        (await t.app.services.audit.list({ action: 'executions.run.created', limit: 100 })).length,
      ).toBe(runsBefore);
    });

    it("a file a deploy step records does not void the stage's approval before its next step", async () => {
      clock.set('2026-12-01T15:00:00Z'); // Tuesday
      const quinn = await t.user('quinn', ['approver@project:ops']);
      const res = await api('POST', '/api/v1/projects/ops/pipelines/ship/runs', { commit });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const run = res.body.id as string;
      expect((await stage(run)).state).toBe('waiting_for_approval');
      const gate = (await api('GET', `/api/v1/runs/${run}/gate`)).body.stages as {
        approval: { id: string };
      }[];
      const ok = await api(
        'POST',
        `/api/v1/deployments/approvals/${gate[0]!.approval.id}/approve`,
        {},
        quinn,
      );
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      await t.app.services.engine.tick();
      const job = (await lease())!;
      expect(job.stage).toBe('deploy-approved');
      expect((await report(job, 'steps/start', { step: 0 })).status).toBe(200);
      const manifest = 'kind: Deployment';
      const up = await report(job, 'files', {
        step: 0,
        kind: 'artifact',
        name: 'rendered',
        type: 'yaml',
        path: 'out/rendered.yaml',
        sha256: createHash('sha256').update(manifest).digest('hex'),
        contentBase64: Buffer.from(manifest).toString('base64'),
      });
      expect(up.status).toBe(201);
      expect((await finish(job, 0, 1)).status).toBe(200);
      expect((await finish(job, 1)).status).toBe(200);
      expect((await report(job, 'complete', { result: 'succeeded' })).status).toBe(200);
      expect((await api('GET', `/api/v1/runs/${run}`)).body.state).toBe('succeeded');
    });
  });
}
