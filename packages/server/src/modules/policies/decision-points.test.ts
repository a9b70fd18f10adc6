import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { DeployDriver } from '../../platform/testing/deploy-driver.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const rego = (point: string, body: string) =>
  `package custody.${point}\n\n${body.trim()}\n`
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');

const policy = (name: string, point: string, body: string, project?: string) => `
apiVersion: custody/v1
kind: Policy
metadata: { name: ${name}${project ? `, project: ${project}` : ''} }
spec:
  decisionPoint: ${point}
  modules:
    - name: ${name}.rego
      source: |
${rego(point, body)}
`;

// The decision points besides the gate: a denial refuses the use case, writes nothing of it,
// and still leaves its decision in the ledger.
for (const dialect of dialects) {
  describe(`policy decision points: pipeline, run, approval [${dialect}]`, () => {
    let t: TestApp;
    let d: DeployDriver;
    let dev: string;
    const clock = new ManualClock('2026-12-01T10:00:00Z');

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      d = await DeployDriver.create(t);
      const res = await t.applyApproved(`
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
spec: { policies: [reason-required] }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: adhoc, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  inputs: [{ name: reason, default: "" }]
  stages:
    - { name: build, type: ci, steps: [{ name: b, run: make }] }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps: [{ name: b, run: make, artifacts: [{ name: app, path: dist/app }] }]
    - { name: deploy, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh }] }
---
${policy(
  'reason-required',
  'run',
  `deny contains "runs of adhoc need a reason" if {
  input.pipeline.name == "adhoc"
  input.inputs.reason == ""
}`,
  'shop',
)}
---
${policy(
  'no-mallory',
  'approval',
  `deny contains sprintf("%s may not approve production deployments", [input.approver.name]) if {
  input.environment.type == "production"
  input.approver.name == "mallory"
}`,
)}
`);
      expect(res.statusCode, res.body).toBe(200);
      // The production pipeline's version names its own approval: a second person gives it.
      for (const r of res.json().results as { state: string; approval?: string }[])
        if (r.state === 'in-force' && r.approval) await t.approve(r.approval);
      dev = await t.user('dev', ['developer@project:shop']);
    });
    afterAll(async () => {
      await t?.close();
    });

    const decisions = async (point: string) =>
      (await t.request({ method: 'GET', url: `/api/v1/policy-decisions?point=${point}` })).json()
        .items as { result: string; subject: { type: string; id: string } }[];

    it('custody.run: a run the project policy denies is refused, not created, and recorded', async () => {
      const refused = await t.request({
        method: 'POST',
        url: '/api/v1/projects/shop/pipelines/adhoc/runs',
        token: dev,
        json: {},
      });
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json()).toMatchObject({
        error: {
          code: 'POLICIES_DENIED',
          message: 'policy shop/reason-required v1: runs of adhoc need a reason',
        },
      });
      const runs = await t.request({ method: 'GET', url: '/api/v1/runs?project=shop' });
      expect(runs.json().items).toEqual([]);
      const denied = await decisions('run');
      expect(denied.map((x) => x.result)).toEqual(['denied']);
      const ledger = await t.app.services.audit.list({
        limit: 100,
        action: 'policies.decision.recorded',
        outcome: 'denied',
      });
      expect(ledger.some((e) => (e.details as { point: string }).point === 'run')).toBe(true);
      const ok = await t.request({
        method: 'POST',
        url: '/api/v1/projects/shop/pipelines/adhoc/runs',
        token: dev,
        json: { inputs: { reason: 'hotfix check' } },
      });
      expect(ok.statusCode, ok.body).toBe(201);
      expect((await decisions('run')).map((x) => x.result)).toEqual(['allowed', 'denied']);
      // Played to its end, so the runner's next job is the next test's.
      await d.playNext('build');
      expect(await d.runState(ok.json().id)).toBe('succeeded');
    });

    it('custody.approval: a bound policy refuses an approver; another approves', async () => {
      const mallory = await t.user('mallory', ['approver']);
      const rita = await t.user('rita', ['approver']);
      const run = await d.startRun('shop', 'release', dev);
      await d.playNext('build', 'app-v1');
      await d.tick();
      const refused = await d.vote(run, 'deploy', mallory);
      expect(refused.status, JSON.stringify(refused.body)).toBe(403);
      expect(refused.body).toMatchObject({
        error: {
          code: 'POLICIES_DENIED',
          message: 'policy no-mallory v1: mallory may not approve production deployments',
        },
      });
      expect((await d.gate(run, 'deploy')).approval?.state).toBe('pending');
      const ok = await d.vote(run, 'deploy', rita);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      await d.tick();
      await d.playNext('deploy');
      expect(await d.runState(run)).toBe('succeeded');
      expect((await decisions('approval')).map((x) => x.result)).toEqual(['allowed', 'denied']);
    });

    it('custody.pipeline: an organization-wide policy refuses a pipeline version without a test step before deploy', async () => {
      const applied = await t.apply(
        policy(
          'test-before-deploy',
          'pipeline',
          `deny contains sprintf("stage %s deploys before any test step", [s.name]) if {
  some i, s in input.pipeline.spec.stages
  s.type == "deploy"
  not tested_before(i)
}

tested_before(i) if {
  some j, t in input.pipeline.spec.stages
  j < i
  some step in t.steps
  contains(step.run, "test")
}`,
        ),
      );
      expect(applied.statusCode, applied.body).toBe(200);
      const refused = await t.apply(
        `
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - { name: build, type: ci, steps: [{ name: b, run: make build }] }
    - { name: deploy, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh v2 }] }
`,
        dev,
      );
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json()).toMatchObject({
        error: {
          code: 'POLICIES_DENIED',
          message: 'policy test-before-deploy v1: stage deploy deploys before any test step',
        },
      });
      const versions = await t.request({
        method: 'GET',
        url: '/api/v1/resources/Pipeline/release/versions?project=shop',
      });
      expect(versions.json().items.map((v: { version: number }) => v.version)).toEqual([1]);
      expect((await decisions('pipeline')).map((x) => x.result)).toEqual(['denied']);
      const ok = await t.apply(
        `
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - { name: build, type: ci, steps: [{ name: b, run: make build && make test }] }
    - { name: deploy, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh v2 }] }
`,
        dev,
      );
      expect(ok.statusCode, ok.body).toBe(200);
      for (const r of ok.json().results as { approval?: string }[])
        if (r.approval) await t.approve(r.approval);
    });

    it('a CI step with the runner token, or a developer, cannot replace a policy; the attempt is in the ledger', async () => {
      const weaker = policy('no-mallory', 'approval', 'deny := set()');
      const byRunner = await t.apply(weaker, d.runner.token);
      expect([401, 403]).toContain(byRunner.statusCode);
      const byDeveloper = await t.apply(weaker, dev);
      expect(byDeveloper.statusCode).toBe(403);
      expect(byDeveloper.json()).toMatchObject({ error: { code: 'AUTHZ_PERMISSION_DENIED' } });
      const denied = await t.app.services.audit.list({ limit: 1000, outcome: 'denied' });
      expect(denied.some((e) => e.resource.type === 'Policy' && e.actor.name === 'dev')).toBe(true);
      const inForce = await t.request({
        method: 'GET',
        url: '/api/v1/resources/Policy/no-mallory',
      });
      expect(inForce.json().inForce.version).toBe(1);
    });

    it('custody.deploy: a real run waits at the gate with the policy name, version and message', async () => {
      const bound = await t.applyApproved(`
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production, policies: [prod-guard] }
---
${policy(
  'prod-guard',
  'deploy',
  `deny contains sprintf("%s is closed for %s", [input.environment.name, input.run.pipeline]) if true`,
  'shop',
)}
`);
      expect(bound.statusCode, bound.body).toBe(200);
      const run = await d.startRun('shop', 'release', dev);
      await d.playNext('build');
      await d.tick();
      const gate = await d.gate(run, 'deploy');
      expect(gate.decision?.allowed).toBe(false);
      expect(gate.decision?.reasons).toContainEqual(
        expect.objectContaining({
          check: 'policy',
          code: 'POLICIES_DENIED',
          message: 'policy shop/prod-guard v1: prod is closed for release',
          blocking: true,
        }),
      );
      expect((await d.stage(run, 'deploy')).reason).toContain('POLICIES_DENIED');
    });
  });
}
