import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { ManualClock } from '../../platform/clock.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec: { type: production, changeRecord: native }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: payments }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: ChangeTemplate
metadata: { name: cert-rotation }
spec:
  description: Rotate TLS certificates
  scope: { environmentTypes: [production] }
  validFor: 12h
`;
const hour = 3_600_000;
const commit = 'feed0000feed0000feed0000feed0000feed0000';
// The run asking the change check: who triggered it and what it deploys.
const runBy = (who: string, sha: string | null = commit) => ({
  id: `run_by_${who}`,
  triggeredBy: `user:${who}`,
  commit: sha,
});

for (const dialect of dialects) {
  describe(`change requests [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const tokens: Record<string, string> = {};
    const as = (user: string, method: 'GET' | 'POST', url: string, json?: unknown) =>
      t.request({ method, url, token: tokens[user], ...(json !== undefined ? { json } : {}) });
    // Tokens live a day; the break-glass story spans more, so people log in again.
    const relogin = async () => {
      for (const name of ['alice', 'bob', 'carol']) {
        const { token } = await t.app.services.identity.createToken(systemContext(t.app, 'test'), {
          principal: { kind: 'user', name },
          ttlMs: 86_400_000,
        });
        tokens[name] = token;
      }
    };
    const target = { project: 'payments', environment: 'prod' };
    const check = (
      input: Parameters<TestApp['app']['services']['changes']['records']['check']>[0],
    ) => t.app.services.changes.records.check(input);
    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      expect((await t.applyApproved(setup)).statusCode).toBe(200);
      tokens.alice = await t.user('alice', ['developer@organization']);
      tokens.bob = await t.user('bob', ['release-manager@project:payments']);
      tokens.carol = await t.user('carol', ['release-manager@project:payments']);
      tokens.bot = await t.user('deploy-bot', ['release-manager@organization'], 'service_account');
    });
    afterAll(async () => t?.close());

    it('break-glass: needs a reason and a second person, bypasses freeze and approvals, expires, and owes a review', async () => {
      const noReason = await as('alice', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'emergency',
        title: 'hotfix',
        reason: ' ',
      });
      expect(noReason.statusCode).toBe(400);
      expect(noReason.json().error.code).toBe('CHANGES_REASON_REQUIRED');
      const noCommit = await as('alice', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'emergency',
        title: 'hotfix',
        reason: 'INC-77',
      });
      expect(noCommit.statusCode).toBe(400);
      expect(noCommit.json().error.code).toBe('CHANGES_COMMIT_REQUIRED');
      expect(
        (await t.app.services.changes.requests.list(systemContext(t.app, 'test'), {})).items,
      ).toEqual([]);

      const created = await as('alice', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'emergency',
        title: 'hotfix card declines',
        reason: 'INC-77: all card payments declined',
        commit,
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as string;
      expect(created.json()).toMatchObject({ state: 'requested', requestedBy: 'user:alice' });
      const pending = await check({
        changeId: id,
        ...target,
        at: clock.now(),
        run: runBy('alice'),
      });
      expect(pending).toMatchObject({
        ok: false,
        bypassFreeze: false,
        reasons: [{ code: 'CHANGES_NOT_APPROVED' }],
      });

      // The requester cannot activate it, even holding the permission.
      const bobsOwn = await as('bob', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'emergency',
        title: 'db failover',
        reason: 'primary down',
        commit,
      });
      const seq = await t.app.services.audit.size();
      const self = await as('bob', 'POST', `/api/v1/changes/${bobsOwn.json().id}/activate`, {});
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('CHANGES_SELF_ACTIVATION_FORBIDDEN');
      expect(await t.app.services.audit.list({ afterSeq: seq - 1, limit: 10 })).toMatchObject([
        {
          action: 'changes.request.activated',
          outcome: 'denied',
          actor: { name: 'bob' },
          details: { code: 'CHANGES_SELF_ACTIVATION_FORBIDDEN' },
        },
      ]);
      const bot = await as('bot', 'POST', `/api/v1/changes/${id}/activate`, {});
      expect(bot.statusCode).toBe(403);
      expect(bot.json().error.code).toBe('CHANGES_SERVICE_ACCOUNT_FORBIDDEN');
      const developer = await as('alice', 'POST', `/api/v1/changes/${id}/activate`, {});
      expect(developer.statusCode).toBe(403);
      expect(developer.json().error.code).toBe('AUTHZ_PERMISSION_DENIED');

      const activated = await as('carol', 'POST', `/api/v1/changes/${id}/activate`, {
        comment: 'confirmed outage',
      });
      expect(activated.statusCode).toBe(200);
      expect(activated.json()).toMatchObject({
        state: 'active',
        activatedBy: 'user:carol',
        activatedAt: '2026-03-02T09:00:00.000Z',
        expiresAt: '2026-03-02T13:00:00.000Z', // default 4h
        review: { status: 'pending', dueAt: '2026-03-05T09:00:00.000Z' }, // default 72h
      });
      const again = await as('bob', 'POST', `/api/v1/changes/${id}/activate`, {});
      expect(again.json().error.code).toBe('CHANGES_INVALID_STATE');

      const active = await check({
        changeId: id,
        ...target,
        at: clock.now(),
        run: runBy('alice'),
      });
      expect(active).toMatchObject({ ok: true, bypassFreeze: true, bypassApprovals: true });
      expect(active.reasons[0]!.code).toBe('CHANGES_EMERGENCY_ACTIVE');
      // Bound to its requester and its commit: nobody else's run, no other commit.
      expect(
        (await check({ changeId: id, ...target, at: clock.now(), run: runBy('bob') })).reasons,
      ).toMatchObject([{ code: 'CHANGES_NOT_REQUESTER' }]);
      const otherCommit = await check({
        changeId: id,
        ...target,
        at: clock.now(),
        run: runBy('alice', 'bad0000bad0000bad0000bad0000bad0000bad00'),
      });
      expect(otherCommit).toMatchObject({ ok: false, bypassFreeze: false, bypassApprovals: false });
      expect(otherCommit.reasons[0]!.code).toBe('CHANGES_COMMIT_MISMATCH');

      clock.advance(4 * hour);
      const expired = await check({
        changeId: id,
        ...target,
        at: clock.now(),
        run: runBy('alice'),
      });
      expect(expired).toMatchObject({
        ok: false,
        bypassFreeze: false,
        reasons: [{ code: 'CHANGES_EXPIRED' }],
      });
      expect(
        (await t.app.services.changes.requests.get(systemContext(t.app, 'test'), id)).state,
      ).toBe('expired');

      // The review deadline passes: a control failure until someone other than the requester reviews.
      expect((await t.app.services.changes.failures.list()).items).toEqual([]);
      clock.set('2026-03-05T09:00:01Z');
      await relogin();
      const failures = await t.request({ method: 'GET', url: '/api/v1/reports/control-failures' });
      expect(failures.statusCode).toBe(200);
      expect(failures.json().items).toMatchObject([
        {
          kind: 'emergency_review_overdue',
          changeId: id,
          project: 'payments',
          environment: 'prod',
          dueAt: '2026-03-05T09:00:00.000Z',
        },
      ]);
      const selfReview = await as('bob', 'POST', `/api/v1/changes/${bobsOwn.json().id}/review`, {
        notes: 'all good',
      });
      expect(selfReview.statusCode).toBe(403);
      expect(selfReview.json().error.code).toBe('CHANGES_SELF_REVIEW_FORBIDDEN');
      const reviewed = await as('bob', 'POST', `/api/v1/changes/${id}/review`, {
        notes: 'root cause: expired issuer cert; follow-up PAY-12',
      });
      expect(reviewed.statusCode).toBe(200);
      expect(reviewed.json().review).toMatchObject({ status: 'done', reviewedBy: 'user:bob' });
      // Reviewed, but late: no longer overdue, still reported as a late review.
      const after = await t.request({ method: 'GET', url: '/api/v1/reports/control-failures' });
      expect(after.json().items).toMatchObject([
        {
          kind: 'emergency_review_late',
          changeId: id,
          reviewedAt: '2026-03-05T09:00:01.000Z',
          overdueByMs: 1000,
        },
      ]);
    });

    it('standard changes need a template that covers the environment; normal changes leave approvals on', async () => {
      clock.set('2026-03-10T09:00:00Z');
      await relogin();
      const noTemplate = await as('bob', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'standard',
        title: 'rotate',
      });
      expect(noTemplate.json().error.code).toBe('CHANGES_TEMPLATE_REQUIRED');
      const outOfScope = await as('bob', 'POST', '/api/v1/changes', {
        project: 'payments',
        environment: 'qa',
        riskClass: 'standard',
        title: 'rotate',
        template: 'cert-rotation',
      });
      expect(outOfScope.json().error.code).toBe('CHANGES_TEMPLATE_OUT_OF_SCOPE');
      const standard = await as('bob', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'standard',
        title: 'rotate certs',
        template: 'cert-rotation',
      });
      expect(standard.statusCode).toBe(201);
      expect(standard.json()).toMatchObject({
        state: 'approved',
        expiresAt: '2026-03-10T21:00:00.000Z',
      });
      expect(
        await check({
          changeId: standard.json().id,
          ...target,
          at: clock.now(),
          run: runBy('bob'),
        }),
      ).toMatchObject({ ok: true, bypassApprovals: true, bypassFreeze: false });
      // Someone else's standard change does not stand in for their approvals.
      expect(
        await check({
          changeId: standard.json().id,
          ...target,
          at: clock.now(),
          run: runBy('alice'),
        }),
      ).toMatchObject({
        ok: false,
        bypassApprovals: false,
        reasons: [{ code: 'CHANGES_NOT_REQUESTER' }],
      });

      const normal = await as('alice', 'POST', '/api/v1/changes', {
        ...target,
        riskClass: 'normal',
        title: 'release 1.2',
      });
      expect(normal.statusCode).toBe(201);
      expect(
        await check({
          changeId: normal.json().id,
          ...target,
          at: clock.now(),
          run: runBy('alice'),
        }),
      ).toMatchObject({ ok: true, bypassApprovals: false, bypassFreeze: false });
      // A change for prod does not apply to a QA stage of the same run: it is noted, not used.
      const elsewhere = await check({
        changeId: normal.json().id,
        project: 'payments',
        environment: 'qa',
        at: clock.now(),
        run: runBy('alice'),
      });
      expect(elsewhere).toMatchObject({ ok: true, bypassApprovals: false, change: null });
      expect(elsewhere.reasons[0]!.code).toBe('CHANGES_NOT_FOR_THIS_ENVIRONMENT');
    });

    it('an environment that requires a native change record blocks a deployment without one', async () => {
      const none = await check({ ...target, at: clock.now(), run: runBy('alice') });
      expect(none).toMatchObject({ ok: false, reasons: [{ code: 'CHANGES_RECORD_REQUIRED' }] });
      const qa = await check({
        project: 'payments',
        environment: 'qa',
        at: clock.now(),
        run: runBy('alice'),
      });
      expect(qa.ok).toBe(true);
      const missing = await check({
        changeId: 'chg_nope',
        ...target,
        at: clock.now(),
        run: runBy('alice'),
      });
      expect(missing.reasons[0]!.code).toBe('CHANGES_NOT_FOUND');
    });

    it('lists and reads changes by environment', async () => {
      const list = await as(
        'alice',
        'GET',
        '/api/v1/changes?project=payments&environment=prod&riskClass=normal',
      );
      expect(list.statusCode).toBe(200);
      expect(list.json().items).toHaveLength(1);
      const one = await as('alice', 'GET', `/api/v1/changes/${list.json().items[0].id}`);
      expect(one.json()).toMatchObject({ riskClass: 'normal', state: 'open' });
      const nope = await as('alice', 'GET', '/api/v1/changes/chg_missing');
      expect(nope.statusCode).toBe(404);
      expect(nope.json().error.code).toBe('CHANGES_NOT_FOUND');
    });
  });
}
