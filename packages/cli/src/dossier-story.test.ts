import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  dossierSigner,
  generateSignerKey,
  packDossier,
  parseSignerKey,
  readDossier,
  verifyDossier,
  zipFiles,
} from '@custody/ledger';
import { systemContext } from '@custody/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, custody } from './testing/cli-process.ts';
import { ReleaseFixture } from './testing/release-fixture.ts';

// The acceptance, as an auditor lives it: a change goes from commit to production
// through the real stack; `custody dossier get` downloads its dossier; `custody dossier verify`
// in a separate process, with only the file and the public key (the server is gone by then,
// no URL, no token, no saved login), passes; it fails after a single-byte change to any file,
// with a file removed, and for a dossier signed by another key.

describe('the change dossier story: commit → production → a dossier that verifies offline', () => {
  let f: ReleaseFixture;
  let dir: string;
  let deployment: string;
  let zipFile: string;
  let keyFile: string;
  let zip: Uint8Array;
  let verifierKey: string;
  const variants: { name: string; file: string; bytes: Uint8Array }[] = [];

  // Only the file and the key: an empty home and working directory, no server settings.
  const offline = (args: string[]) =>
    custody(args, {
      cwd: dir,
      env: {
        CUSTODY_SERVER: '',
        CUSTODY_TOKEN: '',
        HOME: dir,
        XDG_CONFIG_HOME: dir,
        CUSTODY_CONFIG_FILE: path.join(dir, 'none.json'),
      },
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-dossier-story-'));
    f = await ReleaseFixture.start();
    // The auditor: read-only on everything, nothing else.
    const ctx = systemContext(f.app, 'test');
    await f.app.services.identity.createPrincipal(ctx, { kind: 'user', name: 'audrey' });
    await f.applyAsSystem(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: audrey-auditor }
spec: { principal: user:audrey, role: auditor, scope: organization, effect: allow }
`);
    const auditor = (
      await f.app.services.identity.createToken(ctx, {
        principal: { kind: 'user', name: 'audrey' },
        ttlMs: 3_600_000,
      })
    ).token;

    // alice's change: built and tested, approved by bob (not alice), deployed to production.
    const run = (
      await f.api('POST', '/api/v1/projects/shop/pipelines/release/runs', {}, f.tokens.alice)
    ).id as string;
    await f.playNext('build', (s) => `${s} ok\n`);
    await f.tick();
    const gate = await f.gate(run, 'deploy');
    await f.api(
      'POST',
      `/api/v1/deployments/approvals/${gate.approval!.id}/approve`,
      { comment: 'intent checked' },
      f.tokens.bob,
    );
    await f.tick();
    await f.playNext('deploy', () => 'shipped\n');
    await f.tick();
    expect((await f.api('GET', `/api/v1/runs/${run}`)).state).toBe('succeeded');
    deployment = `${run}/deploy`;

    zipFile = path.join(dir, 'dossier.zip');
    // In the background: a synchronous spawn would block the in-process server.
    const got = await new CliProcess([
      '--server',
      f.server,
      '--token',
      auditor,
      'dossier',
      'get',
      deployment,
      '-o',
      zipFile,
    ]).done;
    expect(got.status, got.stderr).toBe(0);
    expect(got.stdout).toContain(`wrote the dossier of ${deployment} to ${zipFile}`);
    zip = new Uint8Array(readFileSync(zipFile));
    verifierKey = (await f.api('GET', '/api/v1/ledger/key')).verifierKey as string;
    keyFile = path.join(dir, 'ledger.pub');
    writeFileSync(keyFile, `${verifierKey}\n`);

    // The same dossier signed by another key of the same name (repacked with the library).
    const collected = await f.app.services.dossiers.collect(deployment);
    const other = parseSignerKey(generateSignerKey(verifierKey.split('+')[0]!).signerKey);
    variants.push({
      name: 'signed by another key',
      file: path.join(dir, 'other-key.zip'),
      bytes: packDossier({
        files: collected.files,
        ledger: collected.ledger,
        signer: dossierSigner(other),
        subject: deployment,
        createdAt: new Date().toISOString(),
      }),
    });
    // The server goes away: what follows has only the files and the key.
    await f.close();
  }, 180_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the downloaded dossier verifies offline in a separate process', () => {
    const r = offline(['dossier', 'verify', zipFile, '--key', keyFile]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const names = [...readDossier(zip).keys()];
    expect(names).toEqual(
      expect.arrayContaining([
        'manifest.json',
        'manifest.json.dsse',
        'ledger/checkpoint',
        'change.json',
        'commits.json',
        'pipeline.json',
        'environment.json',
        'gate-decisions.json',
        'policy-decisions.json',
        'approvals.json',
        'evidence.json',
        'run.json',
        'index.html',
        'dossier.json',
      ]),
    );
    const approvals = JSON.parse(new TextDecoder().decode(readDossier(zip).get('approvals.json')!));
    expect(approvals.requests[0].votes).toEqual([
      expect.objectContaining({
        principal: 'user:bob',
        decision: 'approve',
        comment: 'intent checked',
      }),
    ]);
  });

  it('a single-byte change to any file in it fails verification, naming what failed', () => {
    const entries = readDossier(zip);
    const paths = [...entries.keys()];
    expect(paths.length).toBeGreaterThan(10);
    for (const p of paths) {
      // The archive is rebuilt as the packer builds it: only that file's byte differs.
      const changed = new Map([...entries].map(([k, v]) => [k, k === p ? flipOneByte(v) : v]));
      const bytes = zipFiles(changed);
      const v = verifyDossier(bytes, { verifierKey });
      expect(v.ok, `changing one byte of ${p} went unnoticed`).toBe(false);
      if (!v.ok) {
        expect(v.failure.code).toMatch(/^DOSSIER_/);
        // A content file is named by its hash; the manifest, its signature and the ledger
        // files by what they break.
        if (!p.startsWith('manifest.json') && !p.startsWith('ledger/'))
          expect(v.failure).toMatchObject({ code: 'DOSSIER_FILE_HASH_MISMATCH', path: p });
      }
      if (['change.json', 'manifest.json', 'ledger/proofs.json'].includes(p))
        variants.push({
          name: `one byte of ${p} changed`,
          file: path.join(dir, `changed-${p.replace(/\//g, '_')}.zip`),
          bytes,
        });
    }
    // A byte of the archive itself.
    const raw = flipOneByte(zip);
    expect(verifyDossier(raw, { verifierKey }).ok).toBe(false);
    const removed = new Map(entries);
    removed.delete('change.json');
    const without = zipFiles(removed);
    const v = verifyDossier(without, { verifierKey });
    expect(v.ok).toBe(false);
    if (!v.ok)
      expect(v.failure).toMatchObject({ code: 'DOSSIER_FILE_MISSING', path: 'change.json' });
    variants.push({
      name: 'change.json removed',
      file: path.join(dir, 'removed.zip'),
      bytes: without,
    });
  });

  it('the offline verifier (a separate process) refuses each altered, incomplete or foreign-signed dossier', () => {
    expect(variants.map((x) => x.name)).toEqual(
      expect.arrayContaining([
        'signed by another key',
        'change.json removed',
        'one byte of change.json changed',
      ]),
    );
    for (const x of variants) {
      writeFileSync(x.file, x.bytes);
      const r = offline(['dossier', 'verify', x.file, '--key', keyFile]);
      expect(r.status, `${x.name}: ${r.stdout}${r.stderr}`).not.toBe(0);
      expect(r.stdout + r.stderr, x.name).toMatch(/DOSSIER_[A-Z_]+/);
    }
  });
});

function flipOneByte(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  const i = Math.floor(out.length / 2);
  out[i] = out[i]! ^ 0x01;
  return out.length > 0 ? out : new TextEncoder().encode('x');
}
