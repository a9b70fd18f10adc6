import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec: { type: pre-production }
`;
const weekends = (extra = '', duration = '24h', scope = '{ environmentTypes: [production] }') =>
  `apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: weekends }
spec:
  scope: ${scope}
  timeZone: UTC
  schedule:
    recurring: { rrule: "FREQ=WEEKLY;BYDAY=SA,SU", duration: ${duration} }
${extra}`;
const qaNights = (enabled: boolean) => `apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: qa-nights }
spec:
  enabled: ${enabled}
  scope: { environments: [shop/qa] }
  timeZone: UTC
  schedule:
    recurring: { rrule: "FREQ=DAILY", duration: 24h }
`;
const saturdayNoon = new Date('2026-03-07T12:00:00Z');

interface Result {
  kind: string;
  version: number;
  state: string;
  approval?: string;
}

for (const dialect of dialects) {
  describe(`one person cannot loosen a freeze covering production alone [${dialect}]`, () => {
    let t: TestApp;
    const tokens: Record<string, string> = {};
    const apply = async (yaml: string, who = 'alice') => {
      const res = await t.apply(yaml, tokens[who]);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { results: Result[] }).results;
    };
    const decide = (id: string, who: string, verb: 'approve' | 'reject' = 'approve') =>
      t.request({
        method: 'POST',
        url: `/api/v1/approvals/${id}/${verb}`,
        token: tokens[who],
        json: verb === 'reject' ? { reason: 'no' } : {},
      });
    const frozen = async (environment = 'prod', at = saturdayNoon) =>
      (await t.app.services.freeze.check({ project: 'shop', environment, at })).frozen;

    beforeAll(async () => {
      t = await createTestApp(dialect);
      tokens.alice = await t.user('alice', ['admin']);
      tokens.bob = await t.user('bob', ['admin']);
      expect(
        (await t.apply(setup + '---\n' + weekends() + '---\n' + qaNights(true))).statusCode,
      ).toBe(200);
    });
    afterAll(async () => t?.close());

    it('disabling it waits for a second person; the freeze keeps blocking; the author cannot approve', async () => {
      const [pending] = await apply(weekends('  enabled: false\n'));
      expect(pending).toMatchObject({ version: 2, state: 'pending' });
      expect(await frozen()).toBe(true);
      const self = await decide(pending!.approval!, 'alice');
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      expect(await frozen()).toBe(true);
      expect((await decide(pending!.approval!, 'bob')).statusCode).toBe(200);
      expect(await frozen()).toBe(false);
      // Re-enabling a window that covers production is a change of it too.
      const [back] = await apply(weekends());
      expect(back!.state).toBe('pending');
      expect(await frozen()).toBe(false);
      expect((await decide(back!.approval!, 'bob')).statusCode).toBe(200);
      expect(await frozen()).toBe(true);
    });

    it('shortening it, letting the normal lane through, or moving it off production all wait', async () => {
      for (const attempt of [
        weekends('', '1h'),
        weekends('  exceptions: [normal, rollback]\n'),
        weekends('', '24h', '{ environmentTypes: [pre-production] }'),
        weekends('', '24h', '{ environments: [shop/qa] }'),
      ]) {
        const [pending] = await apply(attempt);
        expect(pending!.state).toBe('pending');
        expect(await frozen()).toBe(true);
        expect(
          (
            await t.app.services.freeze.check({
              project: 'shop',
              environment: 'prod',
              at: saturdayNoon,
              lane: 'normal',
            })
          ).frozen,
        ).toBe(true);
      }
      const waiting = (
        await t.request({
          method: 'GET',
          url: '/api/v1/approvals?state=pending',
          token: tokens.bob,
        })
      ).json().items as { subject: { type: string } }[];
      // Each newer attempt withdrew the one before: one request waits.
      expect(waiting.filter((a) => a.subject.type === 'freezewindow-version')).toHaveLength(1);
    });

    it('a pre-production freeze changes at once; a new production freeze only tightens and takes effect at once', async () => {
      const [qa] = await apply(qaNights(false));
      expect(qa).toMatchObject({ state: 'in-force' });
      expect(qa!.approval).toBeUndefined();
      expect(await frozen('qa')).toBe(false);
      const [created] = await apply(`apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: all-of-2030 }
spec:
  scope: { environments: [shop/prod] }
  timeZone: UTC
  schedule: { start: 2030-01-01T00:00, end: 2031-01-01T00:00 }
`);
      expect(created).toMatchObject({ state: 'in-force' });
      expect(await frozen('prod', new Date('2030-06-05T12:00:00Z'))).toBe(true);
    });

    it('turning production into pre-production in the same manifest does not make the freeze change immediate', async () => {
      const results = await apply(
        `apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: pre-production }
---
` + weekends('  enabled: false\n'),
      );
      expect(results.map((r) => `${r.kind}:${r.state}`)).toEqual([
        'Environment:pending',
        'FreezeWindow:pending',
      ]);
      expect(await frozen()).toBe(true);
      expect((await t.app.services.projects.environment('shop', 'prod'))!.type).toBe('production');
    });
  });
}
