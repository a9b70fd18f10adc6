import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

// custody controls (table, json, csv) and custody controls history, against an in-process
// server (SQLite) over real HTTP.
describe('custody controls', () => {
  let app: App;
  let dir: string;
  let server: string;
  const tokens: Record<string, string> = {};

  async function custody(user: string, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const out = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((s) => ((stdout += String(s)), true));
    const err = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((s) => ((stderr += String(s)), true));
    try {
      const status = await main([
        'node',
        'custody',
        '--server',
        server,
        '--token',
        tokens[user]!,
        ...args,
      ]);
      return { status, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-controls-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    tokens.admin = (await bootstrapAdmin(app))!.token;
    const ctx = systemContext(app, 'test');
    await app.services.identity.createPrincipal(ctx, { kind: 'user', name: 'nobody' });
    tokens.nobody = (
      await app.services.identity.createToken(ctx, {
        principal: { kind: 'user', name: 'nobody' },
        ttlMs: 3_600_000,
      })
    ).token;
    const env = (name: string, rules: string) => `
apiVersion: custody/v1
kind: Environment
metadata: { name: ${name}, project: shop }
spec:
  type: production
  approvals: { rules: ${rules} }
`;
    await app.services.resources.applyManifest(
      ctx,
      `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---${env('prod', '[{ name: release, users: [alice], required: 1 }]')}---${env('prod-eu', '[]')}`,
    );
    // A weaker version of prod, put in force by the platform (system actor): weakened.
    await app.services.resources.applyManifest(ctx, env('prod', '[]'));
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the catalog as a table, JSON and CSV', async () => {
    const t = await custody('admin', 'controls', '--environment', 'shop/prod');
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/shop\/prod\s+deployment\.approvals-required\s+FAIL/);
    const j = await custody(
      'admin',
      'controls',
      '--environment',
      'shop/prod-eu',
      '--format',
      'json',
    );
    const body = JSON.parse(j.stdout) as { items: { environment: string; check: string }[] };
    expect(body.items.length).toBeGreaterThan(0);
    expect(new Set(body.items.map((i) => i.environment))).toEqual(new Set(['prod-eu']));
    const g = await custody('admin', '--output', 'json', 'controls', '-e', 'shop');
    expect((JSON.parse(g.stdout) as { items: unknown[] }).items).toHaveLength(
      2 * body.items.length,
    );
    const c = await custody('admin', 'controls', '--format', 'csv');
    const lines = c.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe('project,environment,check,control,title,state,since,message,evidence');
    expect(lines).toHaveLength(1 + 2 * body.items.length);
  });

  it('prints the history of a check and what weakened it', async () => {
    const h = await custody(
      'admin',
      'controls',
      'history',
      'deployment.approvals-required',
      '-e',
      'shop/prod',
    );
    expect(h.status).toBe(0);
    const [, first, second] = h.stdout.trimEnd().split('\n');
    expect(first).toMatch(/shop\/prod\s+FAIL\s+\S+\s+\(now\)\s+Environment shop\/prod@2/);
    expect(second).toMatch(/shop\/prod\s+PASS/);
    const unknown = await custody('admin', 'controls', 'history', 'nope');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('CONTROLS_CHECK_UNKNOWN');
  });

  it('refuses a token without controls.catalog.read, and a bad --format', async () => {
    const denied = await custody('nobody', 'controls');
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toContain('AUTHZ_PERMISSION_DENIED');
    const bad = await custody('admin', 'controls', '--format', 'xml');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--format must be table, json or csv');
  });
});
