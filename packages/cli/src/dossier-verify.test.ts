// `custody dossier verify` in a separate process, offline: no server running, no token, no
// configuration (an empty HOME), only the file and the key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalBytes,
  dossierSigner,
  MemoryTree,
  packDossier,
  parseSignerKey,
  readDossier,
  signCheckpoint,
  signerKeyFromSeed,
  utf8Encode,
  zipFiles,
} from '@custody/ledger';
import { custody } from './testing/cli-process.ts';

const ORIGIN = 'custody.example/audit';

function leaf(seq: number): Uint8Array {
  return canonicalBytes({
    v: 1,
    seq,
    action: 'deployment.approved',
    actor: { name: `user-${seq % 7}` },
  });
}

function pack(seedByte: number): { zip: Uint8Array; verifierKey: string } {
  const keys = signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(seedByte));
  const signer = parseSignerKey(keys.signerKey);
  const tree = MemoryTree.fromLeaves(Array.from({ length: 300 }, (_, i) => leaf(i)));
  const indexes = [3, 150, 299];
  const zip = packDossier({
    files: [
      { path: 'change.json', bytes: canonicalBytes({ class: 'standard', ticket: 'CHG-1' }) },
      { path: 'index.html', bytes: utf8Encode('<!doctype html><title>Dossier</title>\n') },
    ],
    ledger: {
      checkpoint: signCheckpoint({ origin: ORIGIN, size: 300, rootHash: tree.root() }, signer),
      entries: indexes.map((index) => ({ index, leaf: leaf(index) })),
      proofs: indexes.map((index) => tree.inclusionProof(index)),
    },
    signer: dossierSigner(signer),
    subject: 'run-7/production',
    createdAt: '2026-12-04T05:00:00.000Z',
  });
  return { zip, verifierKey: keys.verifierKey };
}

const dir = mkdtempSync(path.join(tmpdir(), 'custody-dossier-'));
// Nothing to reach: no server URL, no token, a HOME without any custody configuration.
const offline = {
  env: { HOME: dir, CUSTODY_SERVER: '', CUSTODY_TOKEN: '', XDG_CONFIG_HOME: dir },
  cwd: dir,
};

describe('custody dossier verify (offline, separate process)', () => {
  const { zip, verifierKey } = pack(1);
  const file = path.join(dir, 'dossier.zip');
  writeFileSync(file, zip);
  const keyFile = path.join(dir, 'ledger.vkey');
  writeFileSync(keyFile, verifierKey + '\n');

  it('verifies a good dossier with the key as text and as @file', () => {
    const r = custody(['dossier', 'verify', file, '--key', verifierKey], offline);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^OK /);
    expect(r.stdout).toContain('run-7/production');
    expect(r.stdout).toMatch(/files\s+5 /);
    expect(r.stdout).toMatch(/entries\s+3 /);
    expect(r.stdout).toContain('size 300');
    const j = custody(['dossier', 'verify', file, '--key', `@${keyFile}`, '-o', 'json'], offline);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: true,
      entries: 3,
      files: 5,
      checkpoint: { size: 300 },
    });
  });

  it('fails with code and path when a file was changed', () => {
    const files = readDossier(zip);
    const change = files.get('change.json')!.slice();
    change[5] = change[5]! ^ 0x01;
    files.set('change.json', change);
    const tampered = path.join(dir, 'tampered.zip');
    writeFileSync(tampered, zipFiles(files));
    const r = custody(['dossier', 'verify', tampered, '--key', verifierKey], offline);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED DOSSIER_FILE_HASH_MISMATCH (change.json)');
    const j = custody(['dossier', 'verify', tampered, '--key', verifierKey, '-o', 'json'], offline);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      failure: { code: 'DOSSIER_FILE_HASH_MISMATCH', path: 'change.json' },
    });
  });

  it('fails with another key, and with a dossier signed by another key', () => {
    const other = pack(2);
    const r = custody(['dossier', 'verify', file, '--key', other.verifierKey], offline);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED DOSSIER_SIGNATURE_INVALID (manifest.json.dsse)');
    const foreign = path.join(dir, 'foreign.zip');
    writeFileSync(foreign, other.zip);
    const f = custody(['dossier', 'verify', foreign, '--key', verifierKey], offline);
    expect(f.status).toBe(1);
    expect(f.stdout).toContain('DOSSIER_SIGNATURE_INVALID');
  });

  it('refuses a missing --key as a usage error', () => {
    const r = custody(['dossier', 'verify', file], offline);
    expect(r.status).toBe(2);
  });
});
