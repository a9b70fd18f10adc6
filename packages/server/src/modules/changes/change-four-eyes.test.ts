import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// The second person of a break-glass change (who activates it, who reviews it afterwards) and
// whoever lets a deploy through a freeze must be a real, separate person: not an account the
// requester just created, not someone acting through a token another person issued.

const password = 'correct horse battery staple';
const setup = `
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production }
`;

for (const dialect of dialects) {
  describe(`break-glass and freeze overrides need a real second person [${dialect}]`, () => {
    let t: TestApp;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test reads of JSON bodies
    const json = (res: { json(): unknown }) => res.json() as Record<string, any>;

    beforeAll(async () => {
      t = await createTestApp(dialect);
      expect((await t.apply(setup)).statusCode).toBe(200);
    });
    afterAll(async () => t?.close());

    it('an account the requester created cannot activate or review their emergency change', async () => {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/changes',
        json: {
          project: 'pay',
          environment: 'prod',
          riskClass: 'emergency',
          title: 'hotfix',
          reason: 'INC-3',
          commit: 'abcdef0abcdef0abcdef0abcdef0abcdef0abcd',
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const id = json(created).id as string;
      // The administrator who requested it makes a user, grants it, and logs in as it.
      const user = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name: 'helper', password },
      });
      expect(user.statusCode).toBe(201);
      const granted = await t.applyApproved(`
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: helper-rm }
spec: { principal: user:helper, role: release-manager, scope: project:pay }
`);
      expect(granted.statusCode, granted.body).toBe(200);
      const login = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name: 'helper', password },
      });
      const session = json(login).token as string;
      const activate = await t.request({
        method: 'POST',
        url: `/api/v1/changes/${id}/activate`,
        json: {},
        token: session,
      });
      expect(activate.statusCode).toBe(403);
      expect(json(activate).error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
      const denied = await t.app.services.audit.list({
        action: 'changes.request.activated',
        outcome: 'denied',
        limit: 10,
      });
      expect(denied.map((e) => e.actor.name)).toEqual(['helper']);
    });

    it('a freeze override made with a token issued for someone else is refused', async () => {
      await t.user('bob', []);
      const granted = await t.applyApproved(`
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: bob-rm }
spec: { principal: user:bob, role: release-manager, scope: project:pay }
`);
      expect(granted.statusCode).toBe(200);
      // The administrator creates a token for bob and overrides the freeze as bob.
      const issued = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { user: 'bob', ttl: '1h' },
      });
      expect(issued.statusCode, issued.body).toBe(201);
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        json: { project: 'pay', environment: 'prod', reason: 'ship it', duration: '30m' },
        token: json(issued).token as string,
      });
      expect(res.statusCode).toBe(403);
      expect(json(res).error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      const [entry] = await t.app.services.audit.list({
        action: 'freeze.override.create',
        outcome: 'denied',
        limit: 10,
      });
      expect(entry?.actor.name).toBe('bob');
      expect(entry?.details.delegatedBy).toBe('user:admin');
    });
  });
}
