import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

// custody approvals list --mine, approve/reject of deployment approvals, gate and rollback,
// against an in-process server (SQLite) over real HTTP.
describe('custody approvals, approve, reject, gate and rollback for deployments', () => {
  let app: App;
  let dir: string;
  let server: string;
  let runId = '';
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
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-deploy-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    tokens.admin = (await bootstrapAdmin(app))!.token;
    const ctx = systemContext(app, 'test');
    for (const name of ['alice', 'bob']) {
      await app.services.identity.createPrincipal(ctx, { kind: 'user', name });
      tokens[name] = (
        await app.services.identity.createToken(ctx, {
          principal: { kind: 'user', name },
          ttlMs: 3_600_000,
        })
      ).token;
    }
    await app.services.resources.applyManifest(
      ctx,
      `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: shop }
spec:
  type: production
  approvals: { rules: [{ name: release, group: release-managers, required: 1 }] }
---
apiVersion: custody/v1
kind: Group
metadata: { name: release-managers }
spec: { members: [user:alice, user:bob] }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: release-managers-shop }
spec: { principal: group:release-managers, role: release-manager, scope: project:shop, effect: allow }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy
      type: deploy
      environment: production
      steps: [{ name: deploy, run: ./deploy.sh }]
`,
    );
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
    // The pipeline version deploys to production: a second person approves it first.
    const versions = await custody('bob', '-o', 'json', 'approvals', '--project', 'shop');
    const pending = JSON.parse(versions.stdout) as { id: string }[];
    expect(pending.length).toBe(1);
    expect((await custody('bob', 'approve', pending[0]!.id)).status).toBe(0);
    const res = await fetch(`${server}/api/v1/projects/shop/pipelines/release/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(res.status).toBe(201);
    runId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists, refuses self-approval, requires a reject reason, approves, and shows the gate', async () => {
    const gate = await custody('bob', 'gate', runId);
    expect(gate.status).toBe(0);
    expect(gate.stdout).toContain('waiting_for_approval');
    expect(gate.stdout).toContain('APPROVAL_REQUIRED');

    const mine = await custody('bob', '-o', 'json', 'approvals', 'list', '--mine');
    expect(mine.status).toBe(0);
    const items = JSON.parse(mine.stdout) as { id: string; summary: string }[];
    expect(items.length).toBe(1);
    const id = items[0]!.id;
    expect(id).toMatch(/^dap_/);
    expect(items[0]!.summary).toContain(runId);
    // alice triggered the run: nothing for her to approve.
    const hers = await custody('alice', '-o', 'json', 'approvals', 'list', '--mine');
    expect(JSON.parse(hers.stdout)).toEqual([]);

    const self = await custody('alice', 'approve', id);
    expect(self.status).toBe(3);
    expect(self.stderr).toContain('APPROVALS_SELF_APPROVAL_FORBIDDEN');
    const noReason = await custody('bob', 'reject', id);
    expect(noReason.status).not.toBe(0);
    expect(noReason.stderr).toContain('--reason');

    const ok = await custody('bob', 'approve', id, '--comment', 'checked the intent');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`${id} approved`);
    await app.services.engine.tick();
    const after = await custody('bob', 'gate', runId);
    expect(after.stdout).toContain('allowed');
    expect(after.stdout).toContain('APPROVALS_MET');
  });

  it('rollback without an earlier release explains itself', async () => {
    const res = await custody('bob', 'rollback', 'production', '--project', 'shop');
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('DEPLOYMENTS_NO_RELEASE');
  });
});
