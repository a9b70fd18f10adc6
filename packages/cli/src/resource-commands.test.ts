import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

const prod = (required: number) => `apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec:
  type: production
  approvals: { rules: [{ name: release, group: release-managers, required: ${required} }] }
`;

// get, history and apply of governed resources against an in-process server over real HTTP.
describe('custody get shows the version in force and a pending or rejected one apart', () => {
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
  const applyFile = (user: string, yaml: string) => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    return custody(user, 'apply', '-f', file);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-resources-'));
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
${prod(2)}---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: bob-admin }
spec: { principal: user:bob, role: admin, scope: organization }
`,
    );
    await app.services.identity.createPrincipal(ctx, { kind: 'user', name: 'bob' });
    tokens.bob = (
      await app.services.identity.createToken(ctx, {
        principal: { kind: 'user', name: 'bob' },
        ttlMs: 3_600_000,
      })
    ).token;
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a pending version is shown apart, with the command that puts it in force', async () => {
    const applied = await applyFile('admin', prod(1));
    expect(applied.status, applied.stderr).toBe(0);
    const approval = /custody approve (apr_[0-9a-f]+)/.exec(applied.stdout)?.[1];
    expect(approval, applied.stdout).toBeDefined();
    const got = await custody('admin', 'get', 'environment', 'prod', '--project', 'payments');
    expect(got.status, got.stderr).toBe(0);
    const [inForce, pending] = got.stdout.split('# pending, not in force:');
    expect(inForce).toMatch(/^# in force: version 1 /);
    expect(inForce).toContain('required: 2');
    expect(pending).toMatch(/^ version 2 /);
    expect(pending).toContain(`custody approve ${approval}`);
    expect(pending).toContain('required: 1');
    const list = await custody('admin', 'get', 'environment', '--project', 'payments');
    expect(list.stdout).toMatch(
      new RegExp(`prod\\s+payments\\s+1\\s+.*2 pending \\(${approval}\\)`),
    );
  });

  it('a rejected version is shown as rejected, never as in force; history gives every state', async () => {
    const json = await custody(
      'admin',
      '-o',
      'json',
      'get',
      'environment',
      'prod',
      '--project',
      'payments',
    );
    const approval = JSON.parse(json.stdout).proposed.approval.id as string;
    const no = await custody('bob', 'reject', approval, '--reason', 'keep two approvers');
    expect(no.status, no.stderr).toBe(0);
    const got = await custody('admin', 'get', 'environment', 'prod', '--project', 'payments');
    expect(got.stdout).toMatch(/^# in force: version 1 /);
    expect(got.stdout).toContain('# rejected, never in force: version 2');
    expect(got.stdout).toContain(`approval ${approval} rejected by user:bob`);
    expect(got.stdout).toContain('keep two approvers');
    const hist = await custody('admin', 'history', 'environment', 'prod', '--project', 'payments');
    expect(hist.stdout).toMatch(/\n1\s+in-force\s/);
    expect(hist.stdout).toMatch(
      new RegExp(`\\n2\\s+rejected\\s.*${approval} rejected by user:bob`),
    );
  });
});
