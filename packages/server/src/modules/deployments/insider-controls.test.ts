import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { DeployDriver } from '../../platform/testing/deploy-driver.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { TestRunner } from '../../platform/testing/test-runner.ts';

// Attempts by one person to get a change into production alone, each through a different
// gap: no approval rules, a pipeline that became governed later, a deny at environment scope,
// a rejection that should not revive, a held environment lock, another runner pool.

const commit = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production, runnerPool: prod }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: staging, project: pay }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: pay }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps: [{ name: compile, run: make, artifacts: [{ name: app, path: dist/app }] }]
    - name: deploy-prod
      type: deploy
      environment: prod
      steps: [{ name: deploy, run: ./deploy.sh prod }]
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: to-staging, project: pay }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy-staging
      type: deploy
      environment: staging
      steps: [{ name: deploy, run: ./deploy.sh staging }]
`;

for (const dialect of dialects) {
  describe(`insider attempts against the deployment controls [${dialect}]`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let d: DeployDriver;
    const tok: Record<string, string> = {};

    // Approves every pending pipeline-version / environment-rule request as `who`.
    const approvePending = async (who: string) => {
      const pending = await d.api('GET', '/api/v1/approvals?state=pending');
      for (const r of pending.body.items as { id: string }[]) {
        const res = await d.api('POST', `/api/v1/approvals/${r.id}/approve`, {}, tok[who]);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    };

    beforeAll(async () => {
      clock = new ManualClock('2026-11-24T15:00:00Z'); // a Tuesday
      t = await createTestApp(dialect, { clock });
      tok.dev = await t.user('dev', ['developer@project:pay']);
      for (const name of ['rm1', 'rm2'])
        tok[name] = await t.user(name, ['release-manager@project:pay']);
      tok.svc = await t.user('bot', ['release-manager@project:pay'], 'service_account');
      // The change advisory board: approves governed configuration organization-wide.
      tok.cab = await t.user('cab', ['approver@organization']);
      const applied = await t.apply(manifest);
      expect(applied.statusCode, applied.body).toBe(200);
      d = await DeployDriver.create(t, ['default', 'prod']);
      await approvePending('cab');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a production environment without approval rules still needs a second person (four eyes)', async () => {
      const id = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v1');
      expect((await d.stage(id, 'deploy-prod')).state).toBe('waiting_for_approval');
      expect(await d.lease()).toBeNull();
      const g = await d.gate(id, 'deploy-prod');
      expect(g.decision!.reasons.find((r) => r.code === 'APPROVAL_REQUIRED')?.message).toContain(
        'four-eyes',
      );
      // The triggerer and a service account cannot be the second pair of eyes.
      const self = await d.vote(id, 'deploy-prod', tok.dev);
      expect(self.status).toBe(403);
      const bot = await d.vote(id, 'deploy-prod', tok.svc);
      expect(bot.body.error.code).toBe('APPROVALS_SERVICE_ACCOUNT_FORBIDDEN');
      expect((await d.vote(id, 'deploy-prod', tok.rm1)).status).toBe(200);
      await d.tick();
      await d.playNext('deploy-prod');
      expect(await d.runState(id)).toBe('succeeded');
    });

    it('a standard change stands in for the approval only when a person requested it', async () => {
      const template = await t.apply(`
apiVersion: custody/v1
kind: ChangeTemplate
metadata: { name: cert-rotation }
spec: { scope: { environments: [pay/prod] }, validFor: 24h }
`);
      expect(template.statusCode, template.body).toBe(200);
      await approvePending('cab');
      const body = {
        project: 'pay',
        environment: 'prod',
        riskClass: 'standard',
        template: 'cert-rotation',
        title: 'rotate the TLS certificate',
      };
      const bySvc = await d.api('POST', '/api/v1/changes', body, tok.svc);
      expect(bySvc.status).toBe(403);
      expect(bySvc.body.error.code).toBe('CHANGES_SERVICE_ACCOUNT_FORBIDDEN');
      expect(await d.auditActions({ outcome: 'denied' })).toContain(
        'changes.request.create:denied:bot',
      );
      const byRm = await d.api('POST', '/api/v1/changes', body, tok.rm1);
      expect(byRm.status, JSON.stringify(byRm.body)).toBe(201);
      const id = await d.startRun('pay', 'release', tok.rm1, { commit, change: byRm.body.id });
      await d.playNext('build', 'pay v1');
      await d.tick();
      const deploy = await d.lease();
      expect(deploy?.stage).toBe('deploy-prod');
      const g = await d.gate(id, 'deploy-prod');
      expect(g.decision!.reasons.map((r) => r.code)).toContain('APPROVALS_BYPASSED');
      await d.play(deploy!);
    });

    it('a pipeline version that starts deploying to production later needs its approval then', async () => {
      // to-staging v1 was applied while staging was pre-production: it runs without approval.
      const before = await d.startRun('pay', 'to-staging', tok.dev, { commit });
      expect((await d.stage(before, 'deploy-staging')).state).toBe('running');
      const early = await d.startRun('pay', 'to-staging', tok.dev, { commit });
      await d.playNext('deploy-staging');
      expect(await d.runState(before)).toBe('succeeded');
      // staging becomes production (tightening takes effect at once).
      const flipped = await t.apply(`
