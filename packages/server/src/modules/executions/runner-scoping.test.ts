import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';

// A runner is trusted with its own job only: another pool's runner with a leaked lease id gets
// nothing, blobs are served only to the job that uses them, and every report is checked
// against the job's spec.

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: scope }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: a, project: scope }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      runnerPool: pool-a
      steps:
        - { name: make, run: make, artifacts: [{ name: app, path: dist/app }], evidence: [{ type: junit, path: reports/junit.xml }] }
        - { name: check, run: make check }
    - name: use
      type: ci
      runnerPool: pool-a
      steps:
        - { name: use, run: ./use.sh }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: b, project: scope }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      runnerPool: pool-b
      steps: [{ name: make, run: make }]
`;

interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
  artifacts: { name: string; digest: string }[];
}

for (const dialect of dialects) {
  describe(`runner scoping and report checks [${dialect}]`, () => {
    let t: TestApp;
    let a: TestRunner;
    let b: TestRunner;
    let buildJob: Job;
    let jobB: Job;
    const clock = new ManualClock('2026-11-24T15:00:00Z');
    const run = async (pipeline: string) => {
      const res = await callApi(t, 'POST', `/api/v1/projects/scope/pipelines/${pipeline}/runs`, {});
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const upload = (r: TestRunner, job: Job, over: Record<string, unknown> = {}) =>
      r.report(job, 'files', {
        step: 0,
        kind: 'artifact',
        name: 'app',
        type: 'file',
        path: 'dist/app',
        sha256: sha('app a'),
        contentBase64: Buffer.from('app a').toString('base64'),
        ...over,
      });
    const finish = (r: TestRunner, job: Job, step: number) =>
      r.report(job, 'steps/finish', { step, result: 'succeeded', exitCode: 0, attempts: 1 });

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      expect((await t.apply(manifest)).statusCode).toBe(200);
      a = await TestRunner.register(t, 'ra', ['pool-a']);
      b = await TestRunner.register(t, 'rb', ['pool-b']);
    });
    afterAll(async () => t?.close());

    it("another pool's runner with job A's lease id is refused on every report, and audited", async () => {
      await run('a');
      const job = (buildJob = (await a.lease<Job>())!);
      expect(job.stage).toBe('build');
      expect(await b.lease()).toBeNull();
      for (const [what, body] of [
        ['heartbeat', {}],
        ['steps/start', { step: 0 }],
        ['logs', { step: 0, seq: 0, content: 'x', sha256: sha('x') }],
        ['complete', { result: 'failed' }],
      ] as const) {
        const res = await b.report(job, what, body);
        expect(res.status, what).toBe(403);
        expect(res.body.error.code).toBe('EXECUTIONS_LEASE_NOT_YOURS');
      }
      const denied = await t.app.services.audit.list({
        action: 'executions.job.report',
        outcome: 'denied',
        limit: 100,
      });
      expect(denied).toHaveLength(4);
      expect(denied[0]!.actor.name).toBe('runner-rb');
      // The holder itself is unaffected.
      expect((await a.report(job, 'heartbeat')).status).toBe(200);
    });

    it('reports must follow the job: steps in order, once, files as declared, success only when every step succeeded', async () => {
      const mine = buildJob;
      // A step that was never started cannot finish (was a 500).
      const early = await finish(a, mine, 0);
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('EXECUTIONS_TRANSITION_ILLEGAL');
      // Step 1 cannot start before step 0.
      const skip = await a.report(mine, 'steps/start', { step: 1 });
      expect(skip.status).toBe(409);
      expect(skip.body.error.code).toBe('EXECUTIONS_TRANSITION_ILLEGAL');
      // Nothing is accepted for a step the job does not have.
      const ghost = await upload(a, mine, {
        step: 7,
        kind: 'evidence',
        name: 'junit',
        type: 'junit',
      });
      expect(ghost.status).toBe(400);
      expect(ghost.body.error.code).toBe('EXECUTIONS_REPORT_INVALID');
      // A job cannot succeed with no step reported.
      const hollow = await a.report(mine, 'complete', { result: 'succeeded' });
      expect(hollow.status).toBe(409);
      expect(hollow.body.error.code).toBe('EXECUTIONS_TRANSITION_ILLEGAL');
      expect((await a.report(mine, 'steps/start', { step: 0 })).status).toBe(200);
      // Only what the step declared: an undeclared artifact or path is refused.
      const other = await upload(a, mine, { name: 'payload' });
      expect(other.body.error.code).toBe('EXECUTIONS_REPORT_INVALID');
      const elsewhere = await upload(a, mine, { path: '../../etc/passwd' });
      expect(elsewhere.body.error.code).toBe('EXECUTIONS_REPORT_INVALID');
      expect((await upload(a, mine)).status).toBe(201);
      // The step declared a JUnit report: it cannot succeed without it.
      expect((await finish(a, mine, 0)).body.error.code).toBe('EXECUTIONS_EVIDENCE_MISSING');
      const report = '<testsuite name="s"><testcase name="ok"/></testsuite>';
      const junit = await upload(a, mine, {
        kind: 'evidence',
        name: 'junit',
        type: 'junit',
        path: 'reports/junit.xml',
        sha256: sha(report),
        contentBase64: Buffer.from(report).toString('base64'),
      });
      expect(junit.status, JSON.stringify(junit.body)).toBe(201);
      expect((await finish(a, mine, 0)).status).toBe(200);
      expect((await finish(a, mine, 0)).body.error.code).toBe('EXECUTIONS_TRANSITION_ILLEGAL');
      expect((await a.report(mine, 'steps/start', { step: 1 })).status).toBe(200);
      expect((await finish(a, mine, 1)).status).toBe(200);
      expect((await a.report(mine, 'complete', { result: 'succeeded' })).status).toBe(200);
    });

    it("blobs go only to the job that uses them: never to another pool's runner, nor by digest alone", async () => {
      const next = (await a.lease<Job>())!;
      expect(next.stage).toBe('use');
      const digest = next.artifacts.find((x) => x.name === 'app')!.digest;
      expect(digest).toBe(`sha256:${sha('app a')}`);
      const url = (job: Job, d: string) =>
        `/api/v1/runner/jobs/${job.jobId}/blobs/${d}?leaseId=${job.leaseId}`;
      const own = await callApi(t, 'GET', url(next, digest), undefined, a.token);
      expect(own.status, JSON.stringify(own.body)).toBe(200);
      expect(Buffer.from(own.body.contentBase64 as string, 'base64').toString()).toBe('app a');
      // The old route that served any blob by digest is gone.
      const byDigest = await callApi(
        t,
        'GET',
        `/api/v1/runner/blobs/${digest}`,
        undefined,
        b.token,
      );
      expect(byDigest.status).toBe(404);
      // Pool B's runner, with its own job, cannot fetch pool A's artifact.
      await run('b');
      jobB = (await b.lease<Job>())!;
      const stolen = await callApi(t, 'GET', url(jobB, digest), undefined, b.token);
      expect(stolen.status).toBe(404);
      expect(stolen.body.error.code).toBe('EXECUTIONS_BLOB_NOT_FOUND');
      // Nor with pool A's job id and lease id.
      const borrowed = await callApi(t, 'GET', url(next, digest), undefined, b.token);
      expect(borrowed.status).toBe(403);
      const downloads = await t.app.services.audit.list({
        action: 'executions.artifact.downloaded',
        limit: 10,
      });
      expect(downloads.map((e) => `${e.outcome}:${e.actor.name}`)).toEqual([
        'succeeded:runner-ra',
        'denied:runner-rb',
      ]);
    });

    it('a report under a lease that expired and was given to another attempt is refused', async () => {
      const stale = jobB;
      clock.advance(31_000); // the lease (30 s) expires: the job is requeued
      await t.app.services.engine.tick();
      const again = (await b.lease<Job>())!;
      expect(again.jobId).toBe(stale.jobId);
      expect(again.leaseId).not.toBe(stale.leaseId);
      const late = await b.report(stale, 'steps/start', { step: 0 });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('EXECUTIONS_LEASE_LOST');
    });
  });
}
