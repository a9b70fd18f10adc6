import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from './bytes.ts';
import { canonicalBytes } from './canonical-json.ts';
import { signCheckpoint } from './checkpoint.ts';
import { dossierFixture } from './dossier-fixture.ts';
import { parseManifest } from './dossier-manifest.ts';
import {
  verifyDossier,
  type DossierFailureCode,
  type DossierVerifyResult,
} from './dossier-verify.ts';
import { unzipFiles, zipFiles } from './dossier-zip.ts';
import { packDossier, readDossier } from './dossier.ts';
import { LedgerError } from './errors.ts';
import { auditEntry, fixtureKeys, ORIGIN } from './ledger-fixture.ts';
import { parseSignerKey } from './note-keys.ts';

const zipEpoch = new Date(1980, 0, 1);
const fx = dossierFixture();
const zip = packDossier(fx.options);
const files = readDossier(zip);
const key = fx.verifierKey;

function failure(result: DossierVerifyResult): { code: DossierFailureCode; path?: string } {
  if (result.ok) throw new Error('expected the dossier to fail verification');
  return { code: result.failure.code, path: result.failure.path };
}

function withFile(path: string, bytes: Uint8Array | undefined): Uint8Array {
  const copy = new Map(files);
  if (bytes === undefined) copy.delete(path);
  else copy.set(path, bytes);
  return zipFiles(copy);
}

// The code a one-byte change to `path` must produce. manifest.json: unparseable or
// non-canonical text is MANIFEST_INVALID; anything still well-formed no longer matches its
// signature. Every other file is listed with its hash, so the hash check catches it.
function expectedCodes(path: string, changed: Uint8Array): DossierFailureCode[] {
  if (path === 'manifest.json') {
    let wellFormed = false;
    try {
      wellFormed =
        'manifest' in parseManifest(new TextDecoder('utf-8', { fatal: true }).decode(changed));
    } catch {
      wellFormed = false;
    }
    return [wellFormed ? 'DOSSIER_SIGNATURE_INVALID' : 'DOSSIER_MANIFEST_INVALID'];
  }
  if (path === 'manifest.json.dsse') return ['DOSSIER_SIGNATURE_INVALID'];
  return ['DOSSIER_FILE_HASH_MISMATCH'];
}

