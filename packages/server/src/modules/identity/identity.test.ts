import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

for (const dialect of dialects) {
  describe(`identity and access [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-06-01T12:00:00Z');
    beforeAll(async () => {
      t = await createTestApp(dialect, { clock, config: { tokenMaxTtl: '30d' } });
    });
    afterAll(async () => t?.close());

    it('the bootstrap admin token identifies the admin', async () => {
      const res = await t.request({ method: 'GET', url: '/api/v1/whoami' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ kind: 'user', name: 'admin', authMethod: 'token' });
      expect(res.json().bindings).toEqual([
        expect.objectContaining({ role: 'admin', scope: 'organization' }),
      ]);
    });

    it('creates a user who logs in with a password and gets a session', async () => {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name: 'alice', email: 'alice@example.com', password: 'correct horse battery' },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).not.toHaveProperty('password');
      const bad = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name: 'alice', password: 'wrong password!!' },
      });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error.code).toBe('AUTH_INVALID_CREDENTIALS');
      const ok = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name: 'alice', password: 'correct horse battery' },
      });
      expect(ok.statusCode).toBe(200);
      const session = ok.json().token as string;
      expect(session).toMatch(/^css_/);
      const me = await t.request({ method: 'GET', url: '/api/v1/whoami', token: session });
      expect(me.json()).toMatchObject({ name: 'alice', authMethod: 'session' });
    });

    it('a service account cannot log in with a password', async () => {
      const sa = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'ci-bot' },
      });
      expect(sa.statusCode).toBe(201);
      const withPassword = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'ci-bot2', password: 'abcdefghijklmnop' },
      });
      expect(withPassword.statusCode).toBe(400);
      expect(withPassword.json().error.code).toBe('REQUEST_INVALID');
      const login = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name: 'ci-bot', password: 'anything-at-all' },
      });
      expect(login.statusCode).toBe(401);
      expect(login.json().error.code).toBe('AUTH_INVALID_CREDENTIALS');
      const audit = await t.app.services.audit.list({
        action: 'identity.session.denied',
        limit: 10,
      });
      expect(audit.some((e) => e.resource.id === 'ci-bot' && e.outcome === 'denied')).toBe(true);
    });

    it('tokens: shown once, stored hashed, listed without values, revocable', async () => {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { serviceAccount: 'ci-bot', ttl: '7d' },
      });
      expect(created.statusCode).toBe(201);
      const { id, token } = created.json() as { id: string; token: string };
      expect(token).toMatch(/^cst_/);
      const me = await t.request({ method: 'GET', url: '/api/v1/whoami', token });
      expect(me.json()).toMatchObject({ kind: 'service_account', name: 'ci-bot' });
      const listed = await t.request({ method: 'GET', url: '/api/v1/tokens?all=true' });
      expect(listed.body).not.toContain(token);
      expect(
        listed.json().items.find((x: { id: string }) => x.id === id).lastUsedAt,
      ).not.toBeNull();
      // The database holds only hashes.
      const rows = await sql<{
        token_hash: string;
      }>`select token_hash from identity_tokens`.execute(t.app.database.db);
      expect(rows.rows.length).toBeGreaterThan(1);
      for (const r of rows.rows) {
        expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(r.token_hash).not.toBe(token);
      }
      const dump = JSON.stringify(
        (await sql`select * from identity_tokens`.execute(t.app.database.db)).rows,
      );
      expect(dump).not.toContain(token.slice(4));
      const revoked = await t.request({ method: 'DELETE', url: `/api/v1/tokens/${id}` });
      expect(revoked.statusCode).toBe(200);
      const after = await t.request({ method: 'GET', url: '/api/v1/whoami', token });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.code).toBe('AUTH_TOKEN_REVOKED');
    });

    it('token TTL is mandatory and capped by the configured maximum', async () => {
      const tooLong = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { serviceAccount: 'ci-bot', ttl: '31d' },
      });
      expect(tooLong.statusCode).toBe(400);
      expect(tooLong.json().error.code).toBe('IDENTITY_TOKEN_TTL_INVALID');
      const missing = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { serviceAccount: 'ci-bot' },
      });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error.code).toBe('REQUEST_INVALID');
    });

    it('an expired token is refused', async () => {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { serviceAccount: 'ci-bot', ttl: '1h' },
      });
      const { token } = created.json() as { token: string };
      expect((await t.request({ method: 'GET', url: '/api/v1/whoami', token })).statusCode).toBe(
        200,
      );
      clock.advance(3_600_001);
      const res = await t.request({ method: 'GET', url: '/api/v1/whoami', token });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('AUTH_TOKEN_EXPIRED');
      const denied = await t.app.services.audit.list({
        action: 'identity.authentication.denied',
        limit: 100,
      });
      expect(
        denied.some((e) => e.details.code === 'AUTH_TOKEN_EXPIRED' && e.actor.name === 'ci-bot'),
      ).toBe(true);
    });

    it("a deleted user's token is refused", async () => {
      const token = await t.user('dave', ['developer']);
      expect((await t.request({ method: 'GET', url: '/api/v1/whoami', token })).statusCode).toBe(
        200,
      );
      const del = await t.request({ method: 'DELETE', url: '/api/v1/users/dave' });
      expect(del.statusCode).toBe(200);
      const res = await t.request({ method: 'GET', url: '/api/v1/whoami', token });
      expect(res.statusCode).toBe(401);
      expect(['AUTH_TOKEN_REVOKED', 'AUTH_PRINCIPAL_DISABLED']).toContain(res.json().error.code);
    });

    it('deny beats allow, at the scope it names', async () => {
      const token = await t.user('erin', ['admin']);
      expect((await t.request({ method: 'GET', url: '/api/v1/users', token })).statusCode).toBe(
        200,
      );
      const applied = await t.apply(
        `apiVersion: custody/v1
kind: Group
metadata: { name: contractors }
spec: { members: [user:erin] }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: contractors-no-read }
spec: { principal: group:contractors, role: auditor, scope: organization, effect: deny }
`,
      );
      expect(applied.statusCode).toBe(200);
      const res = await t.request({ method: 'GET', url: '/api/v1/users', token });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('AUTHZ_PERMISSION_DENIED');
      expect(res.json().error.details.reason).toContain('contractors-no-read');
      // Permissions the deny role does not cover still work.
      expect(
        (
          await t.request({
            method: 'POST',
            url: '/api/v1/serviceaccounts',
            token,
            json: { name: 'erin-bot' },
          })
        ).statusCode,
      ).toBe(201);
    });

    it('project-scoped bindings apply only in their project', async () => {
      await t.apply(`apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Project
metadata: { name: ledger }
`);
      const token = await t.user('frank', ['developer@project:payments']);
      const env = (project: string) => `apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: ${project} }
