import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi } from '../../platform/testing/test-runner.ts';

// The local runner of `custody up` gets a fresh token at each start; the one before it stops
// working, so restarts never pile up live runner credentials.
for (const dialect of dialects)
  describe(`[${dialect}] runner token replacement`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => t?.close());

    const whoami = (token: string) => callApi(t, 'GET', '/api/v1/whoami', undefined, token);
    const live = async (account: string) => {
      const { body } = await callApi(t, 'GET', '/api/v1/tokens?all=true');
      return (body.items as { principal: { name: string }; revokedAt: string | null }[]).filter(
        (x) => x.principal.name === account && x.revokedAt === null,
      ).length;
    };

    it('each replacement revokes every other token of the account, audited, and no other', async () => {
      const ctx = () => systemContext(t.app, 'test');
      const other = await callApi(t, 'POST', '/api/v1/runners/tokens', {
        name: 'build',
        pools: ['default'],
      });
      // A leftover from before replacement existed: created the old way, never revoked.
      const leftover = await t.app.services.runners.createToken(ctx(), {
        name: 'local',
        pools: ['*'],
        ttlMs: 86_400_000,
      });
      const first = await t.app.services.runners.replaceToken(ctx(), {
        name: 'local',
        pools: ['*'],
        ttlMs: 86_400_000,
      });
      expect(first.revoked).toEqual([leftover.id]);
      const second = await t.app.services.runners.replaceToken(ctx(), {
        name: 'local',
        pools: ['*'],
        ttlMs: 86_400_000,
      });
      expect(second.revoked).toEqual([first.id]);
      expect((await whoami(leftover.token)).body.error.code).toBe('AUTH_TOKEN_REVOKED');
      expect((await whoami(first.token)).body.error.code).toBe('AUTH_TOKEN_REVOKED');
      expect((await whoami(second.token)).status).toBe(200);
      expect((await whoami(other.body.token as string)).status).toBe(200);
      expect(await live('runner-local')).toBe(1);
      expect(await live('runner-build')).toBe(1);
      const { body } = await callApi(
        t,
        'GET',
        '/api/v1/audit/entries?limit=1000&action=identity.token.revoked',
      );
      const revoked = (body.entries as { action: string; resource: { id: string } }[])
        .filter((e) => e.action === 'identity.token.revoked')
        .map((e) => e.resource.id);
      expect(revoked).toEqual(expect.arrayContaining([leftover.id, first.id]));
    });

    it('a runner that registers again under its name is the same runner, not another row', async () => {
      const made = await callApi(t, 'POST', '/api/v1/runners/tokens', {
        name: 'again',
        pools: ['default'],
      });
      const token = made.body.token as string;
      const reg = (pools: string[]) =>
        callApi(t, 'POST', '/api/v1/runner/register', { name: 'again', pools }, token);
      const first = await reg(['default']);
      expect(first.status).toBe(201);
      const second = await reg(['default']);
      expect(second.body.id).toBe(first.body.id);
      const { body } = await callApi(t, 'GET', '/api/v1/runners?limit=200');
      const rows = (body.items as { id: string; name: string }[]).filter((r) => r.name === 'again');
      expect(rows.map((r) => r.id)).toEqual([first.body.id]);
      const audit = await callApi(
        t,
        'GET',
        `/api/v1/audit/entries?limit=100&resourceId=${first.body.id as string}`,
      );
      expect((audit.body.entries as { action: string }[]).map((e) => e.action)).toEqual([
        'runners.runner.registered',
        'runners.runner.re-registered',
      ]);
      // Another principal using the same name is another runner.
      const admin = await callApi(t, 'POST', '/api/v1/runner/register', {
        name: 'again',
        pools: ['default'],
      });
      expect(admin.body.id).not.toBe(first.body.id);
    });
  });
