import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, toBase64, utf8Encode } from './bytes.ts';
import { signCheckpoint } from './checkpoint.ts';
import {
  cosignatureMessage,
  generateCosignerKey,
  parseCosignerKey,
  parseCosignerVerifierKey,
  verifyCosignedCheckpoint,
} from './cosignature.ts';
import { rootFromLeaves } from './merkle.ts';
import { computeKeyId, generateSignerKey, parseSignerKey } from './note-keys.ts';
import { openNote, parseNote, signatureLine } from './note.ts';
import { addCosignatureLines } from './witness.ts';

const log = generateSignerKey('custody.example/ledger/0000');
const logSigner = parseSignerKey(log.signerKey);
const note = signCheckpoint(
  {
    origin: logSigner.name,
    size: 3,
    rootHash: rootFromLeaves([1, 2, 3].map((i) => Uint8Array.of(i))),
  },
  logSigner,
);
const text = parseNote(note).text;

// The base64 after `name+keyid+` (which may itself contain '+').
function keyBytes(vkey: string): Uint8Array {
  const first = vkey.indexOf('+');
  return fromBase64(vkey.slice(vkey.indexOf('+', first + 1) + 1));
}

function cosigned(...lines: string[]): string {
  return addCosignatureLines(note, lines.join(''));
}

describe('tlog-cosignature/v1 (Ed25519)', () => {
  const w1 = generateCosignerKey('witness.example/w1');
  const w2 = generateCosignerKey('witness.example/w2');

  it('key IDs use signature type 0x04, and keys round-trip', () => {
    const v = parseCosignerVerifierKey(w1.verifierKey);
    const raw = keyBytes(w1.verifierKey);
    expect(raw[0]).toBe(0x04);
    expect(v.keyId).toBe(computeKeyId('witness.example/w1', 0x04, raw.subarray(1)));
    expect(parseCosignerKey(w1.signerKey).verifierKey).toBe(w1.verifierKey);
    // A log (0x01) key is not a cosigner key, nor the other way round.
    expect(() => parseCosignerVerifierKey(log.verifierKey)).toThrow(/not a cosignature\/v1 key/);
    expect(() => parseCosignerKey(log.signerKey)).toThrow(/not a cosignature\/v1 key/);
  });

  it('signs "cosignature/v1\\ntime T\\n" + the note text, with the timestamp before the signature', () => {
    const signer = parseCosignerKey(w1.signerKey);
    const sig = signer.cosign(text, 1679315147);
    expect(sig.signature.length).toBe(72);
    expect(new DataView(sig.signature.buffer).getBigUint64(0)).toBe(1679315147n);
    const pub = keyBytes(w1.verifierKey).subarray(1);
    const msg = utf8Encode(`cosignature/v1\ntime 1679315147\n${text}`);
    expect(cosignatureMessage(text, 1679315147)).toEqual(msg);
    expect(ed25519.verify(sig.signature.subarray(8), msg, pub)).toBe(true);
    // The spec's example line has this shape: key ID, then the big-endian timestamp.
    const example = fromBase64(
      'jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==',
    );
    expect(example.length).toBe(4 + 72);
    expect(new DataView(example.buffer).getBigUint64(4)).toBe(1679315147n);
  });

  it('counts distinct trusted witnesses and ignores unknown lines', () => {
    const s1 = parseCosignerKey(w1.signerKey);
    const s2 = parseCosignerKey(w2.signerKey);
    const stranger = parseCosignerKey(generateCosignerKey('other.example/w').signerKey);
    const both = cosigned(
      signatureLine(s1.cosign(text, 100)),
      signatureLine(s1.cosign(text, 200)),
      signatureLine(stranger.cosign(text, 100)),
      signatureLine(s2.cosign(text, 150)),
    );
    const r = verifyCosignedCheckpoint(both, {
      logKeys: log.verifierKey,
      witnessKeys: [w1.verifierKey, w2.verifierKey],
      quorum: 2,
    });
    expect(r).toMatchObject({ ok: true, checkpoint: { size: 3 } });
    expect(r.ok && r.cosignatures.map((c) => [c.name, c.timestamp])).toEqual([
      ['witness.example/w1', 200],
      ['witness.example/w2', 150],
    ]);
    // The log's own note still opens with the log key alone.
    expect(openNote(both, [log.verifierKey]).verified).toHaveLength(1);
    const one = verifyCosignedCheckpoint(cosigned(signatureLine(s1.cosign(text, 1))), {
      logKeys: log.verifierKey,
      witnessKeys: [w1.verifierKey, w2.verifierKey],
      quorum: 2,
    });
    expect(one).toMatchObject({ ok: false, code: 'LEDGER_WITNESS_QUORUM_NOT_MET' });
    const none = verifyCosignedCheckpoint(note, {
      logKeys: log.verifierKey,
      witnessKeys: [w1.verifierKey],
      quorum: 1,
    });
    expect(none).toMatchObject({ ok: false, code: 'LEDGER_WITNESS_QUORUM_NOT_MET' });
  });

  it('refuses a forged or misplaced cosignature, and a checkpoint the log key did not sign', () => {
    const s1 = parseCosignerKey(w1.signerKey);
    const opts = { logKeys: log.verifierKey, witnessKeys: [w1.verifierKey], quorum: 1 };
    // A cosignature over another checkpoint, pasted onto this one.
    const otherText = text.replace('\n3\n', '\n4\n');
    const moved = cosigned(signatureLine(s1.cosign(otherText, 5)));
    expect(verifyCosignedCheckpoint(moved, opts)).toMatchObject({
      code: 'LEDGER_COSIGNATURE_INVALID',
    });
    // The timestamp is signed: changing it breaks the signature.
    const good = s1.cosign(text, 5);
    const bumped = {
      ...good,
      signature: concatBytes(new Uint8Array(8).fill(0), good.signature.subarray(8)),
    };
    new DataView(bumped.signature.buffer).setBigUint64(0, 6n);
    expect(verifyCosignedCheckpoint(cosigned(signatureLine(bumped)), opts)).toMatchObject({
      code: 'LEDGER_COSIGNATURE_INVALID',
    });
    const attacker = parseSignerKey(generateSignerKey(logSigner.name).signerKey);
    const forged = signCheckpoint(
      { origin: logSigner.name, size: 3, rootHash: new Uint8Array(32) },
      attacker,
    );
    const line = signatureLine(s1.cosign(parseNote(forged).text, 5));
    expect(verifyCosignedCheckpoint(addCosignatureLines(forged, line), opts)).toMatchObject({
      code: 'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
    });
    expect(verifyCosignedCheckpoint(note, { ...opts, witnessKeys: ['nonsense'] })).toMatchObject({
      code: 'LEDGER_KEY_INVALID',
    });
    expect(toBase64(good.signature).length).toBeGreaterThan(0);
  });
});