spec: { type: pre-production }
`;
      const denied = await t.apply(env('payments'), token);
      expect(denied.statusCode).toBe(403);
      await t.apply(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: frank-env }
spec: { principal: user:frank, role: admin, scope: project:payments }
`);
      expect((await t.apply(env('payments'), token)).statusCode).toBe(200);
      expect((await t.apply(env('ledger'), token)).statusCode).toBe(403);
    });

    it('custom roles grant exactly their permissions', async () => {
      const token = await t.user('gina', []);
      const applied = await t.apply(`apiVersion: custody/v1
kind: Role
metadata: { name: user-reader }
spec: { permissions: [identity.user.read] }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: gina-reads-users }
spec: { principal: user:gina, role: user-reader }
`);
      expect(applied.statusCode).toBe(200);
      expect((await t.request({ method: 'GET', url: '/api/v1/users', token })).statusCode).toBe(
        200,
      );
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/serviceaccounts', token })).statusCode,
      ).toBe(403);
      const reserved = await t.apply(
        'apiVersion: custody/v1\nkind: Role\nmetadata: { name: admin }\nspec: { permissions: ["*"] }\n',
      );
      expect(reserved.json().error.code).toBe('IDENTITY_ROLE_RESERVED');
      const unknown = await t.apply(
        'apiVersion: custody/v1\nkind: Role\nmetadata: { name: odd }\nspec: { permissions: [nothing.like.this] }\n',
      );
      expect(unknown.json().error.code).toBe('IDENTITY_PERMISSION_UNKNOWN');
      const badBinding = await t.apply(
        'apiVersion: custody/v1\nkind: RoleBinding\nmetadata: { name: b }\nspec: { principal: user:gina, role: no-such-role }\n',
      );
      expect(badBinding.json().error.code).toBe('IDENTITY_ROLE_UNKNOWN');
    });
  });
}
