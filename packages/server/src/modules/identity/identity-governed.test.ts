import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// shop has a production environment whose approval rules name two groups; lab has none.
const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Project
metadata: { name: lab }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec:
  type: production
  approvals:
    rules:
      - { name: release, group: release-managers, required: 1 }
      - { name: cab, group: cab, required: 1 }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec:
  type: pre-production
  approvals: { rules: [{ name: testers, group: qa-testers, required: 1 }] }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: lab }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Group
metadata: { name: release-managers }
spec: { members: [user:bob] }
---
apiVersion: custody/v1
kind: Group
metadata: { name: qa-testers }
spec: { members: [user:bob] }
---
apiVersion: custody/v1
kind: Group
metadata: { name: oncall }
spec: { members: [user:bob] }
---
apiVersion: custody/v1
kind: Role
metadata: { name: viewer-plus }
spec: { permissions: ['*.*.read'] }
---
apiVersion: custody/v1
kind: Role
metadata: { name: lab-role }
spec: { permissions: ['*.*.read'] }
---
apiVersion: custody/v1
kind: Role
metadata: { name: access-admin }
spec:
  permissions:
    - '*.*.read'
    - resources.manifest.apply
    - identity.rolebinding.apply
    - approvals.request.approve
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: oncall-releases }
spec: { principal: group:oncall, role: release-manager, scope: project:shop }
`;
const group = (name: string, members: string[]) => `apiVersion: custody/v1
kind: Group
metadata: { name: ${name} }
spec: { members: [${members.join(', ')}] }
`;
const role = (name: string, permissions: string[]) => `apiVersion: custody/v1
kind: Role
metadata: { name: ${name} }
spec: { permissions: [${permissions.map((p) => `'${p}'`).join(', ')}] }
`;
const binding = (name: string, principal: string, role: string, scope: string) =>
  `apiVersion: custody/v1