apiVersion: custody/v1
kind: Environment
metadata: { name: staging, project: pay }
spec: { type: production }
`);
      expect(flipped.statusCode, flipped.body).toBe(200);
      // A new run of the same version is refused, and its approval request opens.
      const refused = await d.api(
        'POST',
        '/api/v1/projects/pay/pipelines/to-staging/runs',
        { commit },
        tok.dev,
      );
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('EXECUTIONS_VERSION_NOT_APPROVED');
      const approval = refused.body.error.details.approval as string;
      expect(approval).toMatch(/^apr_/);
      // A run created before the flip that reaches its deploy stage now is held by the gate.
      await d.tick();
      const held = await d.gate(early, 'deploy-staging');
      expect(held.decision!.reasons.filter((r) => r.blocking).map((r) => r.code)).toContain(
        'PIPELINE_VERSION_NOT_APPROVED',
      );
      expect(await d.lease()).toBeNull();
      // Once a second person approved the version, the deployment itself still needs four eyes.
      expect(
        (await d.api('POST', `/api/v1/approvals/${approval}/approve`, {}, tok.rm2)).status,
      ).toBe(200);
      await d.tick();
      expect((await d.stage(early, 'deploy-staging')).state).toBe('waiting_for_approval');
      expect((await d.vote(early, 'deploy-staging', tok.rm1)).status).toBe(200);
      await d.tick();
      await d.playNext('deploy-staging');
      expect(await d.runState(early)).toBe('succeeded');
    });

    it('a deny on the production environment is not bypassed by an allow on the project', async () => {
      tok.mallory = await t.user('mallory', ['release-manager@project:pay']);
      const deny = await t.apply(`
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: mallory-not-prod }
spec:
  principal: user:mallory
  role: release-manager
  scope: project:pay/environment:prod
  effect: deny
