import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { ManualClock } from '../../platform/clock.ts';
import { DeployDriver } from '../../platform/testing/deploy-driver.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import type { ApiResult } from '../../platform/testing/test-runner.ts';
import { secretVersionHash } from './secret-changes.ts';

// One person cannot change what production jobs receive: a secret version whose scope reaches
// a production environment waits for a second person, and jobs keep the version in force.
// Every attempt below is one an insider would make to get a credential in alone.

const commit = 'feedface00feedface00feedface00feedface00';
const password = 'correct horse battery staple';

const values = {
  db1: 'db-first-Pa55/word+1',
  db2: 'db-second-Pa55/word+2',
  db3: 'db-third-Pa55/word+3',
  db4: 'db-fourth-Pa55/word+4',
  db5: 'db-fifth-Pa55/word+5',
  api: 'api-key-0123456789abcdef',
  qa: 'qa-only-password-!@#',
  build: 'build-pool-npm-token-42',
  prodPool: 'prod-pool-project-wide-43',
  platform: 'platform-set-value-44',
  dba: 'dba-waiting-value-45',
};

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production, runnerPool: prod }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: pay }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps: [{ name: compile, run: make }]
    - name: deploy-prod
      type: deploy
      environment: prod
      steps:
        - { name: deploy, run: ./deploy.sh, secrets: [DB_PASSWORD, API_KEY, PROD_POOL_TOKEN, PLATFORM_SET] }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: to-qa, project: pay }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy-qa
      type: deploy
      environment: qa
      steps: [{ name: deploy, run: ./deploy.sh qa, secrets: [QA_PASSWORD, BUILD_TOKEN] }]