kind: RoleBinding
metadata: { name: ${name} }
spec: { principal: ${principal}, role: ${role}, scope: ${scope} }
`;

interface Result {
  version: number;
  state: string;
  approval?: string;
}

for (const dialect of dialects) {
  describe(`one person cannot widen access to production alone [${dialect}]`, () => {
    let t: TestApp;
    const tokens: Record<string, string> = {};
    const apply = async (yaml: string, who = 'alice') => {
      const res = await t.apply(yaml, tokens[who]);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { results: Result[] }).results;
    };
    const decide = (id: string, who: string) =>
      t.request({
        method: 'POST',
        url: `/api/v1/approvals/${id}/approve`,
        token: tokens[who],
        json: {},
      });
    const whoami = async (who: string) =>
      (await t.request({ method: 'GET', url: '/api/v1/whoami', token: tokens[who] })).json() as {
        groups: string[];
        bindings: { name: string; role: string; scope: string }[];
      };
    const override = (who: string, environment = 'prod') =>
      t.request({
        method: 'POST',
        url: '/api/v1/freeze/overrides',
        token: tokens[who],
        json: { project: 'shop', environment, reason: 'hotfix', duration: '30m' },
      });

    beforeAll(async () => {
      t = await createTestApp(dialect);
      expect((await t.applyApproved(setup)).statusCode).toBe(200);
      tokens.alice = await t.user('alice', ['admin']);
      tokens.bob = await t.user('bob', ['admin']);
      tokens.carol = await t.user('carol', ['viewer-plus@project:shop']);
      tokens.mallory = await t.user('mallory', ['access-admin']);
      tokens.dave = await t.user('dave', ['lab-role@project:lab']);
    });
    afterAll(async () => t?.close());

    it('adding yourself to a group a production approval rule names waits for a second person', async () => {
      const [pending] = await apply(group('release-managers', ['user:bob', 'user:alice']));
      expect(pending).toMatchObject({ version: 2, state: 'pending' });
      expect((await whoami('alice')).groups).not.toContain('release-managers');
      const self = await decide(pending!.approval!, 'alice');
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      const summary = (
        await t.request({
          method: 'GET',
          url: `/api/v1/approvals/${pending!.approval}`,
          token: tokens.bob,
        })
      ).json().summary as string;
      expect(summary).toContain('production environment shop/prod name group release-managers');
      expect((await decide(pending!.approval!, 'bob')).statusCode).toBe(200);
      expect((await whoami('alice')).groups).toContain('release-managers');
    });

    it('creating a group a production rule already names, or joining one bound at production, waits too', async () => {
      const [cab] = await apply(group('cab', ['user:alice']));
      expect(cab).toMatchObject({ version: 1, state: 'pending' });
      expect((await whoami('alice')).groups).not.toContain('cab');
      const [oncall] = await apply(group('oncall', ['user:bob', 'user:carol']));
      expect(oncall!.state).toBe('pending');
      expect((await whoami('carol')).groups).not.toContain('oncall');
      expect((await override('carol')).statusCode).toBe(403);
    });

    it('a pre-production group changes at once', async () => {
      const [qa] = await apply(group('qa-testers', ['user:bob', 'user:alice']));
      expect(qa).toMatchObject({ state: 'in-force' });
      expect((await whoami('alice')).groups).toContain('qa-testers');
    });

    it('binding yourself a release role at a production scope waits; you cannot approve it yourself', async () => {
      const [pending] = await apply(
        binding('mallory-prod', 'user:mallory', 'release-manager', 'project:shop/environment:prod'),
        'mallory',
      );
      expect(pending).toMatchObject({ state: 'pending' });
      expect((await whoami('mallory')).bindings.map((b) => b.name)).not.toContain('mallory-prod');
      expect((await override('mallory')).statusCode).toBe(403);
      const self = await decide(pending!.approval!, 'mallory');
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      // Organization scope reaches production as well.
      const [org] = await apply(
        binding('mallory-all', 'user:mallory', 'admin', 'organization'),
        'mallory',
      );
      expect(org!.state).toBe('pending');
      expect((await override('mallory')).statusCode).toBe(403);
      expect((await decide(pending!.approval!, 'bob')).statusCode).toBe(200);
      expect((await override('mallory')).statusCode).toBe(201);
      // Moving a production binding elsewhere is a change of what reaches production too.
      const [moved] = await apply(
        binding('mallory-prod', 'user:mallory', 'release-manager', 'project:lab'),
        'mallory',
      );
      expect(moved!.state).toBe('pending');
    });

    it('a binding outside production changes at once', async () => {
      const [lab] = await apply(
        binding('mallory-lab', 'user:mallory', 'release-manager', 'project:lab'),
        'mallory',
      );
      expect(lab!.state).toBe('in-force');
      expect((await whoami('mallory')).bindings.map((b) => b.name)).toContain('mallory-lab');
    });

    it('widening a custom role used at a production scope waits; the holder cannot use it yet', async () => {
      const [pending] = await apply(role('viewer-plus', ['*.*.read', 'freeze.window.override']));
      expect(pending).toMatchObject({ version: 2, state: 'pending' });
      expect((await override('carol')).statusCode).toBe(403);
      expect((await decide(pending!.approval!, 'alice')).json().error.code).toBe(
        'APPROVALS_SELF_APPROVAL_FORBIDDEN',
      );
      expect((await decide(pending!.approval!, 'bob')).statusCode).toBe(200);
      expect((await override('carol')).statusCode).toBe(201);
    });

    it('a role used only outside production changes at once, unless a waiting binding would carry it into production', async () => {
      const [lab] = await apply(role('lab-role', ['*.*.read', 'freeze.window.override']));
      expect(lab!.state).toBe('in-force');
      // The approver of this binding sees a read-only role; it must not widen while waiting.
      const [bind] = await apply(binding('dave-shop', 'user:dave', 'lab-role', 'project:shop'));
      expect(bind!.state).toBe('pending');
      const [widen] = await apply(role('lab-role', ['*']));
      expect(widen!.state).toBe('pending');
    });

    it('runner tokens stay immediate (runner role, service account); a person bound to the runner role does not', async () => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/runners/tokens',
        token: tokens.alice,
        json: { name: 'prod-1', pools: ['prod'] },
      });
      expect(res.statusCode, res.body).toBe(201);
      const [person] = await apply(binding('alice-runner', 'user:alice', 'runner', 'organization'));
      expect(person!.state).toBe('pending');
    });
  });
}