describe('change dossier', () => {
  it('packs a real tree and key into a dossier that verifies offline', () => {
    const result = verifyDossier(zip, { verifierKey: key });
    expect(result).toMatchObject({
      ok: true,
      entries: 10,
      files: 23,
      checkpoint: {
        origin: ORIGIN,
        size: fx.treeSize,
        rootHash: Buffer.from(fx.tree.root()).toString('hex'),
      },
    });
    if (!result.ok) return;
    expect(result.manifest.subject).toBe('run-42/production');
    expect(result.manifest.files.map((f) => f.path)).toContain('ledger/proofs.json');
    expect([...files.keys()].sort()).toEqual(
      [...result.manifest.files.map((f) => f.path), 'manifest.json', 'manifest.json.dsse'].sort(),
    );
  });

  it('is deterministic: the same inputs give the same bytes', () => {
    const again = packDossier(dossierFixture().options);
    expect(Buffer.from(again).equals(Buffer.from(zip))).toBe(true);
    // Input order of the content files does not matter either.
    const reversed = packDossier({ ...fx.options, files: [...fx.options.files].reverse() });
    expect(Buffer.from(reversed).equals(Buffer.from(zip))).toBe(true);
  });

  it('gives the same bytes in every time zone (zip stores local time)', () => {
    const saved = process.env.TZ;
    try {
      const zips = ['Pacific/Kiritimati', 'America/Los_Angeles', 'UTC'].map((tz) => {
        process.env.TZ = tz;
        return Buffer.from(packDossier(fx.options));
      });
      for (const z of zips) expect(z.equals(Buffer.from(zip))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('fails after any single-byte change to any file in it, with the right code and path', () => {
    let tried = 0;
    for (const [path, bytes] of files) {
      // Every byte of the small, signature-bearing files; spread positions in the others.
      const all =
        path === 'manifest.json.dsse' || path === 'ledger/checkpoint' || bytes.length <= 400;
      const step = all ? 1 : Math.max(1, Math.floor(bytes.length / 48));
      const positions = new Set<number>([bytes.length - 1]);
      for (let i = 0; i < bytes.length; i += step) positions.add(i);
      if (path === 'manifest.json') for (let i = 0; i < bytes.length; i += 7) positions.add(i);
      for (const at of positions) {
        const changed = bytes.slice();
        changed[at] = changed[at]! ^ (at % 2 === 0 ? 0x01 : 0x20);
        const verified = verifyDossier(withFile(path, changed), { verifierKey: key });
        if (verified.ok) throw new Error(`a change to byte ${at} of ${path} went unnoticed`);
        const result = failure(verified);
        const want = expectedCodes(path, changed);
        if (!want.includes(result.code))
          throw new Error(`byte ${at} of ${path}: got ${result.code}, want ${want.join('|')}`);
        if (result.code === 'DOSSIER_FILE_HASH_MISMATCH') expect(result.path).toBe(path);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(1500);
  });

  it('fails after a flipped byte in the raw zip, wherever it is', () => {
    const codes = new Set<DossierFailureCode>();
    for (let at = 0; at < zip.length; at++) {
      const changed = zip.slice();
      changed[at] = changed[at]! ^ 0x10;
      const result = verifyDossier(changed, { verifierKey: key });
      if (result.ok) throw new Error(`a flipped byte at ${at} of the zip went unnoticed`);
      codes.add(result.failure.code);
    }
    expect(codes).toContain('DOSSIER_ARCHIVE_INVALID');
  });

  it('fails when a file is removed, and names it', () => {
    for (const path of ['change/part-1.json', 'ledger/proofs.json', 'ledger/checkpoint']) {
      expect(failure(verifyDossier(withFile(path, undefined), { verifierKey: key }))).toEqual({
        code: 'DOSSIER_FILE_MISSING',
        path,
      });
    }
    expect(
      failure(verifyDossier(withFile('manifest.json', undefined), { verifierKey: key })).code,
    ).toBe('DOSSIER_MANIFEST_INVALID');
    expect(
      failure(verifyDossier(withFile('manifest.json.dsse', undefined), { verifierKey: key })).code,
    ).toBe('DOSSIER_SIGNATURE_INVALID');
  });

  it('fails when a file is added', () => {
    expect(
      failure(
        verifyDossier(withFile('evidence/extra.json', utf8Encode('{}')), { verifierKey: key }),
      ),
    ).toEqual({
      code: 'DOSSIER_FILE_UNLISTED',
      path: 'evidence/extra.json',
    });
  });

  it('fails for a dossier signed by another key, and for an unusable key', () => {
    const other = dossierFixture({ seedByte: 2 });
    const otherZip = packDossier(other.options);
    expect(verifyDossier(otherZip, { verifierKey: other.verifierKey }).ok).toBe(true);
    expect(failure(verifyDossier(otherZip, { verifierKey: key }))).toEqual({
      code: 'DOSSIER_SIGNATURE_INVALID',
      path: 'manifest.json.dsse',
    });
    // Our manifest signed with another key (a forger re-signing the original).
    const forged = packDossier({
      ...fx.options,
      signer: { keyid: other.options.signer.keyid, sign: other.options.signer.sign },
    });
    expect(failure(verifyDossier(forged, { verifierKey: key })).code).toBe(
      'DOSSIER_SIGNATURE_INVALID',
    );
    // Right key ID claimed, wrong key used.
    const claimed = packDossier({
      ...fx.options,
      signer: { keyid: fx.options.signer.keyid, sign: other.options.signer.sign },
    });
    expect(failure(verifyDossier(claimed, { verifierKey: key })).code).toBe(
      'DOSSIER_SIGNATURE_INVALID',
    );
    expect(failure(verifyDossier(zip, { verifierKey: 'not a key' })).code).toBe(
      'DOSSIER_KEY_INVALID',
    );
  });

  it('fails when the checkpoint is signed by another key, even in a manifest signed by the right one', () => {
    const other = parseSignerKey(fixtureKeys(3).signerKey);
    const checkpoint = signCheckpoint(
      { origin: ORIGIN, size: fx.treeSize, rootHash: fx.tree.root() },
      other,
    );
    const bad = packDossier({ ...fx.options, ledger: { ...fx.options.ledger, checkpoint } });
    expect(failure(verifyDossier(bad, { verifierKey: key }))).toEqual({
      code: 'DOSSIER_CHECKPOINT_INVALID',
      path: 'ledger/checkpoint',
    });
  });

  it('fails when a proof is for another tree size', () => {
    const proofs = fx.options.ledger.entries.map((e) =>
      fx.tree.inclusionProof(e.index, fx.treeSize - 1),
    );
    const bad = packDossier({ ...fx.options, ledger: { ...fx.options.ledger, proofs } });
    expect(failure(verifyDossier(bad, { verifierKey: key }))).toEqual({
      code: 'DOSSIER_PROOF_INVALID',
      path: 'ledger/proofs.json',
    });
    // The right length but the hashes of the smaller tree (sizes differing above the leaf).
    const fx2 = dossierFixture({ treeSize: 1024, indexes: [3] });
    const small = fx2.tree.inclusionProof(3, 1000);
    const bad2 = packDossier({
      ...fx2.options,
      ledger: { ...fx2.options.ledger, proofs: [small] },
    });
    expect(failure(verifyDossier(bad2, { verifierKey: fx2.verifierKey })).code).toBe(
      'DOSSIER_PROOF_INVALID',
    );
  });

  it('fails when an entry is not the leaf at its index, or its index is beyond the tree', () => {
    const { entries, proofs } = fx.options.ledger;
    // Another entry's bytes with this entry's proof.
    const swapped = entries.map((e, i) =>
      i === 2 ? { index: e.index, leaf: auditEntry(e.index + 1) } : e,
    );
    const bad = packDossier({ ...fx.options, ledger: { ...fx.options.ledger, entries: swapped } });
    expect(failure(verifyDossier(bad, { verifierKey: key })).code).toBe('DOSSIER_ENTRY_INVALID');
    // A leaf of a different shape (no seq) with a wrong proof: the proof check catches it.
    const foreign = entries.map((e, i) =>
      i === 2 ? { index: e.index, leaf: canonicalBytes({ x: 1 }) } : e,
    );
    const bad2 = packDossier({ ...fx.options, ledger: { ...fx.options.ledger, entries: foreign } });
    expect(failure(verifyDossier(bad2, { verifierKey: key })).code).toBe('DOSSIER_PROOF_INVALID');
    expect(() =>
      packDossier({
        ...fx.options,
        ledger: {
          ...fx.options.ledger,
          entries: [{ index: fx.treeSize, leaf: auditEntry(0) }],
          proofs: [proofs[0]!],
        },
      }),
    ).toThrow(LedgerError);
  });

  it("refuses paths with '..', absolute paths, backslashes and duplicates at pack and at read", () => {
    for (const path of [
      '../evil.json',
      'a/../../evil',
      '/etc/passwd',
      'a\\b.json',
      'ledger/checkpoint',
      'manifest.json',
      'a//b',
      '',
    ]) {
      expect(
        () => packDossier({ ...fx.options, files: [{ path, bytes: utf8Encode('x') }] }),
        path,
      ).toThrow(LedgerError);
    }
    expect(() =>
      packDossier({ ...fx.options, files: [fx.options.files[1]!, fx.options.files[1]!] }),
    ).toThrow(/twice/);
    for (const path of ['../evil.json', 'x/../../evil', '/abs.json', 'a\\b.json']) {
      const evil = zipSync(
        { [path]: utf8Encode('x'), ...Object.fromEntries(files) },
        { level: 0, mtime: zipEpoch },
      );
      expect(() => readDossier(evil), path).toThrow(LedgerError);
      expect(failure(verifyDossier(evil, { verifierKey: key })), path).toEqual({
        code: 'DOSSIER_ARCHIVE_INVALID',
        path,
      });
    }
    // A zip holding the same name twice (unzip tools differ on which one wins).
    const one = zipFiles(new Map([['a.json', utf8Encode('1')]]));
    const dup = zipFiles(
      new Map([
        ['a.json', utf8Encode('1')],
        ['b.json', utf8Encode('2')],
      ]),
    );
    const renamed = Buffer.from(dup).toString('latin1').replaceAll('b.json', 'a.json');
    expect(() => unzipFiles(new Uint8Array(Buffer.from(renamed, 'latin1')))).toThrow(/twice/);
    expect(unzipFiles(one).get('a.json')).toEqual(utf8Encode('1'));
  });

  it('refuses zip bombs: too many entries, too many bytes, forged sizes', () => {
    const limits = { maxEntries: 30, maxTotalBytes: 1_000_000 };
    expect(verifyDossier(zip, { verifierKey: key, limits }).ok).toBe(true);
    const many = zipFiles(
      new Map(Array.from({ length: 31 }, (_, i) => [`f${i}`, new Uint8Array(1)] as const)),
    );
    expect(failure(verifyDossier(many, { verifierKey: key, limits })).code).toBe(
      'DOSSIER_ARCHIVE_INVALID',
    );
    const big = zipFiles(new Map([['zeros', new Uint8Array(2_000_000)]]));
    expect(failure(verifyDossier(big, { verifierKey: key, limits })).code).toBe(
      'DOSSIER_ARCHIVE_INVALID',
    );
    // A deflate bomb (2 MB of zeros in a few KiB) is refused before anything is inflated.
    const bomb = zipSync({ zeros: new Uint8Array(2_000_000) }, { level: 9, mtime: zipEpoch });
    expect(bomb.length).toBeLessThan(10_000);
    expect(() => unzipFiles(bomb)).toThrow(/compressed/);
    // Declared sizes forged to 4 GiB - 2 in the central directory.
    const forged = big.slice();
    const cd = Buffer.from(forged).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    forged.set([0xfe, 0xff, 0xff, 0xff], cd + 20);
    forged.set([0xfe, 0xff, 0xff, 0xff], cd + 24);
    expect(() => unzipFiles(forged)).toThrow(/more than|runs past|disagree/);
  });
});

describe('change dossier envelope', () => {
  it('refuses an envelope with an extra signature, even if one of them verifies', () => {
    const copy = new Map(readDossier(zip));
    const env = JSON.parse(new TextDecoder().decode(copy.get('manifest.json.dsse')!)) as {
      signatures: { keyid: string; sig: string }[];
    };
    for (const extra of [
      { keyid: 'ffffffff', sig: '!!' },
      { keyid: env.signatures[0]!.keyid, sig: 'AAAA' },
    ]) {
      const changed = { ...env, signatures: [extra, ...env.signatures] };
      copy.set('manifest.json.dsse', utf8Encode(JSON.stringify(changed) + '\n'));
      expect(failure(verifyDossier(zipFiles(copy), { verifierKey: key }))).toEqual({
        code: 'DOSSIER_SIGNATURE_INVALID',
        path: 'manifest.json.dsse',
      });
    }
  });
});
