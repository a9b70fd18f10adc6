import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

// An administrator who authored a change must not approve it through a user it created for
// the occasion: a user created by the request's author within the approval's lifetime (after
// the request, or less than `sockPuppetWindow` = 7 days before it) cannot approve it.
const day = 86_400_000;
const password = 'correct horse battery staple';

const project = `apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec:
  type: production
  approvals: { rules: [{ name: release, group: release-managers, required: 1 }] }
`;
const pipeline = `apiVersion: custody/v1
kind: Pipeline
metadata: { name: rel, project: pay }
spec:
  source: { repository: file:///x.git }
  stages:
    - name: deploy
      type: deploy
      environment: prod
      steps:
        - { name: ship, run: ./ship.sh }
`;
const weakerProd = `apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production }
`;
const approverBinding = (user: string) => `apiVersion: custody/v1
kind: RoleBinding
metadata: { name: ${user}-approves }
spec: { principal: user:${user}, role: approver, scope: project:pay }
`;

for (const dialect of dialects) {
  describe(`sock-puppet approvers [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-06-01T09:00:00Z');
    const sessions: Record<string, string> = {};

    // Created through the API by whoever holds `token` (the administrator by default).
    const createUser = async (name: string, token?: string) => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name, password },
        token,
      });
      expect(res.statusCode).toBe(201);
      expect((await t.applyApproved(approverBinding(name))).statusCode).toBe(200);
    };
    const login = async (name: string) => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name, password },
      });
      expect(res.statusCode).toBe(200);
      sessions[name] = res.json().token as string;
      return sessions[name];
    };
    const approve = (id: string, token: string) =>
      t.request({ method: 'POST', url: `/api/v1/approvals/${id}/approve`, json: {}, token });
    const pending = async (type: string) =>
      (await t.request({ method: 'GET', url: '/api/v1/approvals?state=pending&project=pay' }))
        .json()
        .items.find((r: { subject: { type: string } }) => r.subject.type === type) as {
        id: string;
        author: string;
        createdAt: string;
      };

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      expect((await t.apply(project)).statusCode).toBe(200);
      // Long before the requests: an account the administrator made eight days earlier.
      await createUser('veteran');
      clock.advance(2 * day);
      // Six days before the requests: still within the window.
      await createUser('recent');
      clock.advance(6 * day);
      // The administrator authors a production pipeline version and weakens prod's rules.
      expect((await t.apply(pipeline)).statusCode).toBe(200);
      expect((await t.apply(weakerProd)).statusCode).toBe(200);
      clock.advance(60_000);
    });
    afterAll(async () => t?.close());

    it('a user the author created after the request logs in and cannot approve it', async () => {
      const request = await pending('pipeline-version');
      expect(request.author).toBe('user:admin');
      await createUser('sock');
      const user = await t.request({ method: 'GET', url: '/api/v1/users/sock' });
      expect(user.json()).toMatchObject({ name: 'sock', createdBy: 'user:admin' });
      const session = await login('sock');
      const before = await t.app.services.audit.size();
      const res = await approve(request.id, session);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
      expect(res.json().error.details).toEqual({
        author: 'user:admin',
        chain: ['user:sock', 'user:admin'],
      });
      expect(await t.app.services.audit.list({ afterSeq: before - 1, limit: 10 })).toMatchObject([
        {
          action: 'approvals.request.approve',
          outcome: 'denied',
          actor: { name: 'sock', authMethod: 'session' },
          resource: { type: 'approval', id: request.id },
          details: { code: 'APPROVALS_SOCK_PUPPET_FORBIDDEN', author: 'user:admin' },
        },
      ]);
    });

    it('the same holds for a change to an environment’s approval rules', async () => {
      const request = await pending('environment-version');
      expect(request.author).toBe('user:admin');
      const res = await approve(request.id, sessions.sock!);
      expect(res.json().error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
    });

    it('and for a user created six days before the request', async () => {
      const request = await pending('pipeline-version');
      const res = await approve(request.id, await login('recent'));
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
    });

    it('a puppet of a puppet is still the author’s', async () => {
      const request = await pending('pipeline-version');
      // The administrator creates an administrator, who creates the approver.
      expect(
        (await t.request({ method: 'POST', url: '/api/v1/users', json: { name: 'p1', password } }))
          .statusCode,
      ).toBe(201);
      await t.applyApproved(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: p1-admin }
spec: { principal: user:p1, role: admin }
`);
      await createUser('p2', await login('p1'));
      const res = await approve(request.id, await login('p2'));
      expect(res.json().error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
      expect(res.json().error.details.chain).toEqual(['user:p2', 'user:p1', 'user:admin']);
    });

    it('a user created through an impersonating token counts as created by its issuer', async () => {
      const request = await pending('pipeline-version');
      const bot = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'provisioner' },
      });
      expect(bot.statusCode).toBe(201);
      await t.applyApproved(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: provisioner-admin }
spec: { principal: serviceaccount:provisioner, role: admin }
`);
      const token = (
        await t.request({
          method: 'POST',
          url: '/api/v1/tokens',
          json: { serviceAccount: 'provisioner', ttl: '1h' },
        })
      ).json().token as string;
      await createUser('ghost', token);
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/users/ghost' })).json().createdBy,
      ).toBe('user:admin');
      const res = await approve(request.id, await login('ghost'));
      expect(res.json().error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
    });

    it('an account the author made long before, or someone else made, approves', async () => {
      // Another administrator creates a newcomer today: not the author's puppet.
      const alice = await t.user('alice', ['admin']);
      await createUser('newcomer', alice);
      const env = await pending('environment-version');
      const byNewcomer = await approve(env.id, await login('newcomer'));
      expect(byNewcomer.statusCode).toBe(200);
      const request = await pending('pipeline-version');
      const res = await approve(request.id, await login('veteran'));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ state: 'approved', decidedBy: 'user:veteran' });
    });
  });

  describe(`sock-puppet rule switched off [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { config: { sockPuppetWindow: 'off' } });
    });
    afterAll(async () => t?.close());

    it('with sockPuppetWindow: off a fresh account of the author may approve', async () => {
      expect((await t.apply(project)).statusCode).toBe(200);
      expect((await t.apply(pipeline)).statusCode).toBe(200);
      await t.request({ method: 'POST', url: '/api/v1/users', json: { name: 'sock', password } });
      await t.applyApproved(approverBinding('sock'));
      const session = (
        await t.request({
          method: 'POST',
          url: '/api/v1/auth/login',
          token: '',
          json: { name: 'sock', password },
        })
      ).json().token as string;
      const request = (
        await t.request({ method: 'GET', url: '/api/v1/approvals?state=pending' })
      ).json().items[0] as { id: string };
      const res = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
        token: session,
      });
      expect(res.statusCode).toBe(200);
    });
  });
}
