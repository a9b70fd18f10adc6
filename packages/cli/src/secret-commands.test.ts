import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

// `custody secret set` and `list` against an in-process server: a production secret set by one
// person says it waits and for whom; the list shows the version in force and the one waiting
// with its approval id; never a value.
const value = 'cli-prod-Secret/Value+9';

describe('custody secret set / list with a second person', () => {
  let app: App;
  let dir: string;
  let server: string;
  let admin: string;
  let cab: string;

  async function custody(token: string, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const out = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((s) => ((stdout += String(s)), true));
    const err = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((s) => ((stderr += String(s)), true));
    try {
      const status = await main(['node', 'custody', '--server', server, '--token', token, ...args]);
      return { status, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-secrets-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    admin = (await bootstrapAdmin(app))!.token;
    const ctx = systemContext(app, 'test');
    await app.services.resources.applyManifest(
      ctx,
      `apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production, runnerPool: qa }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: cab-approves }
spec: { principal: user:cab, role: approver, scope: organization }
`,
    );
    await app.services.identity.createPrincipal(ctx, { kind: 'user', name: 'cab' });
    cab = (
      await app.services.identity.createToken(ctx, {
        principal: { kind: 'user', name: 'cab' },
        ttlMs: 3_600_000,
      })
    ).token;
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
    process.env.CUSTODY_TEST_SECRET = value;
  });
  afterAll(async () => {
    delete process.env.CUSTODY_TEST_SECRET;
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a production secret waits for someone else; the list shows in force and pending apart', async () => {
    const from = ['--from-env', 'CUSTODY_TEST_SECRET'];
    const set = await custody(
      admin,
      'secret',
      'set',
      'DB_PASSWORD',
      '-p',
      'pay',
      '-e',
      'prod',
      ...from,
    );
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toMatch(
      /secret DB_PASSWORD version 1 is pending: it reaches production \(pay\/prod\); jobs get no value for it until someone else runs custody approve apr_\S+/,
    );
    const approval = /custody approve (apr_\S+)/.exec(set.stdout)![1]!;
    const qa = await custody(admin, 'secret', 'set', 'QA_TOKEN', '-p', 'pay', '-e', 'qa', ...from);
    expect(qa.stdout).toContain('secret QA_TOKEN set (version 1, in force)');

    const listed = await custody(admin, 'secret', 'list', '-p', 'pay');
    expect(listed.status).toBe(0);
    const row = listed.stdout.split('\n').find((l) => l.startsWith('DB_PASSWORD'))!;
    expect(row).toMatch(
      /DB_PASSWORD\s+prod\s+-\s+-\s+-\s+-\s+v1 by user:admin at \S+, pools \*: apr_/,
    );
    expect(row).toContain(approval);

    const self = await custody(admin, 'approve', approval);
    expect(self.status).not.toBe(0);
    expect(self.stderr).toContain('APPROVALS_SELF_APPROVAL_FORBIDDEN');
    expect((await custody(cab, 'approve', approval)).status).toBe(0);

    const json = await custody(admin, '-o', 'json', 'secret', 'list', '-p', 'pay');
    const items = JSON.parse(json.stdout) as {
      name: string;
      inForce: { version: number; approvedBy: string | null } | null;
      pending: unknown;
    }[];
    expect(items.find((i) => i.name === 'DB_PASSWORD')).toMatchObject({
      inForce: { version: 1, approvedBy: 'user:cab' },
      pending: null,
    });
    const text = await custody(admin, 'secret', 'list', '-p', 'pay');
    expect(text.stdout).toMatch(
      /DB_PASSWORD\s+prod\s+v1\s+\*\s+user:admin \(approved by user:cab\)/,
    );
    for (const out of [set, qa, listed, json, text])
      for (const form of [value, Buffer.from(value).toString('base64')])
        expect(out.stdout + out.stderr).not.toContain(form);
  });
});
