import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from './platform/testing/test-app.ts';

const publicRoutes = new Set([
  'POST /api/v1/auth/login',
  'POST /api/v1/webhooks/github/:project',
  'POST /api/v1/webhooks/gitlab/:project',
  // A public key: whoever checks an artifact with cosign needs it, account or not.
  'GET /api/v1/attestations/public-key',
]);

async function tableCounts(t: TestApp): Promise<Record<string, number>> {
  const tables =
    t.dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'`.execute(
          t.app.database.db,
        )
      : await sql<{
          name: string;
        }>`select tablename as name from pg_tables where schemaname = 'public' and tablename not like 'kysely_%'`.execute(
          t.app.database.db,
        );
  const out: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(name)}`.execute(
      t.app.database.db,
    );
    out[name] = Number(r.rows[0]!.n);
  }
  return out;
}

function concrete(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, (_, p: string) =>
    p === 'id' ? 'tok_x' : p === 'kind' ? 'Project' : 'x',
  );
}

for (const dialect of dialects) {
  describe(`API contract [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => t?.close());

    it('every /api/v1 route requires authentication and names a permission', async () => {
      const api = t.app.routes.filter((r) => r.url.startsWith('/api/v1/'));
      expect(api.length).toBeGreaterThan(15);
      for (const route of api) {
        const key = `${route.method} ${route.url}`;
        if (publicRoutes.has(key)) {
          expect('public' in route.auth, key).toBe(true);
          continue;
        }
        expect(
          'permission' in route.auth && /^[a-z]+\.[a-z-]+\.[a-z-]+$/.test(route.auth.permission),
          key,
        ).toBe(true);
        const res = await t.request({ method: route.method, url: concrete(route.url), token: '' });
        expect(res.statusCode, key).toBe(401);
        expect(res.json().error.code, key).toBe('AUTH_REQUIRED');
      }
    });

    it('authenticated without the permission: 403 with a stable code and a denied audit entry', async () => {
      const token = await t.user('mallory', []);
      // Take away everything, implicit grants included: deny wins.
      await t.apply(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: mallory-nothing }
spec: { principal: user:mallory, role: admin, effect: deny }
`);
      const api = t.app.routes.filter(
        (r) => r.url.startsWith('/api/v1/') && 'permission' in r.auth,
      );
      for (const route of api) {
        const key = `${route.method} ${route.url}`;
        const before = await t.app.services.audit.size();
        const res = await t.request({
          method: route.method,
          url: concrete(route.url),
          token,
          ...(route.method === 'POST' ? { json: {} } : {}),
        });
        expect(res.statusCode, key).toBe(403);
        expect(res.json().error.code, key).toBe('AUTHZ_PERMISSION_DENIED');
        const entries = await t.app.services.audit.list({ afterSeq: before - 1, limit: 10 });
        expect(entries.length, key).toBe(1);
        expect(entries[0], key).toMatchObject({
          outcome: 'denied',
          actor: { name: 'mallory', type: 'user' },
        });
        if ('permission' in route.auth)
          expect(entries[0]!.details.permission, key).toBe(route.auth.permission);
      }
    });

    it('bad input gets 400 with a stable code and writes nothing', async () => {
      const cases: { name: string; req: Parameters<TestApp['request']>[0]; code: string }[] = [
        {
          name: 'malformed JSON',
          req: {
            method: 'POST',
            url: '/api/v1/users',
            body: '{"name": "x",',
            headers: { 'content-type': 'application/json' },
          },
          code: 'REQUEST_MALFORMED_JSON',
        },
        {
          name: 'unknown field',
          req: { method: 'POST', url: '/api/v1/users', json: { name: 'x1', role: 'admin' } },
          code: 'REQUEST_INVALID',
        },
        {
          name: 'wrong type',
          req: { method: 'POST', url: '/api/v1/users', json: { name: 42 } },
          code: 'REQUEST_INVALID',
        },
        {
          name: 'oversize body',
          req: {
            method: 'POST',
            url: '/api/v1/users',
            json: { name: 'x2', email: `${'a'.repeat(2 * 1024 * 1024)}@example.com` },
          },
          code: 'REQUEST_BODY_TOO_LARGE',
        },
        {
          name: 'malformed YAML',
          req: {
            method: 'POST',
            url: '/api/v1/apply',
            yaml: 'apiVersion: custody/v1\nkind: Project\nmetadata: { name: p\n',
          },
          code: 'RESOURCES_YAML_INVALID',
        },
        {
          name: 'unknown kind',
          req: {
            method: 'POST',
            url: '/api/v1/apply',
            yaml: 'apiVersion: custody/v1\nkind: Spaceship\nmetadata: { name: p }\n',
          },
          code: 'RESOURCES_KIND_UNKNOWN',
        },
        {
          name: 'unknown field in YAML, second document',
          req: {
            method: 'POST',
            url: '/api/v1/apply',
            yaml: 'apiVersion: custody/v1\nkind: Project\nmetadata: { name: good }\n---\napiVersion: custody/v1\nkind: Project\nmetadata: { name: bad }\nspec:\n  colour: red\n',
          },
          code: 'RESOURCES_VALIDATION_FAILED',
        },
        {
          name: 'wrong type in YAML',
          req: {
            method: 'POST',
            url: '/api/v1/apply',
            yaml: 'apiVersion: custody/v1\nkind: Group\nmetadata: { name: g }\nspec:\n  members: user:bob\n',
          },
          code: 'RESOURCES_VALIDATION_FAILED',
        },
        {
          name: 'JSON to a YAML route',
          req: { method: 'POST', url: '/api/v1/apply', json: { kind: 'Project' } },
          code: 'REQUEST_UNSUPPORTED_MEDIA_TYPE',
        },
        {
          name: 'bad query',
          req: { method: 'GET', url: '/api/v1/audit/entries?limit=abc' },
          code: 'REQUEST_INVALID',
        },
      ];
      for (const c of cases) {
        const before = await tableCounts(t);
        const res = await t.request(c.req);
        expect(res.statusCode, c.name).toBe(
          c.code === 'REQUEST_UNSUPPORTED_MEDIA_TYPE' ? 415 : 400,
        );
        expect(res.json().error.code, c.name).toBe(c.code);
        expect(await tableCounts(t), c.name).toEqual(before);
      }
    });

    it('YAML validation errors name the document, path, line and column', async () => {
      const res = await t.apply(
        'apiVersion: custody/v1\nkind: Project\nmetadata: { name: good }\n---\napiVersion: custody/v1\nkind: Environment\nmetadata: { name: prod, project: good }\nspec:\n  type: production\n  approvals:\n    rules:\n      - name: rm\n        group: release-managers\n        required: many\n',
      );
      expect(res.statusCode).toBe(400);
      const err = res.json().error;
      expect(err.details.errors[0]).toMatchObject({
        document: 1,
        path: 'spec.approvals.rules[0].required',
        line: 14,
        column: 19,
      });
      expect(err.message).toContain('line 14, column 19');
    });

    it('a mutation leaves exactly one audit entry', async () => {
      const mutations: Parameters<TestApp['request']>[0][] = [
        { method: 'POST', url: '/api/v1/users', json: { name: 'oscar' } },
        { method: 'POST', url: '/api/v1/serviceaccounts', json: { name: 'deployer' } },
        { method: 'POST', url: '/api/v1/tokens', json: { user: 'oscar', ttl: '1d' } },
        {
          method: 'POST',
          url: '/api/v1/apply',
          yaml: 'apiVersion: custody/v1\nkind: Project\nmetadata: { name: audited }\n',
        },
        { method: 'DELETE', url: '/api/v1/users/oscar' },
      ];
      for (const m of mutations) {
        const before = await t.app.services.audit.size();
        const res = await t.request(m);
        expect(res.statusCode, m.url).toBeLessThan(300);
        expect((await t.app.services.audit.size()) - before, m.url).toBe(1);
        const [entry] = await t.app.services.audit.list({ afterSeq: before - 1, limit: 1 });
        expect(entry).toMatchObject({
          outcome: 'succeeded',
          actor: { name: 'admin', authMethod: 'token' },
        });
        expect(entry!.requestId).toBeTruthy();
      }
    });

    it('audit entries are append-only in the database', async () => {
      await expect(
        sql`update audit_entries set action = 'x' where seq = 0`.execute(t.app.database.db),
      ).rejects.toThrow(/append-only/);
      await expect(
        sql`delete from audit_entries where seq = 0`.execute(t.app.database.db),
      ).rejects.toThrow(/append-only/);
    });

    it('health, readiness, metrics and the OpenAPI document', async () => {
      expect((await t.request({ method: 'GET', url: '/healthz', token: '' })).json()).toEqual({
        status: 'ok',
      });
      expect((await t.request({ method: 'GET', url: '/readyz', token: '' })).json()).toEqual({
        status: 'ready',
        database: dialect,
      });
      const metrics = await t.request({ method: 'GET', url: '/metrics', token: '' });
      expect(metrics.headers['content-type']).toContain('text/plain');
      expect(metrics.body).toContain('custody_http_requests_total');
      const doc = (await t.request({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.paths['/api/v1/users'].post['x-permission']).toBe('identity.user.create');
      expect(
        doc.paths['/api/v1/users'].post.requestBody.content['application/json'].schema.properties,
      ).toHaveProperty('name');
      const res = await t.request({ method: 'GET', url: '/api/v1/nope' });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('ROUTE_NOT_FOUND');
      expect(res.headers['x-request-id']).toBeTruthy();
    });
  });

  describe(`one transaction per use case [${dialect}]`, () => {
    let t: TestApp;
    let failOn: string | undefined;
    beforeAll(async () => {
      t = await createTestApp(dialect, {
        faults: {
          beforeCommit(records) {
            if (records.some((r) => r.action === failOn))
              throw new Error('injected failure after the change');
          },
        },
      });
    });
    afterAll(async () => t?.close());

    it('a failure after the change rolls back both the change and its audit entry', async () => {
      const before = await t.app.services.audit.size();
      failOn = 'identity.user.created';
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/users',
        json: { name: 'ghost' },
      });
      expect(res.statusCode).toBe(500);
      expect(res.json().error.code).toBe('INTERNAL_ERROR');
      const rows = await sql`select * from identity_principals where name = 'ghost'`.execute(
        t.app.database.db,
      );
      expect(rows.rows).toHaveLength(0);
      expect(await t.app.services.audit.size()).toBe(before);
      expect(
        await t.app.services.audit.list({ action: 'identity.user.created', limit: 100 }),
      ).not.toContainEqual(expect.objectContaining({ resource: { type: 'user', id: 'ghost' } }));
      failOn = 'resources.project.created';
      const applied = await t.apply(
        'apiVersion: custody/v1\nkind: Project\nmetadata: { name: phantom }\n',
      );
      expect(applied.statusCode).toBe(500);
      expect(
        (
          await sql`select * from resource_versions where name = 'phantom'`.execute(
            t.app.database.db,
          )
        ).rows,
      ).toHaveLength(0);
      expect(
        (await sql`select * from projects where name = 'phantom'`.execute(t.app.database.db)).rows,
      ).toHaveLength(0);
      failOn = undefined;
      expect(
        (await t.request({ method: 'POST', url: '/api/v1/users', json: { name: 'ghost' } }))
          .statusCode,
      ).toBe(201);
    });
  });
}
