import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, type App } from '@custody/server';
import { main } from './main.ts';

// `custody user identity ...` and what `whoami` says about impersonating tokens, against an
// in-process server (SQLite) over real HTTP.
describe('custody user identity', () => {
  let app: App;
  let dir: string;
  let server: string;
  let admin: string;

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
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-identity-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    admin = (await bootstrapAdmin(app))!.token;
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds, lists and removes identities, with JSON output and stable error codes', async () => {
    expect(
      (await custody(admin, 'user', 'create', 'Erin', '--email', 'erin@corp.example')).status,
    ).toBe(0);
    expect((await custody(admin, 'user', 'create', 'frank')).status).toBe(0);

    const added = await custody(
      admin,
      '-o',
      'json',
      'user',
      'identity',
      'add',
      'erin',
      'github:Erin-S',
    );
    expect(added.status).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      kind: 'github',
      value: 'Erin-S',
      source: 'admin',
      createdBy: 'user:admin',
    });
    const text = await custody(admin, 'user', 'identity', 'add', 'ERIN', 'gitlab:erin.s');
    expect(text.stdout).toBe('Linked gitlab:erin.s to user ERIN\n');

    const listed = await custody(admin, '-o', 'json', 'user', 'identity', 'list', 'erin');
    expect(
      JSON.parse(listed.stdout).map((l: { kind: string; value: string }) => `${l.kind}:${l.value}`),
    ).toEqual(['email:erin@corp.example', 'github:Erin-S', 'gitlab:erin.s']);
    const table = await custody(admin, 'user', 'identity', 'list', 'erin');
    expect(table.stdout).toMatch(/github:Erin-S\s+admin\s+\S+\s+user:admin/);

    const taken = await custody(
      admin,
      '-o',
      'json',
      'user',
      'identity',
      'add',
      'frank',
      'github:erin-s',
    );
    expect(taken.status).toBe(1);
    expect(JSON.parse(taken.stderr).error.code).toBe('IDENTITY_LINK_TAKEN');
    const kind = await custody(
      admin,
      '-o',
      'json',
      'user',
      'identity',
      'add',
      'frank',
      'ldap:frank',
    );
    expect(kind.status).toBe(1);
    expect(JSON.parse(kind.stderr).error.code).toBe('IDENTITY_LINK_KIND_UNKNOWN');
    const value = await custody(admin, 'user', 'identity', 'add', 'frank', 'github:@frank');
    expect(value.status).toBe(1);
    expect(value.stderr).toContain('IDENTITY_LINK_VALUE_INVALID');
    const usage = await custody(admin, 'user', 'identity', 'add', 'frank', 'frank');
    expect(usage.status).toBe(2);

    const removed = await custody(
      admin,
      '-o',
      'json',
      'user',
      'identity',
      'remove',
      'erin',
      'github:ERIN-S',
    );
    expect(removed.status).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ kind: 'github', value: 'Erin-S' });
    const gone = await custody(admin, 'user', 'identity', 'remove', 'erin', 'github:erin-s');
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('IDENTITY_LINK_NOT_FOUND');
  });

  it('users list who created them; tokens list who issued them; whoami flags an impersonating token', async () => {
    const users = await custody(admin, 'user', 'list');
    expect(users.stdout).toMatch(/frank\s+-\s+\S+\s+user:admin/);
    const created = await custody(
      admin,
      '-o',
      'json',
      'token',
      'create',
      '--user',
      'frank',
      '--ttl',
      '1h',
    );
    const token = JSON.parse(created.stdout).token as string;
    const tokens = await custody(admin, 'token', 'list', '--all');
    expect(tokens.stdout).toMatch(/user:frank\s+user:admin/);
    const me = await custody(token, 'whoami');
    expect(me.status).toBe(0);
    expect(me.stdout).toContain(
      'user:frank (token, issued by user:admin: cannot approve, reject, activate or review)',
    );
    const json = await custody(token, '-o', 'json', 'whoami');
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'frank', delegatedBy: 'user:admin' });
    const own = await custody(admin, 'whoami');
    expect(own.stdout.split('\n')[0]).toBe('user:admin (token)');
  });
});