`);
      expect(deny.statusCode, deny.body).toBe(200);
      await approvePending('cab');
      // She cannot start a run that deploys to prod, nor approve a pipeline version that does,
      // nor approve a deployment there, nor roll prod back.
      const run = await d.api(
        'POST',
        '/api/v1/projects/pay/pipelines/release/runs',
        { commit },
        tok.mallory,
      );
      expect(run.status).toBe(403);
      expect(run.body.error.message).toContain('environment:prod');
      const v2 = await t.apply(
        manifest
          .split('---')
          .filter((doc) => doc.includes('name: release, project: pay'))[0]!
          .replace('run: make', 'run: make all'),
      );
      expect(v2.statusCode, v2.body).toBe(200);
      const pending = (await d.api('GET', '/api/v1/approvals?state=pending')).body.items as {
        id: string;
      }[];
      expect(pending.length).toBeGreaterThan(0);
      const approve = await d.api(
        'POST',
        `/api/v1/approvals/${pending[0]!.id}/approve`,
        {},
        tok.mallory,
      );
      expect(approve.status).toBe(403);
      expect(approve.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
      const rollback = await d.api(
        'POST',
        '/api/v1/projects/pay/environments/prod/rollback',
        { reason: 'mine' },
        tok.mallory,
      );
      expect(rollback.status).toBe(403);
      const unapproved = await d.api(
        'POST',
        '/api/v1/projects/pay/pipelines/release/runs',
        { commit },
        tok.dev,
      );
      expect(unapproved.body.error.code).toBe('EXECUTIONS_VERSION_NOT_APPROVED'); // v2 waits
      await approvePending('cab');
      const ok = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v2');
      const vote = await d.vote(ok, 'deploy-prod', tok.mallory);
      expect(vote.status).toBe(403);
      const denied = await d.auditActions({ outcome: 'denied' });
      expect(denied.filter((e) => e.endsWith(':mallory')).length).toBeGreaterThanOrEqual(4);
      expect((await d.api('POST', `/api/v1/runs/${ok}/cancel`, {})).status).toBe(200);
    });

    it('a rejected deployment ends the stage and the run; a later approval or tick never revives it', async () => {
      const id = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v3');
      expect((await d.vote(id, 'deploy-prod', tok.rm1, 'reject')).status).toBe(200);
      await d.tick();
      expect((await d.stage(id, 'deploy-prod')).state).toBe('rejected');
      expect(await d.runState(id)).toBe('rejected');
      // An approval by someone else afterwards changes nothing.
      const late = await d.vote(id, 'deploy-prod', tok.rm2);
      expect(late.status).toBe(409);
      await d.tick();
      expect(await d.lease()).toBeNull();
      expect(await d.runState(id)).toBe('rejected');
      expect(await d.auditActions({ action: 'executions.run.rejected' })).toHaveLength(1);
    });

    it('a cancelled run withdraws its pending approval requests', async () => {
      const id = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v4');
      const g = await d.gate(id, 'deploy-prod');
      expect(g.approval!.state).toBe('pending');
      expect((await d.api('POST', `/api/v1/runs/${id}/cancel`, {}, tok.dev)).status).toBe(200);
      const after = await d.api('GET', `/api/v1/deployments/approvals/${g.approval!.id}`);
      expect(after.body.state).toBe('withdrawn');
      const vote = await d.api(
        'POST',
        `/api/v1/deployments/approvals/${g.approval!.id}/approve`,
        {},
        tok.rm1,
      );
      expect(vote.status).toBe(409);
      expect(vote.body.error.code).toBe('APPROVALS_NOT_PENDING');
      const trail = await t.app.services.audit.list({ resourceId: g.approval!.id, limit: 100 });
      expect(trail.map((e) => `${e.action}:${e.outcome}`)).toEqual([
        'deployments.approval.requested:succeeded',
        'deployments.approval.withdrawn:succeeded',
        'deployments.approval.approve:denied',
      ]);
    });

    it('no run waits forever: a stage held by the gate fails after the wait limit, with its reason', async () => {
      const id = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v5');
      const waiting = await d.stage(id, 'deploy-prod');
      expect(waiting.state).toBe('waiting_for_approval');
      expect(waiting.reason).toMatch(/^APPROVAL_REQUIRED/);
      // The wait and its end are visible while it lasts.
      expect(waiting.waitingSince).not.toBeNull();
      expect(Date.parse(waiting.waitExpiresAt!) - Date.parse(waiting.waitingSince!)).toBe(
        7 * 86_400_000,
      );
      clock.advance(6 * 86_400_000);
      await d.tick();
      expect((await d.stage(id, 'deploy-prod')).state).toBe('waiting_for_approval');
      clock.advance(86_400_000 + 60_000);
      await d.tick();
      const expired = await d.stage(id, 'deploy-prod');
      expect(expired.state).toBe('failed');
      expect(expired.reason).toMatch(/^GATE_WAIT_EXPIRED/);
      expect(await d.runState(id)).toBe('failed');
      // Its approval request is withdrawn with the run.
      expect((await d.gate(id, 'deploy-prod')).approval!.state).toBe('withdrawn');
      // Users' tokens live a day: renew them for the tests that follow.
      for (const name of ['dev', 'rm1', 'rm2', 'cab']) tok[name] = await t.tokenFor(name);
    });

    it('a job the gate withdraws gives its environment back: two runs to one environment both finish', async () => {
      const first = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v6');
      expect((await d.vote(first, 'deploy-prod', tok.rm1)).status).toBe(200);
      await d.tick();
      expect((await d.stage(first, 'deploy-prod')).state).toBe('running'); // holds the lock
      // Its approval expires before a runner leases the job: the gate withdraws it at lease time.
      clock.advance(25 * 3_600_000);
      expect(await d.lease()).toBeNull();
      expect((await d.stage(first, 'deploy-prod')).state).toBe('waiting_for_approval');
      // Another run to the same environment, approved now, is not held up by the first.
      const second = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v7');
      expect((await d.vote(second, 'deploy-prod', tok.rm1)).status).toBe(200);
      await d.tick();
      expect((await d.stage(second, 'deploy-prod')).state).toBe('running');
      await d.playNext('deploy-prod');
      expect(await d.runState(second)).toBe('succeeded');
      expect((await d.vote(first, 'deploy-prod', tok.rm2)).status).toBe(200);
      await d.tick();
      await d.playNext('deploy-prod');
      expect(await d.runState(first)).toBe('succeeded');
    });

    it("a deploy stage runs in its environment's pool: a pipeline cannot name another", async () => {
      const moved = await t.apply(`
apiVersion: custody/v1
kind: Pipeline
metadata: { name: sneaky, project: pay }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy-prod
      type: deploy
      environment: prod
      runnerPool: default
      steps: [{ name: deploy, run: ./deploy.sh prod }]
`);
      expect(moved.statusCode).toBe(400);
      expect(moved.json().error.code).toBe('PIPELINES_STAGE_POOL_CONFLICT');
      // The pool of the environment in force when the job is queued decides.
      const id = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build', 'pay v8');
      const repool = await t.apply(`
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production, runnerPool: prod-b }
`);
      expect(repool.statusCode, repool.body).toBe(200);
      await approvePending('cab');
      expect((await d.vote(id, 'deploy-prod', tok.rm1)).status).toBe(200);
      await d.tick();
      expect((await d.stage(id, 'deploy-prod')).pool).toBe('prod-b');
      expect(await d.lease()).toBeNull(); // the driver serves default and prod only
      const b = await TestRunner.register(t, 'prod-b', ['prod-b']);
      const job = await b.lease<{ jobId: string; leaseId: string; stage: string }>();
      expect(job?.stage).toBe('deploy-prod');
    });
  });
}
