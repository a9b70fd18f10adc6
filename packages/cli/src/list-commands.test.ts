import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

// List commands against an in-process server (SQLite) over real HTTP: one page with a hint on
// standard error when more exist, every page with --all.
describe('custody list commands page through the API', () => {
  let app: App;
  let dir: string;
  let server: string;
  let token: string;

  async function custody(...args: string[]) {
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
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-lists-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    token = (await bootstrapAdmin(app))!.token;
    const ctx = systemContext(app, 'test');
    await app.services.resources.applyManifest(
      ctx,
      Array.from(
        { length: 7 },
        (_, i) => `apiVersion: custody/v1\nkind: Project\nmetadata: { name: p${i} }\n`,
      ).join('---\n'),
    );
    for (let i = 0; i < 5; i++)
      await app.services.identity.createPrincipal(ctx, { kind: 'user', name: `user${i}` });
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--limit shows one page and says more exist; --all follows every page', async () => {
    const page = await custody('-o', 'json', 'get', 'Project', '--limit', '3');
    expect(page.status).toBe(0);
    expect((JSON.parse(page.stdout) as { name: string }[]).map((p) => p.name)).toEqual([
      'p0',
      'p1',
      'p2',
    ]);
    expect(page.stderr).toContain('more Project exist: add --all');
    const all = await custody('-o', 'json', 'get', 'Project', '--all', '--limit', '2');
    expect(all.status).toBe(0);
    expect((JSON.parse(all.stdout) as { name: string }[]).map((p) => p.name)).toEqual([
      'p0',
      'p1',
      'p2',
      'p3',
      'p4',
      'p5',
      'p6',
    ]);
    expect(all.stderr).toBe('');
  });

  it('user list, token list (--all-pages) and audit log (--all) page the same way', async () => {
    const users = await custody('user', 'list', '--limit', '2');
    expect(users.stdout.split('\n').filter(Boolean)).toHaveLength(3); // header and two users
    expect(users.stderr).toContain('more users exist');
    const everyone = await custody('-o', 'json', 'user', 'list', '--all', '--limit', '2');
    expect(JSON.parse(everyone.stdout)).toHaveLength(6); // admin and user0..user4
    const tokens = await custody(
      '-o',
      'json',
      'token',
      'list',
      '--all',
      '--all-pages',
      '--limit',
      '1',
    );
    expect(JSON.parse(tokens.stdout).length).toBeGreaterThanOrEqual(1);
    const audit = await custody('-o', 'json', 'audit', 'log', '--limit', '2');
    expect(JSON.parse(audit.stdout)).toHaveLength(2);
    expect(audit.stderr).toContain('--after 1');
    const trail = await custody('-o', 'json', 'audit', 'log', '--all', '--limit', '3');
    expect((JSON.parse(trail.stdout) as { seq: number }[]).map((e) => e.seq)).toEqual([
      ...Array(await app.services.audit.size()).keys(),
    ]);
  });

  it('refuses a --limit that is not a positive number (usage error)', async () => {
    const bad = await custody('get', 'Project', '--limit', 'lots');
    expect(bad.status).toBe(2);
  });
});