`;

interface SecretItem {
  environment: string | null;
  name: string;
  inForce: { version: number; approval: string | null; approvedBy: string | null } | null;
  pending: { version: number; approval: string; author: string; reaches: string[] } | null;
}
interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
  steps: { name: string; secrets: Record<string, string> }[];
}

for (const dialect of dialects) {
  describe(`secrets that reach production need a second person [${dialect}]`, () => {
    let t: TestApp;
    let d: DeployDriver;
    const tok = { dev: '', rm: '', cab: '', bot: '', pam: '' };
    // Every response body the test saw: none may hold a value.
    const seen: unknown[] = [];

    const api = async (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      json?: unknown,
      token?: string,
    ): Promise<ApiResult> => {
      const res = await d.api(method, url, json, token);
      seen.push(res.body);
      return res;
    };
    const set = (name: string, value: string, extra: Record<string, unknown> = {}) =>
      api('PUT', `/api/v1/projects/pay/secrets/${name}`, { value, ...extra });
    const decide = (id: string, token: string, how: 'approve' | 'reject' = 'approve') =>
      api(
        'POST',
        `/api/v1/approvals/${id}/${how}`,
        how === 'approve' ? {} : { reason: 'not this credential' },
        token,
      );
    const listed = async (name: string, environment: string | null = null) => {
      const res = await api('GET', '/api/v1/projects/pay/secrets?limit=100');
      return (res.body.items as SecretItem[]).find(
        (i) => i.name === name && i.environment === environment,
      );
    };
    // A real production deployment: run, build, a release manager approves, the deploy job
    // leased in prod's pool. Returns what its deploy step received.
    const deployProd = async (): Promise<Record<string, string>> => {
      const id = await d.startRun('pay', 'release', tok.dev, { commit });
      await d.playNext('build');
      expect((await d.vote(id, 'deploy-prod', tok.rm)).status).toBe(200);
      await d.tick();
      const job = (await d.lease()) as unknown as Job;
      seen.push(job);
      expect(job.stage).toBe('deploy-prod');
      await d.play(job as never);
      expect(await d.runState(id)).toBe('succeeded');
      return job.steps[0]!.secrets;
    };
    const audit = async (action: string) => t.app.services.audit.list({ action, limit: 1000 });

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock: new ManualClock('2026-11-24T15:00:00Z') });
      tok.dev = await t.user('dev', ['developer@project:pay']);
      tok.rm = await t.user('rm', ['release-manager@project:pay']);
      tok.cab = await t.user('cab', ['approver@organization']);
      tok.bot = await t.user('bot', ['approver@organization'], 'service_account');
      const applied = await t.apply(manifest);
      expect(applied.statusCode, applied.body).toBe(200);
      d = await DeployDriver.create(t, ['default', 'prod']);
      // The pipeline deploys to production: a second person approves its version.
      for (const r of (await d.api('GET', '/api/v1/approvals?state=pending')).body.items as {
        id: string;
      }[])
        expect((await d.api('POST', `/api/v1/approvals/${r.id}/approve`, {}, tok.cab)).status).toBe(
          200,
        );
      // The production credential as it is today (set up by the platform itself).
      await t.app.services.secrets.set(systemContext(t.app, 'test'), {
        project: 'pay',
        environment: 'prod',
        name: 'DB_PASSWORD',
        value: values.db1,
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('one person replaces a production secret: it waits, and jobs keep the version in force', async () => {
      const res = await set('DB_PASSWORD', values.db2, { environment: 'prod' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'DB_PASSWORD',
        environment: 'prod',
        version: 2,
        state: 'pending',
        inForce: { version: 1, approval: null },
        pending: { version: 2, author: 'user:admin', reaches: ['pay/prod'] },
      });
      const approval = res.body.approval as string;
      expect(res.body.pending.approval).toBe(approval);
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db1 });
      const last = (await audit('secrets.secret.change-pending')).at(-1)!;
      expect(last).toMatchObject({
        resource: { type: 'secret', id: 'pay/prod/DB_PASSWORD' },
        details: { version: 2, approval, inForceVersion: 1, reaches: ['pay/prod'] },
      });
      // The approval is bound to what the audit entry says, which an auditor can recompute.
      const request = await api('GET', `/api/v1/approvals/${approval}`, undefined, tok.cab);
      expect(request.body).toMatchObject({
        subject: { type: 'secret-version', id: 'pay/prod/DB_PASSWORD@2' },
        project: 'pay',
        environment: 'prod',
        author: 'user:admin',
        state: 'pending',
      });
      expect(request.body.subject.hash).toBe(
        secretVersionHash({
          project: 'pay',
          environment: 'prod',
          name: 'DB_PASSWORD',
          version: 2,
          pools: [],
          sealedDigest: last.details.sealedDigest as string,
        }),
      );
      // The approver sees name, scope, version, author and time: never the value.
      expect(request.body.summary).toContain('DB_PASSWORD');
      expect(request.body.summary).toContain('version 2');
      expect(request.body.summary).toContain('pay/prod');
      expect(request.body.summary).toContain('user:admin');
      expect(request.body.summary).toContain('Version 1 stays in force');
      expect(request.body.createdAt).toBe('2026-11-24T15:00:00.000Z');
    });

    it('the author, a service account, a token made for someone else and a sock puppet cannot approve it', async () => {
      const approval = (await listed('DB_PASSWORD', 'prod'))!.pending!.approval;
      const self = await decide(approval, t.adminToken);
      expect(self.status).toBe(403);
      expect(self.body.error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      const selfReject = await decide(approval, t.adminToken, 'reject');
      expect(selfReject.body.error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      const bot = await decide(approval, tok.bot);
      expect(bot.body.error.code).toBe('APPROVALS_SERVICE_ACCOUNT_FORBIDDEN');
      // The administrator makes a token for cab and approves as cab.
      const forCab = await api('POST', '/api/v1/tokens', { user: 'cab', ttl: '1h' });
      expect(forCab.status).toBe(201);
      const delegated = await decide(approval, forCab.body.token as string);
      expect(delegated.status).toBe(403);
      expect(delegated.body.error.code).toBe('AUTH_DELEGATED_TOKEN_FORBIDDEN');
      // The administrator creates an approver for the occasion, who logs in and approves.
      const puppet = await api('POST', '/api/v1/users', { name: 'puppet', password });
      expect(puppet.status).toBe(201);
      const binding = await t.applyApproved(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: puppet-approves }
spec: { principal: user:puppet, role: approver, scope: organization }
`);
      expect(binding.statusCode, binding.body).toBe(200);
      const login = await api('POST', '/api/v1/auth/login', { name: 'puppet', password }, '');
      expect(login.status).toBe(200);
      const sock = await decide(approval, login.body.token as string);
      expect(sock.body.error.code).toBe('APPROVALS_SOCK_PUPPET_FORBIDDEN');
      const denied = (await t.app.services.audit.list({ outcome: 'denied', limit: 1000 })).filter(
        (e) => e.resource.id === approval,
      );
      expect(denied.map((e) => e.details.code)).toEqual(
        expect.arrayContaining([
          'APPROVALS_SELF_APPROVAL_FORBIDDEN',
          'APPROVALS_SERVICE_ACCOUNT_FORBIDDEN',
          'AUTH_DELEGATED_TOKEN_FORBIDDEN',
          'APPROVALS_SOCK_PUPPET_FORBIDDEN',
        ]),
      );
      // None of it changed what production receives.
      expect((await listed('DB_PASSWORD', 'prod'))!.inForce!.version).toBe(1);
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db1 });
    });

    it('a second person approves: the next production job gets the new value', async () => {
      const approval = (await listed('DB_PASSWORD', 'prod'))!.pending!.approval;
      const res = await decide(approval, tok.cab);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(await listed('DB_PASSWORD', 'prod')).toMatchObject({
        inForce: { version: 2, approval, approvedBy: 'user:cab' },
        pending: null,
      });
      const [applied] = (await audit('secrets.secret.change-applied')).slice(-1);
      expect(applied).toMatchObject({
        resource: { id: 'pay/prod/DB_PASSWORD' },
        actor: { name: 'cab' },
        details: { version: 2, approval, author: 'user:admin', decidedBy: 'user:cab' },
      });
      // In the decision's own transaction: the approval entry is right before it.
      const [decided] = (await audit('approvals.request.approved')).slice(-1);
      expect(applied!.seq - decided!.seq).toBe(1);
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db2 });
      const [released] = (await audit('secrets.secret.released')).slice(-1);
      expect(released!.details).toMatchObject({ version: 2, pool: 'prod', environment: 'prod' });
      // Decided is final: approving again changes nothing.
      expect((await decide(approval, tok.rm)).body.error.code).toBe('APPROVALS_NOT_PENDING');
    });

    it('a new project-wide secret in a project with production waits and reaches no production job until approved', async () => {
      const res = await set('API_KEY', values.api);
      expect(res.body).toMatchObject({
        version: 1,
        state: 'pending',
        inForce: null,
        pending: { version: 1, reaches: ['pay/prod'] },
      });
      expect((await api('GET', `/api/v1/approvals/${res.body.approval}`)).body.summary).toContain(
        'Jobs receive no value for it',
      );
      const before = await deployProd();
      expect(before).not.toHaveProperty('API_KEY');
      const withheld = (await audit('secrets.secret.withheld'))
        .filter((e) => e.resource.id === 'pay/API_KEY')
        .at(-1);
      expect(withheld!.details).toMatchObject({
        code: 'SECRETS_VERSION_PENDING',
        version: 1,
        approval: res.body.approval,
      });
      expect((await decide(res.body.approval as string, tok.cab)).status).toBe(200);
      expect(await deployProd()).toMatchObject({ API_KEY: values.api });
    });

    it("a project-wide secret limited to prod's pool waits; one limited to other pools is immediate", async () => {
      const prodPool = await set('PROD_POOL_TOKEN', values.prodPool, { pools: ['prod'] });
      expect(prodPool.body).toMatchObject({ state: 'pending', pending: { reaches: ['pay/prod'] } });
      const build = await set('BUILD_TOKEN', values.build, { pools: ['default'] });
      expect(build.body).toMatchObject({
        state: 'in-force',
        approval: null,
        inForce: { version: 1, approval: null },
        pending: null,
      });
      expect((await audit('secrets.secret.created')).at(-1)!.resource.id).toBe('pay/BUILD_TOKEN');
    });

    it('a pre-production secret takes effect at once', async () => {
      const res = await set('QA_PASSWORD', values.qa, { environment: 'qa' });
      expect(res.body).toMatchObject({ version: 1, state: 'in-force', approval: null });
      const id = await d.startRun('pay', 'to-qa', tok.dev, { commit });
      const job = (await d.lease()) as unknown as Job;
      seen.push(job);
      expect(job.stage).toBe('deploy-qa');
      expect(job.steps[0]!.secrets).toEqual({ QA_PASSWORD: values.qa, BUILD_TOKEN: values.build });
      await d.play(job as never);
      expect(await d.runState(id)).toBe('succeeded');
    });

    it('a newer version withdraws the older one: its approval can never put the older value in force', async () => {
      const v3 = await set('DB_PASSWORD', values.db3, { environment: 'prod' });
      const v4 = await set('DB_PASSWORD', values.db4, { environment: 'prod' });
      expect(v3.body.version).toBe(3);
      expect(v4.body.version).toBe(4);
      const older = v3.body.approval as string;
      expect(await listed('DB_PASSWORD', 'prod')).toMatchObject({
        inForce: { version: 2 },
        pending: { version: 4, approval: v4.body.approval },
      });
      const request = await api('GET', `/api/v1/approvals/${older}`);
      expect(request.body).toMatchObject({ state: 'rejected', reason: 'superseded by version 4' });
      expect((await decide(older, tok.cab)).body.error.code).toBe('APPROVALS_NOT_PENDING');
      expect((await audit('secrets.secret.change-withdrawn')).at(-1)).toMatchObject({
        resource: { id: 'pay/prod/DB_PASSWORD' },
        details: { version: 3, approval: older, supersededBy: 4 },
      });
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db2 });
      expect((await decide(v4.body.approval as string, tok.cab)).status).toBe(200);
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db4 });
    });

    it('a rejection closes the version and keeps the old value', async () => {
      const v5 = await set('DB_PASSWORD', values.db5, { environment: 'prod' });
      const rejected = await decide(v5.body.approval as string, tok.cab, 'reject');
      expect(rejected.status).toBe(200);
      expect(await listed('DB_PASSWORD', 'prod')).toMatchObject({
        inForce: { version: 4 },
        pending: null,
      });
      expect((await audit('secrets.secret.change-rejected')).at(-1)).toMatchObject({
        details: { version: 5, decidedBy: 'user:cab', reason: 'not this credential' },
      });
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db4 });
      // The refused value is kept nowhere.
      const row = await sql<{
        sealed: string | null;
        state: string;
      }>`select sealed, state from secret_changes where name = 'DB_PASSWORD' and version = 5`.execute(
        t.app.database.db,
      );
      expect(row.rows).toEqual([{ sealed: null, state: 'rejected' }]);
    });

    it('an approver denied at the production environment cannot decide a project-wide secret that reaches it', async () => {
      tok.pam = await t.user('pam', ['approver@project:pay']);
      const deny = await t.applyApproved(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: pam-not-prod }
spec: { principal: user:pam, role: approver, scope: project:pay/environment:prod, effect: deny }
`);
      expect(deny.statusCode, deny.body).toBe(200);
      const approval = (await listed('PROD_POOL_TOKEN'))!.pending!.approval;
      const res = await decide(approval, tok.pam);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
      expect((await listed('PROD_POOL_TOKEN'))!.inForce).toBeNull();
      expect((await decide(approval, tok.cab)).status).toBe(200);
      expect(await deployProd()).toMatchObject({ PROD_POOL_TOKEN: values.prodPool });
    });

    it("the platform's own changes take effect at once", async () => {
      const ctx = systemContext(t.app, 'test');
      const r = await t.app.services.secrets.set(ctx, {
        project: 'pay',
        name: 'PLATFORM_SET',
        value: values.platform,
      });
      expect(r).toMatchObject({ state: 'in-force', version: 1 });
      expect((await audit('secrets.secret.created')).at(-1)).toMatchObject({
        resource: { id: 'pay/PLATFORM_SET' },
        actor: { type: 'system' },
        details: { governed: { because: 'reaches production (pay/prod)' } },
      });
      expect(await deployProd()).toMatchObject({ PLATFORM_SET: values.platform });
    });

    it('a DBA cannot put a waiting value in force, nor alter what was approved', async () => {
      const db = t.app.database.db;
      const res = await set('DB_PASSWORD', values.dba, { environment: 'prod' });
      const approval = res.body.approval as string;
      // Marking the request approved in SQL does nothing: only the decision puts it in force.
      const inForceBefore = await sql<{
        sealed: string;
      }>`select sealed from secrets where name = 'DB_PASSWORD' and environment = 'prod'`.execute(
        db,
      );
      await sql`update approval_requests set state = 'approved' where id = ${approval}`.execute(db);
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db4 });
      await sql`update approval_requests set state = 'pending' where id = ${approval}`.execute(db);
      // The waiting value copied over the row in force is sealed to its own version: it does
      // not open there, and is withheld.
      const waiting = await sql<{
        sealed: string;
      }>`select sealed from secret_changes where approval_id = ${approval}`.execute(db);
      await sql`update secrets set sealed = ${waiting.rows[0]!.sealed} where name = 'DB_PASSWORD' and environment = 'prod'`.execute(
        db,
      );
      const got = await deployProd();
      expect(got).not.toHaveProperty('DB_PASSWORD');
      const withheld = (await audit('secrets.secret.withheld')).at(-1)!;
      expect(withheld.resource.id).toBe('pay/prod/DB_PASSWORD');
      expect(withheld.details.code).toBe('SEALING_VALUE_UNREADABLE');
      await sql`update secrets set sealed = ${inForceBefore.rows[0]!.sealed} where name = 'DB_PASSWORD' and environment = 'prod'`.execute(
        db,
      );
      // The waiting version widened behind the approver's back: the hash no longer matches,
      // the decision is refused and nothing changes.
      await sql`update secret_changes set pools = '["default","prod"]' where approval_id = ${approval}`.execute(
        db,
      );
      const refused = await decide(approval, tok.cab);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('SECRETS_CHANGE_NOT_PENDING');
      expect((await api('GET', `/api/v1/approvals/${approval}`)).body.state).toBe('pending');
      expect((await listed('DB_PASSWORD', 'prod'))!.inForce!.version).toBe(4);
      expect(await deployProd()).toMatchObject({ DB_PASSWORD: values.db4 });
    });

    it('no value, nor its base64, is in the audit trail, the approvals or any API response', async () => {
      seen.push((await api('GET', '/api/v1/approvals?limit=100')).body);
      seen.push((await api('GET', '/api/v1/projects/pay/secret-releases?limit=1000')).body);
      const trail = JSON.stringify(await t.app.services.audit.list({ limit: 10_000 }));
      const responses = JSON.stringify(
        seen.map((b) =>
          // The leased jobs carry the values they were given, to the runner: that is the one
          // place they go. Everything else must not hold them.
          (b as Partial<Job>).leaseId ? { ...(b as Job), steps: [] } : b,
        ),
      );
      for (const v of Object.values(values))
        for (const form of [v, Buffer.from(v).toString('base64')]) {
          expect(trail, `${v} in the audit trail`).not.toContain(form);
          expect(responses, `${v} in an API response`).not.toContain(form);
        }
      const approvals = JSON.stringify(
        await sql`select * from approval_requests`.execute(t.app.database.db),
      );
      for (const v of Object.values(values)) expect(approvals).not.toContain(v);
    });
  });
}
