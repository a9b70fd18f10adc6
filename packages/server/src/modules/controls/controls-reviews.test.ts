import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const setup = `
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec:
  type: production
  runnerPool: prod-pool
  approvals: { rules: [{ name: release, users: [carol], required: 1 }] }
`;
const pipeline = (pool: string) => `
apiVersion: custody/v1
kind: Pipeline
metadata: { name: build, project: pay }
spec:
  source: { repository: file:///x.git }
  stages:
    - name: compile
      type: ci
      runnerPool: ${pool}
      steps:
        - { name: make, run: make }
`;
const hour = 3_600_000;

for (const dialect of dialects) {
  describe(`control checks moved by the clock and by build stages [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const state = async (check: string) => {
      const res = await t.request({
        method: 'GET',
        url: '/api/v1/controls?project=pay&environment=prod',
        token: await t.tokenFor('alice'),
      });
      expect(res.statusCode).toBe(200);
      return (
        res.json() as { items: { check: string; state: string; evidence: unknown }[] }
      ).items.find((i) => i.check === check)!;
    };
    const weakened = async (check: string) =>
      (await t.app.services.audit.list({ limit: 5000 })).filter(
        (e) =>
          e.action === 'controls.check.weakened' &&
          (e.details as { check?: string }).check === check,
      );

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      await t.user('alice', ['admin']);
      await t.user('carol', ['release-manager@project:pay']);
      expect((await t.applyApproved(setup)).statusCode).toBe(200);
      await t.app.services.controls.tick();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('an emergency change whose review falls overdue fails the review check on the tick', async () => {
      expect((await state('change.emergency-reviews-on-time')).state).toBe('pass');
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/changes',
        token: await t.tokenFor('alice'),
        json: {
          project: 'pay',
          environment: 'prod',
          riskClass: 'emergency',
          title: 'db failover',
          reason: 'primary down',
          commit: 'a'.repeat(40),
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const id = (created.json() as { id: string }).id;
      const activated = await t.request({
        method: 'POST',
        url: `/api/v1/changes/${id}/activate`,
        token: await t.tokenFor('carol'),
        json: {},
      });
      expect(activated.statusCode, activated.body).toBe(200);
      clock.advance(72 * hour + 1000);
      expect(await t.app.services.controls.tick()).toBeGreaterThan(0);
      const c = await state('change.emergency-reviews-on-time');
      expect(c).toMatchObject({ state: 'fail', evidence: { overdue: [{ change: id }] } });
      const [e] = await weakened('change.emergency-reviews-on-time');
      expect(e!.details).toMatchObject({ cause: { type: 'time' }, after: { state: 'fail' } });
      expect(e!.actor.type).toBe('system');
      // Nothing moved since: the next tick writes nothing.
      expect(await t.app.services.controls.tick()).toBe(0);
    });

    it('a build stage in the production pool fails "runner pool dedicated" when its pipeline is applied', async () => {
      expect((await state('deployment.runner-pool-dedicated')).state).toBe('pass');
      const res = await t.apply(pipeline('prod-pool'), await t.tokenFor('alice'));
      expect(res.statusCode, res.body).toBe(200);
      expect(await state('deployment.runner-pool-dedicated')).toMatchObject({
        state: 'fail',
        evidence: { runnerPool: 'prod-pool', buildStages: ['pay/build:compile'] },
      });
      const [e] = await weakened('deployment.runner-pool-dedicated');
      expect(e!.actor.name).toBe('alice');
      expect(e!.details).toMatchObject({
        cause: { type: 'resources', versions: [{ kind: 'Pipeline', name: 'build', version: 1 }] },
      });
      await t.apply(pipeline('build-pool'), await t.tokenFor('alice'));
      expect((await state('deployment.runner-pool-dedicated')).state).toBe('pass');
    });
  });
}
