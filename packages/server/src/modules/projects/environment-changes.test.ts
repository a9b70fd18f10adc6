import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const project = `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
`;
const prod = (rules: string) => `
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec:
  type: production
  approvals:
    rules: ${rules}
`;
const qa = (pool: string) => `
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec: { type: pre-production, runnerPool: ${pool} }
`;
interface Reply {
  items: { id: string }[];
  error: { code: string };
  summary: string;
  [field: string]: unknown;
}

const strict = '[{ name: release, group: release-managers, required: 2 }]';

for (const dialect of dialects) {
  describe(`changes to a production environment's rules need a second person [${dialect}]`, () => {
    let t: TestApp;
    const tokens: Record<string, string> = {};

    const call = async (method: 'GET' | 'POST', url: string, token: string, json?: unknown) => {
      const res = await t.request({
        method,
        url,
        token,
        json: json ?? (method === 'POST' ? {} : undefined),
      });
      return { status: res.statusCode, body: res.json() as Reply };
    };
    const inForce = async (name = 'prod') =>
      (await t.app.services.projects.environment('shop', name))!;
    const apply = async (yaml: string, token: string) => {
      const res = await t.apply(yaml, token);
      expect(res.statusCode).toBe(200);
      return (res.json() as { results: { version: number; change: string; approval?: string }[] })
        .results;
    };
    const audit = async () =>
      (await t.app.services.audit.list({ limit: 5000 })).map(
        (e) => `${e.action}:${e.outcome}:${e.actor.name}`,
      );

    beforeAll(async () => {
      t = await createTestApp(dialect);
      tokens.alice = await t.user('alice', ['admin']);
      tokens.bob = await t.user('bob', ['release-manager@project:shop']);
      tokens.bot = await t.user('bot', ['approver'], 'service_account');
      expect((await t.apply(project + '---' + prod(strict) + '---' + qa('a'))).statusCode).toBe(
        200,
      );
    });
    afterAll(async () => {
      await t.close();
    });

    it('a weakening change waits for approval while the version in force keeps applying', async () => {
      const [result] = await apply(prod('[]'), tokens.alice!);
      expect(result).toMatchObject({ version: 2, change: 'updated' });
      expect(result!.approval).toMatch(/^apr_/);
      const env = await inForce();
      expect(env.version).toBe(1);
      expect(env.spec.approvals?.rules).toHaveLength(1);

      const request = await call('GET', `/api/v1/approvals/${result!.approval}`, tokens.bob!);
      expect(request.body).toMatchObject({
        state: 'pending',
        author: 'user:alice',
        environment: 'prod',
        subject: { type: 'environment-version', id: 'shop/prod@2' },
      });
      expect(request.body.summary).toContain('changes approvals');
    });

    it('its author and a service account cannot approve it; both attempts are audit entries', async () => {
      const [pending] = (
        await call('GET', '/api/v1/approvals?state=pending&project=shop', tokens.bob!)
      ).body.items as { id: string }[];
      const self = await call('POST', `/api/v1/approvals/${pending!.id}/approve`, tokens.alice!);
      expect(self.status).toBe(403);
      expect(self.body.error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      const bot = await call('POST', `/api/v1/approvals/${pending!.id}/approve`, tokens.bot!);
      expect(bot.status).toBe(403);
      expect(bot.body.error.code).toBe('APPROVALS_SERVICE_ACCOUNT_FORBIDDEN');
      const entries = await audit();
      expect(entries).toContain('approvals.request.approve:denied:alice');
      expect(entries).toContain('approvals.request.approve:denied:bot');
      expect((await inForce()).version).toBe(1);
    });

    it('a newer version withdraws the waiting one; a second person puts the newest in force', async () => {
      const [older] = (
        await call('GET', '/api/v1/approvals?state=pending&project=shop', tokens.bob!)
      ).body.items as { id: string }[];
      const [result] = await apply(
        prod('[{ name: release, group: release-managers, required: 1 }]'),
        tokens.alice!,
      );
      expect(result).toMatchObject({ version: 3, change: 'updated' });

      const withdrawn = await call('GET', `/api/v1/approvals/${older!.id}`, tokens.bob!);
      expect(withdrawn.body).toMatchObject({
        state: 'rejected',
        reason: 'superseded by version 3',
      });
      const late = await call('POST', `/api/v1/approvals/${older!.id}/approve`, tokens.bob!);
      expect(late.status).toBe(409);
      expect((await inForce()).version).toBe(1);

      const ok = await call('POST', `/api/v1/approvals/${result!.approval}/approve`, tokens.bob!);
      expect(ok.status).toBe(200);
      const env = await inForce();
      expect(env.version).toBe(3);
      expect(env.spec.approvals?.rules[0]?.required).toBe(1);
      expect(await audit()).toContain('resources.environment.change-applied:succeeded:bob');
    });

    it('a rejected change never takes effect', async () => {
      const [result] = await apply(prod('[]'), tokens.alice!);
      const no = await call('POST', `/api/v1/approvals/${result!.approval}/reject`, tokens.bob!, {
        reason: 'production without approvals is not allowed',
      });
      expect(no.status).toBe(200);
      expect((await inForce()).version).toBe(3);
      expect(await audit()).toContain('resources.environment.change-rejected:succeeded:bob');
      // `get` shows the rejected version apart, never as the one in force.
      const got = await call('GET', '/api/v1/resources/Environment/prod?project=shop', tokens.bob!);
      expect(got.body).toMatchObject({
        inForce: { version: 3, state: 'in-force', document: { spec: { type: 'production' } } },
        proposed: {
          version: 4,
          state: 'rejected',
          approval: { id: result!.approval, state: 'rejected', decidedBy: 'user:bob' },
        },
      });
      const history = await call(
        'GET',
        '/api/v1/resources/Environment/prod/versions?project=shop',
        tokens.bob!,
      );
      const states = history.body.items as unknown as { version: number; state: string }[];
      expect(states.map((v) => `${v.version}:${v.state}`)).toEqual([
        '1:superseded',
        '2:withdrawn',
        '3:in-force',
        '4:rejected',
      ]);
    });

    it('re-applying the rules in force needs no approval', async () => {
      const [result] = await apply(
        prod('[{ name: release, group: release-managers, required: 1 }]'),
        tokens.alice!,
      );
      expect(result!.change).toBe('updated');
      expect(result!.approval).toBeUndefined();
      expect((await inForce()).version).toBe(result!.version);
    });

    it('pre-production environments change at once', async () => {
      const [result] = await apply(qa('b'), tokens.alice!);
      expect(result!.approval).toBeUndefined();
      expect((await inForce('qa')).spec.runnerPool).toBe('b');
    });
  });
}
