import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

// The change and freeze commands against an in-process server (SQLite) over real HTTP.
describe('custody change and custody freeze', () => {
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
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-change-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    tokens.admin = (await bootstrapAdmin(app))!.token;
    const ctx = systemContext(app, 'test');
    await app.services.resources.applyManifest(
      ctx,
      `apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec: { type: production, changeRecord: native }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: alice-dev }
spec: { principal: user:alice, role: developer, scope: organization, effect: allow }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: carol-rm }
spec: { principal: user:carol, role: release-manager, scope: project:payments, effect: allow }
`,
    );
    for (const name of ['alice', 'carol']) {
      await app.services.identity.createPrincipal(ctx, { kind: 'user', name });
      tokens[name] = (
        await app.services.identity.createToken(ctx, {
          principal: { kind: 'user', name },
          ttlMs: 3_600_000,
        })
      ).token;
    }
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('break-glass from the command line: request, refused self-activation (exit 3), second-person activation, review', async () => {
    const created = await custody(
      'alice',
      '-o',
      'json',
      'change',
      'create',
      'payments/prod',
      '--risk',
      'emergency',
      '--title',
      'hotfix',
      '--reason',
      'INC-9 outage',
      '--commit',
      'abc1234def5678abc1234def5678abc1234def56',
    );
    expect(created.status, created.stderr).toBe(0);
    const id = JSON.parse(created.stdout).id as string;
    const self = await custody('alice', 'change', 'activate', id);
    expect(self.status).toBe(3);
    const activated = await custody(
      'carol',
      'change',
      'activate',
      id,
      '--comment',
      'seen the outage',
    );
    expect(activated.status).toBe(0);
    expect(activated.stdout).toContain(`Activated ${id}`);
    const list = await custody('alice', 'change', 'list', '--target', 'payments/prod');
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+emergency\\s+active`));
    const review = await custody('carol', 'change', 'review', id, '--notes', 'root cause found');
    expect(review.status).toBe(0);
    const got = await custody('alice', '-o', 'json', 'change', 'get', id);
    expect(JSON.parse(got.stdout)).toMatchObject({
      state: 'active',
      review: { status: 'done', reviewedBy: 'user:carol' },
    });
    const usage = await custody(
      'alice',
      'change',
      'create',
      'payments',
      '--risk',
      'normal',
      '--title',
      'x',
    );
    expect(usage.status).toBe(2);
  });

  it('freeze status, override and overrides', async () => {
    const status = await custody('alice', '-o', 'json', 'freeze', 'status', 'payments/prod');
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ frozen: false });
    const denied = await custody(
      'alice',
      'freeze',
      'override',
      'payments/prod',
      '--reason',
      'urgent',
    );
    expect(denied.status).toBe(3);
    const ok = await custody(
      'carol',
      'freeze',
      'override',
      'payments/prod',
      '--reason',
      'urgent fix',
      '--duration',
      '1h',
    );
    expect(ok.status).toBe(0);
    const listed = await custody('carol', 'freeze', 'overrides', '--target', 'payments/prod');
    expect(listed.stdout).toContain('urgent fix');
  });
});
