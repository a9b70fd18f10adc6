import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

// `custody hold ...` and `custody evidence fixity` against an in-process server over HTTP.
describe('custody hold and custody evidence fixity', () => {
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
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-retention-'));
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
kind: RoleBinding
metadata: { name: bob-admin }
spec: { principal: user:bob, role: admin, scope: organization, effect: allow }
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

  it('places a hold, refuses its releaser as approver (exit 3), releases it with a second person', async () => {
    const placed = await custody(
      'admin',
      '-o',
      'json',
      'hold',
      'create',
      '--project',
      'payments',
      '--reason',
      'audit 2026',
    );
    expect(placed.status, placed.stderr).toBe(0);
    const id = JSON.parse(placed.stdout).id as string;
    const asked = await custody('admin', 'hold', 'release', id, '--reason', 'audit closed');
    expect(asked.status, asked.stderr).toBe(0);
    expect(asked.stdout).toContain(`custody hold approve-release ${id}`);
    const self = await custody('admin', 'hold', 'approve-release', id);
    expect(self.status).toBe(3);
    expect(self.stderr).toContain('RETENTION_SELF_RELEASE_FORBIDDEN');
    const ok = await custody('bob', 'hold', 'approve-release', id, '--comment', 'checked');
    expect([ok.status, ok.stdout.trim()]).toEqual([0, `Legal hold ${id} on payments is released`]);
    const listed = await custody('bob', 'hold', 'list', '--project', 'payments');
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+released\\s+payments\\s+user:admin`));
    const both = await custody(
      'admin',
      'hold',
      'create',
      '--project',
      'payments',
      '--environment',
      'prod',
      '--change',
      'x/y',
      '--reason',
      'r',
    );
    expect(both.status).toBe(2);
  });

  it('prints the fixity counts and exits 1 on a mismatch', async () => {
    const clean = await custody('admin', 'evidence', 'fixity');
    expect([clean.status, clean.stdout]).toEqual([
      0,
      expect.stringMatching(/^Checked 0 blobs and 0 documents in \d+ ms: 0 mismatched/),
    ]);
    // A blob stored under a digest its bytes do not have (written around the application).
    const db = app.database.db as unknown as Kysely<{
      blobs: { digest: string; size: number; content_base64: string };
    }>;
    await db
      .insertInto('blobs')
      .values({ digest: 'sha256:' + '0'.repeat(64), size: 3, content_base64: 'YWJj' })
      .execute();
    const damaged = await custody('admin', '-o', 'json', 'evidence', 'fixity');
    expect(damaged.status).toBe(1);
    expect(JSON.parse(damaged.stdout).mismatches[0].digest).toBe('sha256:' + '0'.repeat(64));
  });
});
