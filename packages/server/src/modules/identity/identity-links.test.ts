import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

// Segregation of duties needs to know which person wrote a commit or reviewed a pull request.
// Only identities an administrator linked to a user (and the user's own e-mail) say so, matched
// exactly: `github:erin` is not `user:erin`, and `erin@elsewhere` is not erin.
for (const dialect of dialects) {
  describe(`linked identities and the identity directory [${dialect}]`, () => {
    let t: TestApp;
    let developer: string;
    const link = (name: string, kind: string, value: string, token?: string) =>
      t.request({
        method: 'POST',
        url: `/api/v1/users/${name}/identities`,
        json: { kind, value },
        token,
      });
    const unlink = (name: string, kind: string, value: string) =>
      t.request({
        method: 'DELETE',
        url: `/api/v1/users/${name}/identities/${kind}/${encodeURIComponent(value)}`,
      });
    const resolve = (refs: string[]) =>
      t.app.services.directory.resolve(t.app.database.db, refs).then((m) => Object.fromEntries(m));
    const linkCount = async () =>
      Number(
        (
          await t.app.database.db
            .selectFrom('identity_links')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    beforeAll(async () => {
      t = await createTestApp(dialect);
      for (const [name, email] of [
        ['erin', 'Erin@Corp.Example'],
        ['frank', undefined],
      ] as const) {
        const res = await t.request({
          method: 'POST',
          url: '/api/v1/users',
          json: { name, ...(email ? { email } : {}) },
        });
        expect(res.statusCode).toBe(201);
      }
      developer = await t.user('dev', ['developer']);
    });
    afterAll(async () => t?.close());

    it('nothing matches by name or local part until an administrator links it', async () => {
      expect(
        await resolve([
          'user:erin',
          'user:ERIN',
          'github:erin',
          'gitlab:erin',
          'email:erin',
          'email:erin@other.example',
          'email:ERIN@corp.example',
          'user:erin@corp.example',
          'erin',
          'erin@corp.example',
          'serviceaccount:erin',
          'ldap:erin',
          'user:nobody',
        ]),
      ).toEqual({
        'user:erin': 'user:erin',
        'user:ERIN': 'user:erin',
        // Her own e-mail is a linked identity, compared as a whole and regardless of case.
        'email:ERIN@corp.example': 'user:erin',
      });
    });

    it('an administrator links GitHub and GitLab logins; they match exactly, in any case', async () => {
      const before = await t.app.services.audit.size();
      const added = await link('erin', 'github', 'Erin-S');
      expect(added.statusCode).toBe(201);
      expect(added.json()).toMatchObject({
        kind: 'github',
        value: 'Erin-S',
        source: 'admin',
        createdBy: 'user:admin',
      });
      expect((await link('erin', 'gitlab', 'erin.s')).statusCode).toBe(201);
      expect(await t.app.services.audit.list({ afterSeq: before - 1, limit: 10 })).toMatchObject([
        {
          action: 'identity.link.added',
          resource: { type: 'user', id: 'erin' },
          details: { kind: 'github', value: 'Erin-S' },
        },
        { action: 'identity.link.added', details: { kind: 'gitlab', value: 'erin.s' } },
      ]);
      expect(
        await resolve([
          'github:erin-s',
          'github:ERIN-S',
          'github:erin',
          'github:erin-',
          'gitlab:erin.s',
          'gitlab:erin-s',
        ]),
      ).toEqual({
        'github:erin-s': 'user:erin',
        'github:ERIN-S': 'user:erin',
        'gitlab:erin.s': 'user:erin',
      });
      const listed = await t.request({ method: 'GET', url: '/api/v1/users/ERIN/identities' });
      expect(listed.json().items).toMatchObject([
        { kind: 'email', value: 'Erin@Corp.Example', source: 'profile', createdBy: 'user:admin' },
        { kind: 'github', value: 'Erin-S', source: 'admin' },
        { kind: 'gitlab', value: 'erin.s', source: 'admin' },
      ]);
      // The directory works inside a transaction, as the deployment gate calls it.
      await t.app.database.db.transaction().execute(async (tx) => {
        const map = await t.app.services.directory.resolve(tx, ['github:Erin-S']);
        expect(map.get('github:Erin-S')).toBe('user:erin');
      });
    });

    it('one identity has one live owner', async () => {
      const taken = await link('frank', 'github', 'ERIN-S');
      expect(taken.statusCode).toBe(409);
      expect(taken.json().error).toMatchObject({
        code: 'IDENTITY_LINK_TAKEN',
        details: { principal: 'user:erin' },
      });
      const profile = await link('frank', 'email', 'erin@corp.example');
      expect(profile.json().error.code).toBe('IDENTITY_LINK_TAKEN');
      const twice = await link('erin', 'github', 'erin-s');
      expect(twice.json().error.code).toBe('IDENTITY_LINK_TAKEN');
      // A new user cannot take an e-mail someone else holds either.
      const newUser = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name: 'mallory', email: 'ERIN@corp.example' },
      });
      expect(newUser.statusCode).toBe(409);
      expect(newUser.json().error.code).toBe('IDENTITY_LINK_TAKEN');
      expect((await t.request({ method: 'GET', url: '/api/v1/users/mallory' })).statusCode).toBe(
        404,
      );
      // Nor can someone with SQL access give it a second owner.
      const frank = await t.app.services.identity.getPrincipal('user', 'frank');
      await expect(
        t.app.database.db
          .insertInto('identity_links')
          .values({
            id: 'lnk_dba',
            principal_id: frank.id,
            kind: 'github',
            value: 'erin-s',
            normalized: 'erin-s',
            source: 'admin',
            created_at: new Date().toISOString(),
            created_by: null,
            removed_at: null,
          })
          .execute(),
      ).rejects.toThrow();
    });

    it('bad kinds and values get stable codes and write nothing', async () => {
      const count = await linkCount();
      const cases: [string, string, string][] = [
        ['ldap', 'erin', 'IDENTITY_LINK_KIND_UNKNOWN'],
        ['user', 'erin', 'IDENTITY_LINK_KIND_UNKNOWN'],
        ['github', '@erin', 'IDENTITY_LINK_VALUE_INVALID'],
        ['github', 'https://github.com/erin', 'IDENTITY_LINK_VALUE_INVALID'],
        ['github', 'erin--s', 'IDENTITY_LINK_VALUE_INVALID'],
        ['github', 'x'.repeat(40), 'IDENTITY_LINK_VALUE_INVALID'],
        ['gitlab', 'erin.git', 'IDENTITY_LINK_VALUE_INVALID'],
        ['gitlab', '-erin', 'IDENTITY_LINK_VALUE_INVALID'],
        ['email', 'erin', 'IDENTITY_LINK_VALUE_INVALID'],
        ['email', 'erin @corp.example', 'IDENTITY_LINK_VALUE_INVALID'],
        ['email', 'a@b@c', 'IDENTITY_LINK_VALUE_INVALID'],
      ];
      for (const [kind, value, code] of cases) {
        const res = await link('frank', kind, value);
        expect(res.statusCode, `${kind}:${value}`).toBe(400);
        expect(res.json().error.code, `${kind}:${value}`).toBe(code);
      }
      const missing = await link('nobody', 'github', 'nobody');
      expect(missing.json().error.code).toBe('IDENTITY_PRINCIPAL_NOT_FOUND');
      const serviceAccount = await t.request({
        method: 'POST',
        url: '/api/v1/serviceaccounts',
        json: { name: 'ci' },
      });
      expect(serviceAccount.statusCode).toBe(201);
      expect((await link('ci', 'github', 'ci-bot')).json().error.code).toBe(
        'IDENTITY_PRINCIPAL_NOT_FOUND',
      );
      expect(await linkCount()).toBe(count);
    });

    it('only holders of identity.link.manage link or unlink; linking is audited when refused', async () => {
      const before = await t.app.services.audit.size();
      const res = await link('dev', 'github', 'dev-login', developer);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.details.permission).toBe('identity.link.manage');
      expect(await t.app.services.audit.list({ afterSeq: before - 1, limit: 5 })).toMatchObject([
        { action: 'identity.link.manage', outcome: 'denied', actor: { name: 'dev' } },
      ]);
      const mine = await t.request({
        method: 'GET',
        url: '/api/v1/users/dev/identities',
        token: developer,
      });
      expect(mine.statusCode).toBe(200);
      expect(mine.json().items).toEqual([]);
    });

    it('unlinking frees an identity; unlinking the own e-mail clears it; deleting a user frees all', async () => {
      const removed = await unlink('erin', 'github', 'ERIN-S');
      expect(removed.statusCode).toBe(200);
      expect(await resolve(['github:erin-s'])).toEqual({});
      expect((await unlink('erin', 'github', 'erin-s')).json().error.code).toBe(
        'IDENTITY_LINK_NOT_FOUND',
      );
      expect((await link('frank', 'github', 'erin-s')).statusCode).toBe(201);
      expect(await resolve(['github:erin-s'])).toEqual({ 'github:erin-s': 'user:frank' });

      expect((await unlink('erin', 'email', 'erin@corp.example')).statusCode).toBe(200);
      expect((await t.request({ method: 'GET', url: '/api/v1/users/erin' })).json().email).toBe(
        null,
      );
      expect(await resolve(['email:erin@corp.example'])).toEqual({});

      expect((await link('erin', 'email', 'erin@corp.example')).statusCode).toBe(201);
      const before = await t.app.services.audit.size();
      expect((await t.request({ method: 'DELETE', url: '/api/v1/users/erin' })).statusCode).toBe(
        200,
      );
      const [deleted] = await t.app.services.audit.list({ afterSeq: before - 1, limit: 1 });
      expect(deleted!.details.unlinked).toEqual(['email:erin@corp.example', 'gitlab:erin.s']);
      expect(await resolve(['user:erin', 'email:erin@corp.example', 'gitlab:erin.s'])).toEqual({});
      expect((await link('frank', 'gitlab', 'erin.s')).statusCode).toBe(201);
    });

    it('creatorOf says who created a principal and when', async () => {
      const directory = t.app.services.directory;
      const db = t.app.database.db;
      expect(await directory.creatorOf(db, 'user:admin')).toEqual({
        createdBy: null,
        createdAt: expect.any(String),
      });
      expect(await directory.creatorOf(db, 'user:FRANK')).toMatchObject({
        createdBy: 'user:admin',
      });
      expect(await directory.creatorOf(db, 'serviceaccount:ci')).toMatchObject({
        createdBy: 'user:admin',
      });
      expect(await directory.creatorOf(db, 'user:erin')).toBeUndefined(); // deleted
      expect(await directory.creatorOf(db, 'group:anything')).toBeUndefined();
      expect(await directory.creatorOf(db, 'frank')).toBeUndefined();
    });
  });
}
