import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

// `BOB` and `bob` are one person: they cannot be two users, and every lookup, group membership
// and role binding finds the one user whatever case it was written in.
const password = 'correct horse battery staple';

for (const dialect of dialects) {
  describe(`user names are case-insensitive [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => t?.close());

    it('BOB and bob cannot coexist; user names are stored in lower case', async () => {
      const upper = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name: 'BOB', password },
      });
      expect(upper.statusCode).toBe(201);
      expect(upper.json().name).toBe('bob');
      for (const name of ['bob', 'Bob', 'BOB']) {
        const again = await t.request({ method: 'POST', url: '/api/v1/users', json: { name } });
        expect(again.statusCode).toBe(409);
        expect(again.json().error.code).toBe('IDENTITY_PRINCIPAL_EXISTS');
      }
      // Nor as a service account of another case.
      const sa = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'BoB' },
      });
      expect(sa.statusCode).toBe(409);
      const users = (await t.request({ method: 'GET', url: '/api/v1/users' })).json().items;
      expect(users.filter((u: { name: string }) => u.name.toLowerCase() === 'bob')).toHaveLength(1);
    });

    it('lookups, tokens and logins find the user in any case', async () => {
      expect((await t.request({ method: 'GET', url: '/api/v1/users/BoB' })).json().name).toBe(
        'bob',
      );
      const token = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { user: 'BOB', ttl: '1h' },
      });
      expect(token.json().principal).toEqual({ kind: 'user', name: 'bob' });
      const session = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name: 'Bob', password },
      });
      expect(session.statusCode).toBe(200);
      expect(session.json().user).toBe('bob');
      const me = await t.request({
        method: 'GET',
        url: '/api/v1/whoami',
        token: session.json().token as string,
      });
      expect(me.json()).toMatchObject({ kind: 'user', name: 'bob' });
    });

    it('group members and binding principals match whatever case was written', async () => {
      const applied = await t.apply(`apiVersion: custody/v1
kind: Group
metadata: { name: readers }
spec: { members: [user:BOB, user:Bob] }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: readers-read-users }
spec: { principal: group:readers, role: auditor }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: bob-elsewhere }
spec: { principal: user:BOB, role: auditor, scope: project:nowhere, effect: allow }
`);
      expect(applied.statusCode).toBe(200);
      const session = (
        await t.request({
          method: 'POST',
          url: '/api/v1/auth/login',
          token: '',
          json: { name: 'bob', password },
        })
      ).json().token as string;
      const me = await t.request({ method: 'GET', url: '/api/v1/whoami', token: session });
      expect(me.json().groups).toEqual(['readers']);
      expect(
        me
          .json()
          .bindings.map((b: { name: string }) => b.name)
          .sort(),
      ).toEqual(['bob-elsewhere', 'readers-read-users']);
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/users', token: session })).statusCode,
      ).toBe(200);
      // A deny written for BOB takes effect on bob.
      await t.apply(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: bob-no-reading }
spec: { principal: user:BOB, role: auditor, effect: deny }
`);
      const denied = await t.request({ method: 'GET', url: '/api/v1/users', token: session });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error.details.reason).toContain('bob-no-reading');
    });

    it('a service account keeps its case and is still found in any case', async () => {
      const sa = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'Deploy-Bot' },
      });
      expect(sa.json().name).toBe('Deploy-Bot');
      const dup = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'deploy-bot' },
      });
      expect(dup.json().error.code).toBe('IDENTITY_PRINCIPAL_EXISTS');
      const token = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { serviceAccount: 'DEPLOY-BOT', ttl: '1h' },
      });
      expect(token.json().principal).toEqual({ kind: 'service_account', name: 'Deploy-Bot' });
    });

    it('the database itself refuses a second live name that differs only in case', async () => {
      const row = (name: string) => ({
        id: `raw-${name}`,
        kind: 'user',
        name,
        email: null,
        password_hash: null,
        created_at: new Date().toISOString(),
        created_by: null,
        deleted_at: null,
      });
      await expect(
        t.app.database.db.insertInto('identity_principals').values(row('bOB')).execute(),
      ).rejects.toThrow();
      // A deleted name may come back in another case.
      await t.request({ method: 'DELETE', url: '/api/v1/users/bob' });
      await t.app.database.db.insertInto('identity_principals').values(row('BOB')).execute();
      const live = await sql<{
        name: string;
      }>`select name from identity_principals where lower(name) = 'bob' and deleted_at is null`.execute(
        t.app.database.db,
      );
      expect(live.rows).toEqual([{ name: 'BOB' }]);
    });
  });
}
