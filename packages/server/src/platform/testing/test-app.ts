import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { createApp, type App, type AppDeps } from '../../app.ts';
import { bootstrapAdmin, systemContext } from '../../bootstrap.ts';
import type { Clock } from '../clock.ts';
import { configSchema } from '../config/config.ts';
import type { DialectName } from '../db/database.ts';
import type { FaultHooks } from '../db/unit-of-work.ts';
import { createLogger } from '../log/logger.ts';
import { createTestDatabase } from './test-databases.ts';

export interface TestApp {
  readonly app: App;
  readonly dialect: DialectName;
  readonly adminToken: string;
  request(options: {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    url: string;
    token?: string | undefined;
    json?: unknown;
    yaml?: string;
    body?: string;
    headers?: Record<string, string>;
  }): Promise<LightMyRequestResponse>;
  apply(yaml: string, token?: string): Promise<LightMyRequestResponse>;
  // Applies (as `token`, default the bootstrap admin), then a second administrator approves
  // every version that waits for a second person: set-up of governed resources in tests.
  applyApproved(yaml: string, token?: string): Promise<LightMyRequestResponse>;
  // A second administrator (never the author) approves the request.
  approve(approval: string): Promise<void>;
  // Creates a user with an API token and, optionally, role bindings (role@scope).
  user(
    name: string,
    bindings?: readonly string[],
    kind?: 'user' | 'service_account',
  ): Promise<string>;
  // A fresh API token for an existing principal (tests that move the clock past a day).
  tokenFor(name: string, ttlMs?: number, kind?: 'user' | 'service_account'): Promise<string>;
  close(): Promise<void>;
}

export async function createTestApp(
  dialect: DialectName,
  options: {
    clock?: Clock;
    faults?: FaultHooks;
    config?: Record<string, unknown>;
    engine?: AppDeps['engine'];
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(dialect);
  // Keys and other files go to a temporary data directory, never the working tree.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custody-data-'));
  const config = configSchema.parse({
    databaseUrl: database.url,
    logLevel: 'silent',
    dataDir,
    ...options.config,
  });
  const app = await createApp({
    config,
    database,
    logger: createLogger('silent'),
    clock: options.clock,
    faults: options.faults,
    engine: options.engine,
  });
  const boot = await bootstrapAdmin(app);
  if (!boot) throw new Error('bootstrap did not run on a fresh database');
  const adminToken = boot.token;
  const request: TestApp['request'] = async (o) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? adminToken : o.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (o.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(o.json);
    } else if (o.yaml !== undefined) {
      headers['content-type'] ??= 'application/yaml';
      payload = o.yaml;
    } else if (o.body !== undefined) {
      payload = o.body;
    }
    return app.http.inject({
      method: o.method,
      url: o.url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
  };
  let bindingCount = 0;
  let secondAdmin: Promise<unknown> | undefined;
  const approve = async (approval: string) => {
    secondAdmin ??= testApp.user('second-admin', ['admin']);
    await secondAdmin;
    // A fresh token each time: tests move their clock by days.
    const { token } = await app.services.identity.createToken(systemContext(app, 'test'), {
      principal: { kind: 'user', name: 'second-admin' },
      ttlMs: 3_600_000,
    });
    const res = await request({
      method: 'POST',
      url: `/api/v1/approvals/${approval}/approve`,
      token,
      json: { comment: 'test set-up: second person' },
    });
    if (res.statusCode !== 200) throw new Error(`approving ${approval} failed: ${res.body}`);
  };
  const apply: TestApp['apply'] = (yaml, token) =>
    request({ method: 'POST', url: '/api/v1/apply', yaml, token });
  const testApp: TestApp = {
    app,
    dialect,
    adminToken,
    request,
    apply,
    async applyApproved(yaml, token) {
      const res = await apply(yaml, token);
      if (res.statusCode !== 200) return res;
      const { results } = res.json() as { results: { state: string; approval?: string }[] };
      for (const r of results) if (r.state === 'pending' && r.approval) await approve(r.approval);
      return res;
    },
    approve,
    async user(name, bindings = [], kind = 'user') {
      const ctx = systemContext(app, 'test');
      await app.services.identity.createPrincipal(ctx, { kind, name });
      for (const b of bindings) {
        const [role, scope = 'organization'] = b.split('@');
        await app.services.resources.applyDocuments(ctx, [
          {
            apiVersion: 'custody/v1',
            kind: 'RoleBinding',
            metadata: {
              name: `test-${name}-${++bindingCount}`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
            },
            spec: {
              principal: `${kind === 'user' ? 'user' : 'serviceaccount'}:${name}`,
              role,
              scope,
              effect: 'allow',
            },
          },
        ]);
      }
      const { token } = await app.services.identity.createToken(ctx, {
        principal: { kind, name },
        ttlMs: 86_400_000,
      });
      return token;
    },
    async tokenFor(name, ttlMs = 30 * 86_400_000, kind = 'user') {
      const ctx = systemContext(app, 'test');
      return (await app.services.identity.createToken(ctx, { principal: { kind, name }, ttlMs }))
        .token;
    },
    async close() {
      await app.close();
      await database.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return testApp;
}
