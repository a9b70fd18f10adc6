import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

// One administrator must not defeat four-eyes by creating a token for a colleague and deciding
// with it: such a token carries its issuer, every entry it causes names both, and it never
// approves, rejects, activates or reviews anything.
const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production, changeRecord: native }
`;

const pipeline = (script: string) => `apiVersion: custody/v1
kind: Pipeline
metadata: { name: rel, project: pay }
spec:
  source: { repository: file:///x.git }
  stages:
    - name: deploy
      type: deploy
      environment: prod
      steps:
        - { name: ship, run: ${script} }
`;

for (const dialect of dialects) {
  describe(`tokens issued for someone else [${dialect}]`, () => {
    let t: TestApp;
    let bob: string; // bob's own token
    let carol: string;
    // Tokens the administrator creates for them: impersonation.
    let asBob: string;
    let asCarol: string;

    const tokenFor = async (user: string) => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { user, ttl: '1d' },
      });
      expect(res.statusCode).toBe(201);
      return res.json().token as string;
    };
    const pendingRequest = async () =>
      (
        await t.request({ method: 'GET', url: '/api/v1/approvals?state=pending&project=pay' })
      ).json().items[0] as { id: string; author: string };
    const lastEntries = async (before: number) =>
      t.app.services.audit.list({ afterSeq: before - 1, limit: 20 });

    beforeAll(async () => {
      t = await createTestApp(dialect);
      expect((await t.apply(setup)).statusCode).toBe(200);
      bob = await t.user('bob', [
        'release-manager@project:pay',
        'developer@project:pay',
        'approver@organization',
      ]);
      carol = await t.user('carol', ['release-manager@project:pay']);
      asBob = await tokenFor('bob');
      asCarol = await tokenFor('carol');
    });
    afterAll(async () => t?.close());

    it('the token knows who issued it; sessions, own tokens and the bootstrap token do not', async () => {
      const me = await t.request({ method: 'GET', url: '/api/v1/whoami', token: asBob });
      expect(me.json()).toMatchObject({ name: 'bob', delegatedBy: 'user:admin' });
      const own = await t.request({ method: 'GET', url: '/api/v1/whoami', token: bob });
      expect(own.json()).toMatchObject({ name: 'bob', delegatedBy: null });
      const admin = await t.request({ method: 'GET', url: '/api/v1/whoami' });
      expect(admin.json()).toMatchObject({ name: 'admin', delegatedBy: null });
      // A token the administrator creates for itself is its own.
      const self = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { user: 'ADMIN', ttl: '1h' },
      });
      const selfToken = self.json().token as string;
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/whoami', token: selfToken })).json(),
      ).toMatchObject({ name: 'admin', delegatedBy: null });
      const listed = await t.request({ method: 'GET', url: '/api/v1/tokens?all=true' });
      const bobs = listed
        .json()
        .items.filter((x: { principal: { name: string } }) => x.principal.name === 'bob');
      expect(bobs.map((x: { createdBy: string }) => x.createdBy).sort()).toEqual([
        'system:custody',
        'user:admin',
      ]);
    });

    it('an administrator approving a pipeline version with a token for bob is refused, and the entry names both', async () => {
      // The administrator authors a production pipeline version...
      expect((await t.apply(pipeline('./ship.sh'))).statusCode).toBe(200);
      const request = await pendingRequest();
      expect(request.author).toBe('user:admin');
      // ...and approves it as bob with a token it created for bob.
      const before = await t.app.services.audit.size();
      const res = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: { comment: 'lgtm' },
        token: asBob,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      expect(res.json().error.details).toEqual({ delegatedBy: 'user:admin' });
      expect(await lastEntries(before)).toMatchObject([
        {
          action: 'approvals.request.approve',
          outcome: 'denied',
          resource: { type: 'approval', id: request.id },
          actor: { type: 'user', name: 'bob', authMethod: 'token' },
          details: { code: 'AUTH_DELEGATED_TOKEN_FORBIDDEN', delegatedBy: 'user:admin' },
        },
      ]);
      // Rejecting with it is refused too: it would end the request just the same.
      const reject = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/reject`,
        json: { reason: 'no' },
        token: asBob,
      });
      expect(reject.json().error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      expect(
        (await t.app.services.approvals.get(systemContext(t.app, 'test'), request.id)).state,
      ).toBe('pending');
      // Bob himself, with his own token, may approve the administrator's version.
      const real = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
        token: bob,
      });
      expect(real.statusCode).toBe(200);
      expect(real.json()).toMatchObject({ state: 'approved', decidedBy: 'user:bob' });
    });

    it('a token minted with an impersonating token still carries the impersonator', async () => {
      // bob's token (issued by the administrator) creates "bob's own" token: laundering.
      const minted = await t.request({
        method: 'POST',
        url: '/api/v1/tokens',
        json: { ttl: '1h' },
        token: asBob,
      });
      expect(minted.statusCode).toBe(201);
      const laundered = minted.json().token as string;
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/whoami', token: laundered })).json(),
      ).toMatchObject({ name: 'bob', delegatedBy: 'user:admin' });
      expect((await t.apply(pipeline('./ship.sh v2'))).statusCode).toBe(200);
      const request = await pendingRequest();
      const res = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
        token: laundered,
      });
      expect(res.json().error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
    });

    it('a change made through a token for bob is the administrator’s: the administrator cannot approve it', async () => {
      // The administrator authors as bob, hoping to approve "bob's" version itself.
      expect((await t.apply(pipeline('./ship.sh v3'), asBob)).statusCode).toBe(200);
      const request = await pendingRequest();
      expect(request.author).toBe('user:admin');
      const self = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
      });
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      // Bob, who did not make it, may.
      const byBob = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
        token: bob,
      });
      expect(byBob.statusCode).toBe(200);
    });

    it('every entry an impersonating token causes names its issuer', async () => {
      const before = await t.app.services.audit.size();
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/changes',
        token: asBob,
        json: {
          project: 'pay',
          environment: 'prod',
          riskClass: 'normal',
          title: 'a change in bob s name',
          reason: 'test',
        },
      });
      expect(created.statusCode).toBe(201);
      const entries = await lastEntries(before);
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e.actor.name).toBe('bob');
        expect(e.details.delegatedBy).toBe('user:admin');
      }
      // Refused authentication with such a token names both as well.
      const listed = await t.request({ method: 'GET', url: '/api/v1/tokens?all=true' });
      const id = listed
        .json()
        .items.find(
          (x: { principal: { name: string }; createdBy: string; name: string }) =>
            x.principal.name === 'carol' && x.createdBy === 'user:admin',
        ).id as string;
      const replacement = await tokenFor('carol');
      await t.request({ method: 'DELETE', url: `/api/v1/tokens/${id}` });
      const mark = await t.app.services.audit.size();
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/whoami', token: asCarol })).statusCode,
      ).toBe(401);
      expect(await lastEntries(mark)).toMatchObject([
        {
          action: 'identity.authentication.denied',
          actor: { name: 'carol' },
          details: { code: 'AUTH_TOKEN_REVOKED', delegatedBy: 'user:admin' },
        },
      ]);
      asCarol = replacement;
    });

    it('an emergency change cannot be activated or reviewed with a token issued for someone else', async () => {
      const created = await t.request({
        method: 'POST',
        url: '/api/v1/changes',
        json: {
          project: 'pay',
          environment: 'prod',
          riskClass: 'emergency',
          title: 'hotfix',
          reason: 'INC-1',
          commit: 'abcdef0abcdef0abcdef0abcdef0abcdef0abcd',
        },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as string;
      expect(created.json().requestedBy).toBe('user:admin');
      const before = await t.app.services.audit.size();
      const activate = await t.request({
        method: 'POST',
        url: `/api/v1/changes/${id}/activate`,
        json: { comment: 'go' },
        token: asCarol,
      });
      expect(activate.statusCode).toBe(403);
      expect(activate.json().error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      expect(await lastEntries(before)).toMatchObject([
        {
          action: 'changes.request.activated',
          outcome: 'denied',
          resource: { type: 'change', id },
          actor: { name: 'carol' },
          details: { code: 'AUTH_DELEGATED_TOKEN_FORBIDDEN', delegatedBy: 'user:admin' },
        },
      ]);
      expect(
        (await t.app.services.changes.requests.get(systemContext(t.app, 'test'), id)).state,
      ).toBe('requested');
      // Carol herself activates it; the review then cannot be made as bob by the administrator.
      const real = await t.request({
        method: 'POST',
        url: `/api/v1/changes/${id}/activate`,
        json: {},
        token: carol,
      });
      expect(real.statusCode).toBe(200);
      const review = await t.request({
        method: 'POST',
        url: `/api/v1/changes/${id}/review`,
        json: { notes: 'fine' },
        token: asBob,
      });
      expect(review.statusCode).toBe(403);
      expect(review.json().error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      expect(
        (await t.app.services.changes.requests.get(systemContext(t.app, 'test'), id)).review.status,
      ).toBe('pending');
      const ok = await t.request({
        method: 'POST',
        url: `/api/v1/changes/${id}/review`,
        json: { notes: 'root cause found' },
        token: bob,
      });
      expect(ok.statusCode).toBe(200);
    });

    it('deployment approvals refuse such a token before anything else', async () => {
      const before = await t.app.services.audit.size();
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/deployments/approvals/dap_nonexistent/approve',
        json: {},
        token: asBob,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      expect(await lastEntries(before)).toMatchObject([
        {
          action: 'deployments.approval.approve',
          outcome: 'denied',
          details: { code: 'AUTH_DELEGATED_TOKEN_FORBIDDEN', delegatedBy: 'user:admin' },
        },
      ]);
    });
  });
}
