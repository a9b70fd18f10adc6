import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../platform/context.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { deletes, plant, rawDb, yearsAgo } from './retention-fixture.ts';

const manifest = (retention = '') => `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
spec: { description: shop${retention} }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production }
`;
const project = (name: string, years?: number) => `
apiVersion: custody/v1
kind: Project
metadata: { name: ${name} }
spec: { description: x${years ? `, retention: { years: ${years} }` : ''} }
`;

interface Hold {
  id: string;
  state: string;
  releaseRequestedBy: string | null;
  releasedBy: string | null;
  error?: { code: string };
}

for (const dialect of dialects) {
  describe(`legal holds need a second person to release [${dialect}]`, () => {
    let t: TestApp;
    const tok: Record<string, string> = {};

    const call = async (url: string, token: string, json: unknown = {}) => {
      const res = await t.request({ method: 'POST', url, token, json });
      return { status: res.statusCode, body: res.json() as Hold };
    };
    const place = (token: string, json: Record<string, string>) =>
      call('/api/v1/legal-holds', token, { reason: 'SEC inquiry 2026-44', ...json });
    const entries = async (resourceId: string) =>
      (await t.app.services.audit.list({ resourceType: 'LegalHold', resourceId, limit: 100 })).map(
        (e) =>
          `${e.action}:${e.outcome}:${e.actor.name}${e.details.code ? `:${String(e.details.code)}` : ''}`,
      );
    // A token the administrator creates for someone else: impersonation.
    const delegated = async (user: string) => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { user, ttl: '1d' },
      });
      expect(res.statusCode).toBe(201);
      return (res.json() as { token: string }).token;
    };

    beforeAll(async () => {
      t = await createTestApp(dialect);
      expect((await t.applyApproved(manifest())).statusCode).toBe(200);
      for (const u of ['alice', 'bob', 'carol']) tok[u] = await t.user(u, ['admin']);
      tok.robot = await t.user('robot', ['admin'], 'service_account');
      tok.auditor = await t.user('auditor-ann', ['auditor']);
    }, 60_000);
    afterAll(() => t?.close());

    it('refuses the requester, a service account and a delegated token; a second person releases', async () => {
      const old = await plant(t, { project: 'shop', environment: 'prod', at: yearsAgo(9) });
      const placed = await place(tok.alice!, { project: 'shop', environment: 'prod' });
      expect(placed.status).toBe(201);
      const id = placed.body.id;
      const firstDelete = deletes(old)[0]![1];
      await expect(firstDelete(rawDb(t))).rejects.toThrow(/under a legal hold/);

      // Approving before anyone asked is refused too.
      const early = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.bob!);
      expect([early.status, early.body.error?.code]).toEqual([
        409,
        'RETENTION_RELEASE_NOT_REQUESTED',
      ]);
      const asked = await call(`/api/v1/legal-holds/${id}/release`, tok.alice!, {
        reason: 'case settled',
      });
      expect([asked.status, asked.body.state, asked.body.releaseRequestedBy]).toEqual([
        200,
        'release-requested',
        'user:alice',
      ]);
      const self = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.alice!);
      expect([self.status, self.body.error?.code]).toEqual([
        403,
        'RETENTION_SELF_RELEASE_FORBIDDEN',
      ]);
      const robot = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.robot!);
      expect([robot.status, robot.body.error?.code]).toEqual([
        403,
        'RETENTION_SERVICE_ACCOUNT_FORBIDDEN',
      ]);
      const asBob = await call(`/api/v1/legal-holds/${id}/approve-release`, await delegated('bob'));
      expect([asBob.status, asBob.body.error?.code]).toEqual([
        403,
        'AUTH_DELEGATED_TOKEN_FORBIDDEN',
      ]);
      const auditor = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.auditor!);
      expect([auditor.status, auditor.body.error?.code]).toEqual([403, 'AUTHZ_PERMISSION_DENIED']);
      // Still held after every refused attempt.
      await expect(firstDelete(rawDb(t))).rejects.toThrow(/under a legal hold/);

      const released = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.bob!, {
        comment: 'confirmed with counsel',
      });
      expect([released.status, released.body.state, released.body.releasedBy]).toEqual([
        200,
        'released',
        'user:bob',
      ]);
      // Past retention and no longer held: the rows may go now.
      for (const [table, del] of deletes(old))
        await expect(del(rawDb(t)), table).resolves.toBeDefined();
      const again = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.carol!);
      expect([again.status, again.body.error?.code]).toEqual([409, 'RETENTION_HOLD_NOT_ACTIVE']);

      expect(await entries(id)).toEqual([
        'retention.hold.placed:succeeded:alice',
        'retention.hold.released:denied:bob:RETENTION_RELEASE_NOT_REQUESTED',
        'retention.hold.release-requested:succeeded:alice',
        'retention.hold.released:denied:alice:RETENTION_SELF_RELEASE_FORBIDDEN',
        'retention.hold.released:denied:robot:RETENTION_SERVICE_ACCOUNT_FORBIDDEN',
        'retention.hold.released:denied:bob:AUTH_DELEGATED_TOKEN_FORBIDDEN',
        'retention.hold.released:succeeded:bob',
        'retention.hold.released:denied:carol:RETENTION_HOLD_NOT_ACTIVE',
      ]);
      // The auditor reads holds, released ones included (they are never deleted).
      const listed = await t.request({
        method: 'GET',
        url: '/api/v1/legal-holds',
        token: tok.auditor!,
      });
      expect(listed.statusCode).toBe(200);
      const items = (listed.json() as { items: Hold[] }).items;
      expect(items.find((h) => h.id === id)?.state).toBe('released');
    });

    it("counts a release asked through someone else's token as its issuer's", async () => {
      const placed = await place(tok.alice!, { project: 'shop' });
      const id = placed.body.id;
      const viaCarol = await call(`/api/v1/legal-holds/${id}/release`, await delegated('carol'), {
        reason: 'done',
      });
      expect(viaCarol.body.releaseRequestedBy).toBe('user:admin');
      const admin = await call(`/api/v1/legal-holds/${id}/approve-release`, t.adminToken);
      expect([admin.status, admin.body.error?.code]).toEqual([
        403,
        'RETENTION_SELF_RELEASE_FORBIDDEN',
      ]);
      const carol = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.carol!);
      expect(carol.body.state).toBe('released');
    });

    it('refuses an account the requester made for the occasion', async () => {
      const id = (await place(t.adminToken, { project: 'shop' })).body.id;
      await call(`/api/v1/legal-holds/${id}/release`, t.adminToken, { reason: 'done' });
      // The administrator who asked makes a user, grants it, and logs in as it.
      const password = 'correct horse battery staple 42';
      const made = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name: 'helper', password },
      });
      expect(made.statusCode).toBe(201);
      const granted = await t.applyApproved(`
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: helper-admin }
spec: { principal: user:helper, role: admin, scope: organization }
`);
      expect(granted.statusCode, granted.body).toBe(200);
      const login = await t.request({
        method: 'POST',
        url: '/api/v1/auth/login',
        token: '',
        json: { name: 'helper', password },
      });
      const session = (login.json() as { token: string }).token;
      const puppet = await call(`/api/v1/legal-holds/${id}/approve-release`, session);
      expect([puppet.status, puppet.body.error?.code]).toEqual([
        403,
        'APPROVALS_SOCK_PUPPET_FORBIDDEN',
      ]);
      expect(await entries(id)).toContain(
        'retention.hold.released:denied:helper:APPROVALS_SOCK_PUPPET_FORBIDDEN',
      );
      const bob = await call(`/api/v1/legal-holds/${id}/approve-release`, tok.bob!);
      expect(bob.body.state).toBe('released');
    });

    it('holds the runs that used a change request', async () => {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/changes',
        token: tok.alice!,
        json: {
          project: 'shop',
          environment: 'prod',
          riskClass: 'emergency',
          title: 'hotfix',
          reason: 'INC-7',
          commit: 'abcdef0abcdef0abcdef0abcdef0abcdef0abcd',
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const change = (created.json() as { id: string }).id;
      const unused = await place(tok.alice!, { project: 'shop', change });
      expect([unused.status, unused.body.error?.code]).toEqual([400, 'RETENTION_HOLD_INVALID']);
      const used = await plant(t, { project: 'shop', environment: 'prod', at: yearsAgo(9) });
      const other = await plant(t, { project: 'shop', environment: 'prod', at: yearsAgo(9) });
      await t.app.uow.run(
        { actor: { ...systemActor, name: 'deployment-gate' }, requestId: 'test-use' },
        (tx, record) =>
          t.app.services.changes.records.recordUse(tx, record, {
            change,
            run: used.run,
            stage: 'deploy',
            environment: 'prod',
            commit: null,
            intentHash: 'sha256:intent',
            at: new Date(),
          }),
      );
      const placed = await place(tok.alice!, { project: 'shop', change });
      expect([placed.status, (placed.body as unknown as { runs: string[] }).runs]).toEqual([
        201,
        [used.run],
      ]);
      await expect(deletes(used)[0]![1](rawDb(t))).rejects.toThrow(/under a legal hold/);
      await expect(deletes(other)[0]![1](rawDb(t))).resolves.toBeDefined();
      await call(`/api/v1/legal-holds/${placed.body.id}/release`, tok.alice!, { reason: 'closed' });
      expect(
        (await call(`/api/v1/legal-holds/${placed.body.id}/approve-release`, tok.bob!)).body.state,
      ).toBe('released');
    });

    it('refuses holds from service accounts, without a permission, a reason or a valid target', async () => {
      const robot = await place(tok.robot!, { project: 'shop' });
      expect([robot.status, robot.body.error?.code]).toEqual([
        403,
        'RETENTION_SERVICE_ACCOUNT_FORBIDDEN',
      ]);
      const auditor = await place(tok.auditor!, { project: 'shop' });
      expect([auditor.status, auditor.body.error?.code]).toEqual([403, 'AUTHZ_PERMISSION_DENIED']);
      const invalid: Record<string, string>[] = [
        { project: 'shop', reason: ' ' },
        { project: 'shop', environment: 'prod', change: 'run_x/deploy' },
        { project: 'shop', environment: 'nowhere' },
        { project: 'shop', change: 'run_missing/deploy' },
        { project: 'nope' },
      ];
      for (const bad of invalid) {
        const res = await place(tok.alice!, bad);
        expect([res.status, res.body.error?.code], JSON.stringify(bad)).toEqual([
          400,
          'RETENTION_HOLD_INVALID',
        ]);
      }
      // A deployment of another project is not this project's change.
      const other = await plant(t, { project: 'elsewhere', environment: 'prod', at: new Date() });
      const res = await place(tok.alice!, { project: 'shop', change: `${other.run}/deploy` });
      expect(res.body.error?.code).toBe('RETENTION_HOLD_INVALID');
      expect(
        (
          await t.app.services.audit.list({
            action: 'retention.hold.placed',
            outcome: 'denied',
            limit: 10,
          })
        ).map((e) => e.details.code ?? 'AUTHZ'),
      ).toContain('RETENTION_SERVICE_ACCOUNT_FORBIDDEN');
    });

    it("refuses a project retention below the minimum at apply; shortening a production project's waits for a second person", async () => {
      const low = await t.apply(project('tiny', 5));
      expect(low.statusCode).toBe(400);
      expect((low.json() as { error: { code: string } }).error.code).toBe(
        'RETENTION_BELOW_MINIMUM',
      );
      expect((await t.apply(manifest(', retention: { years: 10 }'))).statusCode).toBe(200);
      const years = async () =>
        (
          (
            await t.request({
              method: 'GET',
              url: '/api/v1/projects/shop/retention',
              token: tok.auditor!,
            })
          ).json() as {
            years: number;
          }
        ).years;
      expect(await years()).toBe(10);
      // A row 8 years old is inside shop's 10 years.
      const kept = await plant(t, { project: 'shop', environment: 'prod', at: yearsAgo(8) });
      await expect(deletes(kept)[0]![1](rawDb(t))).rejects.toThrow(/inside its retention period/);
      const shorter = await t.apply(manifest(', retention: { years: 8 }'), tok.alice!);
      const result = (
        shorter.json() as { results: { kind: string; state: string; approval?: string }[] }
      ).results.find((r) => r.kind === 'Project')!;
      expect(result.state).toBe('pending');
      expect(await years()).toBe(10);
      await t.approve(result.approval!);
      expect(await years()).toBe(8);
      expect(await t.app.services.retention.periods.yearsFor('shop')).toBe(8);
      // Shortening never shortens what was stored before: still inside 10 years.
      await expect(deletes(kept)[0]![1](rawDb(t))).rejects.toThrow(/inside its retention period/);
      // A project without production environments shortens at once.
      expect((await t.apply(project('lab', 9))).statusCode).toBe(200);
      const lab = (await t.apply(project('lab', 7))).json() as { results: { state: string }[] };
      expect(lab.results[0]!.state).toBe('in-force');
    });
  });

  describe(`the organization minimum [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { config: { retentionMinimumYears: 10 } });
    }, 60_000);
    afterAll(() => t?.close());

    it('raises the default and refuses shorter project periods', async () => {
      expect((await t.apply(project('shop'))).statusCode).toBe(200);
      expect(await t.app.services.retention.periods.yearsFor('shop')).toBe(10);
      const res = await t.apply(project('shop', 8));
      expect(
        (res.json() as { error: { code: string; details: { minimumYears: number } } }).error,
      ).toMatchObject({
        code: 'RETENTION_BELOW_MINIMUM',
        details: { minimumYears: 10 },
      });
      const p = await plant(t, { project: 'shop', environment: 'qa', at: yearsAgo(9) });
      await expect(deletes(p)[0]![1](rawDb(t))).rejects.toThrow(/inside its retention period/);
      const minimum = await t.app.services.audit.list({
        action: 'retention.minimum.changed',
        limit: 5,
      });
      expect(minimum.map((e) => e.details.years)).toEqual([10]);
    });
  });
}
