import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// The mechanism every governed kind shares, shown with a freeze window that covers production.
const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production }
`;
const freeze = (enabled: boolean, description = 'quarter close') => `apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: close }
spec:
  description: ${description}
  enabled: ${enabled}
  scope: { environmentTypes: [production] }
  timeZone: UTC
  schedule: { start: 2000-01-01T00:00, end: 2100-01-01T00:00 }
`;

interface Result {
  version: number;
  change: string;
  state: string;
  approval?: string;
}
interface Version {
  version: number;
  state: string;
  approval: { id: string; state: string; decidedBy: string | null; reason: string | null } | null;
  document: { spec: { enabled: boolean; description: string } };
}
interface View {
  inForce: Version | null;
  proposed: Version | null;
}

for (const dialect of dialects) {
  describe(`governed resource versions [${dialect}]`, () => {
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
        json: verb === 'reject' ? { reason: 'keep the freeze' } : {},
      });
    const view = async () =>
      (
        await t.request({ method: 'GET', url: '/api/v1/resources/FreezeWindow/close' })
      ).json() as View;
    const history = async () =>
      (
        await t.request({ method: 'GET', url: '/api/v1/resources/FreezeWindow/close/versions' })
      ).json().items as Version[];
    const frozen = async () =>
      (
        await t.app.services.freeze.check({
          project: 'shop',
          environment: 'prod',
          at: new Date('2030-01-01T00:00:00Z'),
        })
      ).frozen;
    const actions = async () =>
      (await t.app.services.audit.list({ limit: 5000 })).map(
        (e) => `${e.action}:${e.outcome}:${e.actor.name}`,
      );

    beforeAll(async () => {
      t = await createTestApp(dialect);
      tokens.alice = await t.user('alice', ['admin']);
      tokens.bob = await t.user('bob', ['admin']);
      tokens.ci = await t.user('ci', ['admin'], 'service_account');
      expect((await t.apply(setup + '---\n' + freeze(true))).statusCode).toBe(200);
    });
    afterAll(async () => t?.close());

    it('a rejected version never takes effect, and get shows it as rejected next to the version in force', async () => {
      const [pending] = await apply(freeze(false));
      expect(pending).toMatchObject({ version: 2, change: 'updated', state: 'pending' });
      expect(pending!.approval).toMatch(/^apr_/);
      expect(await frozen()).toBe(true);
      let v = await view();
      expect(v.inForce).toMatchObject({ version: 1, state: 'in-force', approval: null });
      expect(v.inForce!.document.spec.enabled).toBe(true);
      expect(v.proposed).toMatchObject({
        version: 2,
        state: 'pending',
        approval: { id: pending!.approval, state: 'pending' },
      });

      expect((await decide(pending!.approval!, 'bob', 'reject')).statusCode).toBe(200);
      expect(await frozen()).toBe(true);
      v = await view();
      expect(v.inForce!.version).toBe(1);
      expect(v.proposed).toMatchObject({
        version: 2,
        state: 'rejected',
        approval: { state: 'rejected', decidedBy: 'user:bob', reason: 'keep the freeze' },
      });
      // A decision is final: approving the refused request later changes nothing.
      const late = await decide(pending!.approval!, 'bob');
      expect(late.statusCode).toBe(409);
      expect(await frozen()).toBe(true);
      expect(await actions()).toContain('resources.freezewindow.change-rejected:succeeded:bob');
    });

    it('re-applying a refused version asks again; re-applying a waiting one names its request', async () => {
      const [again] = await apply(freeze(false));
      expect(again).toMatchObject({ version: 3, change: 'updated', state: 'pending' });
      const [same] = await apply(freeze(false));
      expect(same).toMatchObject({
        version: 3,
        change: 'unchanged',
        state: 'pending',
        approval: again!.approval,
      });
      expect(await frozen()).toBe(true);
    });

    it('a newer version withdraws the older waiting one; a stale approval can never put it in force', async () => {
      const waiting = (await view()).proposed!;
      expect(waiting.version).toBe(3);
      const [newer] = await apply(freeze(false, 'retired'));
      expect(newer).toMatchObject({ version: 4, state: 'pending' });
      const stale = await decide(waiting.approval!.id, 'bob');
      expect(stale.statusCode).toBe(409);
      expect(stale.json().error.code).toBe('APPROVALS_NOT_PENDING');
      expect(await frozen()).toBe(true);
      const states = (await history()).map((h) => `${h.version}:${h.state}`);
      expect(states).toEqual(['1:in-force', '2:rejected', '3:withdrawn', '4:pending']);
      expect((await history())[2]!.approval).toMatchObject({
        state: 'withdrawn',
        reason: 'superseded by version 4',
      });
      expect(await actions()).toContain('resources.freezewindow.change-withdrawn:succeeded:alice');
    });

    it('re-applying the version in force takes effect at once and withdraws what waits', async () => {
      const waiting = (await view()).proposed!;
      const [back] = await apply(freeze(true));
      expect(back).toMatchObject({ version: 5, state: 'in-force' });
      expect(back!.approval).toBeUndefined();
      expect((await decide(waiting.approval!.id, 'bob')).statusCode).toBe(409);
      const v = await view();
      expect(v.inForce!.version).toBe(5);
      expect(v.proposed).toBeNull();
      expect((await history()).map((h) => `${h.version}:${h.state}`)).toEqual([
        '1:superseded',
        '2:rejected',
        '3:withdrawn',
        '4:withdrawn',
        '5:in-force',
      ]);
    });

    it('a service account cannot push a governed change through: it waits, and no service account decides', async () => {
      const [pending] = await apply(freeze(false), 'ci');
      expect(pending!.state).toBe('pending');
      const bot = await decide(pending!.approval!, 'ci');
      expect(bot.statusCode).toBe(403);
      expect(bot.json().error.code).toBe('APPROVALS_SERVICE_ACCOUNT_FORBIDDEN');
      const request = await t.request({
        method: 'GET',
        url: `/api/v1/approvals/${pending!.approval}`,
        token: tokens.bob,
      });
      expect(request.json()).toMatchObject({
        author: 'serviceaccount:ci',
        subject: { type: 'freezewindow-version', id: 'close@6' },
      });
      expect(request.json().summary).toContain('disables freeze window close');
      expect(request.json().summary).toContain('Version 5 stays in force');
      expect(await frozen()).toBe(true);
      expect((await decide(pending!.approval!, 'bob')).statusCode).toBe(200);
      expect(await frozen()).toBe(false);
      expect((await view()).inForce!.version).toBe(6);
      expect(await actions()).toContain('resources.freezewindow.change-applied:succeeded:bob');
    });

    it('a manifest is all or nothing: a refused document leaves no pending version behind', async () => {
      const before = (await history()).length;
      const res = await t.apply(
        freeze(true) +
          '---\napiVersion: custody/v1\nkind: Environment\nmetadata: { name: x, project: nope }\nspec: { type: production }\n',
        tokens.alice,
      );
      expect(res.statusCode).toBe(400);
      expect((await history()).length).toBe(before);
      expect((await view()).proposed).toBeNull();
    });

    it('the platform itself (system actor) changes at once, and its audit entry says so', async () => {
      await t.app.services.resources.applyManifest(systemContext(t.app, 'test'), freeze(true));
      expect(await frozen()).toBe(true);
      const [entry] = await t.app.services.audit.list({
        action: 'resources.freezewindow.updated',
        limit: 1,
        order: 'desc',
      });
      expect(entry).toMatchObject({ actor: { type: 'system' } });
      expect(entry!.details).toMatchObject({
        governed: { tookEffect: expect.stringContaining('platform itself') },
      });
    });
  });
}
