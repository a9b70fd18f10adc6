import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec: { type: production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: payments }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: weekends }
spec:
  description: No production deploys at the weekend
  scope: { environmentTypes: [production] }
  timeZone: America/New_York
  schedule:
    recurring: { rrule: "FREQ=WEEKLY;BYDAY=SA,SU", duration: 24h }
  exceptions: [rollback]
`;

for (const dialect of dialects) {
  describe(`freeze windows [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-03-06T15:00:00Z'); // Friday 10:00 in New York (EST)
    const target = { project: 'payments', environment: 'prod' };
    let releaseToken: string;
    let developerToken: string;
    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      expect((await t.apply(setup)).statusCode).toBe(200);
      clock.set('2026-03-07T12:00:00Z'); // tokens live a day: valid for the whole test
      releaseToken = await t.user('bob', ['release-manager@project:payments/environment:prod']);
      developerToken = await t.user('alice', ['developer@organization']);
      clock.set('2026-03-06T15:00:00Z');
    });
    afterAll(async () => t?.close());

    const check = (at: string, lane?: 'rollback' | 'normal') =>
      t.app.services.freeze.check({ ...target, at: new Date(at), lane });

    it('a weekend freeze blocks Saturday 10:00 New York time and lets Friday 10:00 pass, across both DST changes', async () => {
      expect((await check('2026-03-06T15:00:00Z')).frozen).toBe(false); // Fri 10:00 EST
      const sat = await check('2026-03-07T15:00:00Z'); // Sat 10:00 EST
      expect(sat.frozen).toBe(true);
      expect(sat.windows).toMatchObject([
        {
          name: 'weekends',
          matchedBy: 'environmentType:production',
          localStart: '2026-03-07T00:00',
        },
      ]);
      expect(sat.reasons[0]).toContain('freeze window weekends is in force');
      expect((await check('2026-03-13T14:00:00Z')).frozen).toBe(false); // Fri 10:00 EDT
      expect((await check('2026-03-14T14:00:00Z')).frozen).toBe(true); // Sat 10:00 EDT
      expect((await check('2026-10-30T14:00:00Z')).frozen).toBe(false); // Fri 10:00 EDT
      expect((await check('2026-10-31T14:00:00Z')).frozen).toBe(true); // Sat 10:00 EDT
      expect((await check('2026-11-06T15:00:00Z')).frozen).toBe(false); // Fri 10:00 EST
      expect((await check('2026-11-07T15:00:00Z')).frozen).toBe(true); // Sat 10:00 EST
    });

    it('applies only in scope, and lets the lanes the window lists through', async () => {
      const qa = await t.app.services.freeze.check({
        project: 'payments',
        environment: 'qa',
        at: new Date('2026-03-07T15:00:00Z'),
      });
      expect(qa.frozen).toBe(false);
      const rollback = await check('2026-03-07T15:00:00Z', 'rollback');
      expect(rollback.frozen).toBe(false);
      expect(rollback.excepted.map((w) => w.name)).toEqual(['weekends']);
      expect(
        await t.app.services.freeze.activeWindows({
          ...target,
          at: new Date('2026-03-07T15:00:00Z'),
          lane: 'rollback',
        }),
      ).toEqual([]);
    });

    it('is evaluated when the step runs: a decision taken on Friday does not carry into Saturday', async () => {
      clock.set('2026-03-06T15:00:00Z');
      const atCreation = await t.app.services.freeze.check({ ...target, at: clock.now() });
      expect(atCreation.frozen).toBe(false);
      clock.set('2026-03-07T15:00:00Z'); // the run reaches production on Saturday
      const atStep = await t.app.services.freeze.check({ ...target, at: clock.now() });
      expect(atStep.frozen).toBe(true);
      await expect(
        t.app.services.freeze.assertNotFrozen({ ...target, at: clock.now() }),
      ).rejects.toMatchObject({
        code: 'FREEZE_ACTIVE',
      });
      const res = await t.request({
        method: 'GET',
        url: '/api/v1/freeze/status?project=payments&environment=prod',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ frozen: true, at: '2026-03-07T15:00:00.000Z' });
    });

    it('override: denied without the permission (audited), refused without a reason, recorded with one', async () => {
      clock.set('2026-03-07T15:00:00Z');
      const body = { project: 'payments', environment: 'prod', reason: 'card outage fix INC-42' };
      const before = await t.app.services.audit.size();
      const denied = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: developerToken,
        json: body,
      });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error.code).toBe('AUTHZ_PERMISSION_DENIED');
      const deniedEntries = await t.app.services.audit.list({ afterSeq: before - 1, limit: 10 });
      expect(deniedEntries).toMatchObject([
        { outcome: 'denied', actor: { name: 'alice' }, action: 'freeze.window.override' },
      ]);

      const noReason = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: releaseToken,
        json: { ...body, reason: '   ' },
      });
      expect(noReason.statusCode).toBe(400);
      expect(noReason.json().error.code).toBe('FREEZE_OVERRIDE_REASON_REQUIRED');
      expect((await t.app.services.freeze.listOverrides({})).items).toEqual([]);

      clock.set('2026-03-07T12:00:00Z');
      const svc = await t.user(
        'deploy-bot',
        ['release-manager@project:payments/environment:prod'],
        'service_account',
      );
      const bot = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: svc,
        json: body,
      });
      expect(bot.statusCode).toBe(403);
      expect(bot.json().error.code).toBe('FREEZE_SERVICE_ACCOUNT_FORBIDDEN');

      clock.set('2026-03-07T15:00:00Z');
      const seq = await t.app.services.audit.size();
      const ok = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: releaseToken,
        json: body,
      });
      expect(ok.statusCode).toBe(201);
      expect(ok.json()).toMatchObject({
        createdBy: 'user:bob',
        reason: body.reason,
        startsAt: '2026-03-07T15:00:00.000Z',
        endsAt: '2026-03-07T17:00:00.000Z',
      });
      const entries = await t.app.services.audit.list({ afterSeq: seq - 1, limit: 10 });
      expect(entries).toMatchObject([
        {
          action: 'freeze.override.created',
          outcome: 'succeeded',
          actor: { name: 'bob' },
          resource: { type: 'environment', id: 'payments/prod' },
          details: { reason: body.reason, override: ok.json().id },
        },
      ]);

      const during = await t.app.services.freeze.check({ ...target, at: clock.now() });
      expect(during).toMatchObject({ frozen: false, override: { id: ok.json().id } });
      expect(during.windows).toHaveLength(1);
      clock.advance(2 * 3_600_000);
      expect((await t.app.services.freeze.check({ ...target, at: clock.now() })).frozen).toBe(true);

      const list = await t.request({
        method: 'GET',
        url: '/api/v1/freeze/overrides?project=payments&environment=prod',
        token: releaseToken,
      });
      expect(list.statusCode).toBe(200);
      expect(list.json().items.map((o: { id: string }) => o.id)).toEqual([ok.json().id]);
    });

    it('an override naming windows covers only those windows', async () => {
      clock.set('2026-03-07T12:00:00Z');
      expect(
        (
          await t.apply(`apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: march-close }
spec:
  scope: { environments: [payments/prod] }
  timeZone: America/New_York
  schedule: { start: 2026-03-07T00:00, end: 2026-03-08T00:00 }
`)
        ).statusCode,
      ).toBe(200);
      const partial = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: releaseToken,
        json: {
          project: 'payments',
          environment: 'prod',
          reason: 'weekend hotfix',
          windows: ['weekends'],
          duration: '30m',
        },
      });
      expect(partial.statusCode).toBe(201);
      const decision = await t.app.services.freeze.check({ ...target, at: clock.now() });
      expect(decision.frozen).toBe(true);
      expect(decision.windows.map((w) => w.name).sort()).toEqual(['march-close', 'weekends']);
      expect(decision.windows.find((w) => w.name === 'march-close')?.matchedBy).toBe(
        'environment:payments/prod',
      );
      expect(decision.override).toBeNull();
      const both = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: releaseToken,
        json: {
          project: 'payments',
          environment: 'prod',
          reason: 'weekend hotfix',
          windows: ['weekends', 'march-close'],
          duration: '30m',
        },
      });
      expect(both.statusCode).toBe(201);
      expect((await t.app.services.freeze.check({ ...target, at: clock.now() })).frozen).toBe(
        false,
      );
      const tooLong = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: releaseToken,
        json: { project: 'payments', environment: 'prod', reason: 'x', duration: '2d' },
      });
      expect(tooLong.json().error.code).toBe('FREEZE_OVERRIDE_TOO_LONG');
      const backdated = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: releaseToken,
        json: {
          project: 'payments',
          environment: 'prod',
          reason: 'x',
          startsAt: '2026-03-01T00:00:00Z',
        },
      });
      expect(backdated.json().error.code).toBe('FREEZE_OVERRIDE_START_INVALID');
      // A retired window is disabled, not deleted: it stops applying, its history stays.
      const retire = await t.applyApproved(`apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: march-close }
spec:
  enabled: false
  scope: { environments: [payments/prod] }
  timeZone: America/New_York
  schedule: { start: 2026-03-07T00:00, end: 2026-03-08T00:00 }
`);
      expect(retire.statusCode).toBe(200);
      clock.advance(3_600_000); // past both overrides
      expect(
        (await t.app.services.freeze.check({ ...target, at: clock.now() })).windows.map(
          (w) => w.name,
        ),
      ).toEqual(['weekends']);
    });

    it('a release manager of another environment cannot override prod', async () => {
      clock.set('2026-03-07T12:00:00Z');
      const qaManager = await t.user('carol', ['release-manager@project:payments/environment:qa']);
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: qaManager,
        json: { project: 'payments', environment: 'prod', reason: 'please' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('AUTHZ_PERMISSION_DENIED');
    });

    it('rejects an invalid FreezeWindow with the path of each problem and writes nothing', async () => {
      const res = await t.apply(`apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: broken }
spec:
  scope: { environmentTypes: [production] }
  timeZone: Europe/Atlantis
  schedule: { recurring: { rrule: "FREQ=WEEKLY;BYHOUR=3", duration: 24h } }
`);
      expect(res.statusCode).toBe(400);
      const text = JSON.stringify(res.json());
      expect(text).toContain('timeZone');
      expect(text).toContain('BYHOUR');
      const listed = await t.request({ method: 'GET', url: '/api/v1/resources/FreezeWindow' });
      expect(JSON.stringify(listed.json())).not.toContain('broken');
    });
  });
}
