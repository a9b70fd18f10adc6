import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import {
  generateSignerKey,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
} from './note-keys.ts';
import { formatNote, openNote, parseNote, signNote, verifyNote } from './note.ts';

const specKey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const specNote =
  'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

const peterSigner =
  'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const peterVerifier = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const peterText =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterLine =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof LedgerError) return e.code;
    throw e;
  }
  return undefined;
}

describe('signed notes: vectors', () => {
  it('verifies the spec example with its verifier key', () => {
    const opened = openNote(specNote, [specKey]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/foo']);
  });

  it('rejects the spec example after any one-byte change of its text', () => {
    const bytes = new TextEncoder().encode(specNote);
    const textLength = 'This is an example message.'.length;
    for (let i = 0; i < textLength; i++) {
      const changed = bytes.slice();
      changed[i] = changed[i]! ^ 0x01;
      expect(verifyNote(changed, [specKey]), `byte ${i}`).toBe(false);
    }
    expect(
      code(() => openNote(specNote.replace('example message', 'exbmple message'), [specKey])),
    ).toBe('LEDGER_NOTE_BAD_SIGNATURE');
  });

  it('reproduces the PeterNeumann signature byte for byte', () => {
    const signer = parseSignerKey(peterSigner);
    expect(signer.verifierKey).toBe(peterVerifier);
    const note = signNote(peterText, [signer]);
    expect(note).toBe(peterText + '\n' + peterLine);
    expect(openNote(note, [peterVerifier]).text).toBe(peterText);
  });
});

describe('signed notes', () => {
  const { signerKey, verifierKey } = generateSignerKey('custody.example/ledger');
  const signer = parseSignerKey(signerKey);

  it('generates keys whose texts parse and whose key IDs match', () => {
    expect(signerKey).toMatch(
      /^PRIVATE\+KEY\+custody\.example\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/,
    );
    expect(verifierKey).toMatch(/^custody\.example\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    const v = parseVerifierKey(verifierKey);
    expect(v.keyId).toBe(signer.keyId);
    expect(v.verifierKey).toBe(verifierKey);
    expect(signerKey.split('+')[3]).toBe(verifierKey.split('+')[1]);
    expect(generateSignerKey('custody.example/ledger').signerKey).not.toBe(signerKey);
  });

  it('rejects malformed keys', () => {
    const bad = [
      'no-plus',
      'a+b+c+d',
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong key ID
      'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // uppercase ID
      'PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // signature type 2
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', // bad base64
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ];
    for (const k of bad)
      expect(
        code(() => parseVerifierKey(k)),
        k,
      ).toBe('LEDGER_KEY_INVALID');
    expect(code(() => parseSignerKey(peterVerifier))).toBe('LEDGER_KEY_INVALID');
    expect(code(() => parseSignerKey(peterSigner.replace('c74f20a3', 'c74f20a4')))).toBe(
      'LEDGER_KEY_INVALID',
    );
    expect(code(() => generateSignerKey('has space'))).toBe('LEDGER_KEY_INVALID');
    expect(code(() => generateSignerKey('has+plus'))).toBe('LEDGER_KEY_INVALID');
  });

  it('derives the same key from the same seed', () => {
    const seed = new Uint8Array(32).fill(7);
    expect(signerKeyFromSeed('x', seed)).toEqual(signerKeyFromSeed('x', seed));
  });

  it('ignores unknown keys, rejects bad known signatures, requires one verified signature', () => {
    const other = parseSignerKey(generateSignerKey('custody.example/ledger').signerKey);
    const witness = parseSignerKey(generateSignerKey('witness.example').signerKey);
    const text = 'hello\n\nworld\n';
    const both = signNote(text, [witness, signer]);
    const opened = openNote(both, [verifierKey]);
    expect(opened.text).toBe(text);
    expect(opened.unknown.map((s) => s.name)).toEqual(['witness.example']);
    expect(opened.verified).toHaveLength(1);
    // Same name, other key: its signature is unknown, so the note is unverified.
    expect(code(() => openNote(signNote(text, [other]), [verifierKey]))).toBe(
      'LEDGER_NOTE_UNVERIFIED',
    );
    // Known key, signature over other text: rejected outright.
    const forged = parseNote(signNote('other\n', [signer]));
    const spliced = formatNote({
      text,
      signatures: [...parseNote(both).signatures.slice(0, 1), ...forged.signatures],
    });
    expect(code(() => openNote(spliced, [verifierKey]))).toBe('LEDGER_NOTE_BAD_SIGNATURE');
    expect(code(() => openNote(both, []))).toBe('LEDGER_NOTE_UNVERIFIED');
  });

  it('rejects malformed notes', () => {
    const good = signNote('x\n', [signer]);
    const bad = [
      good.slice(0, -1), // no final newline
      'x\n— a AAAAAAA=\n', // no blank line
      'x\n\n', // no signatures
      good.replace('— ', '- '),
      good.replace('x\n', 'x\r\n'),
      good.replace('\u2014 custody.example/ledger', '\u2014 custody.example/led ger'),
      'x\n\n— a AAAA\n', // signature shorter than a key ID + 1 byte
      'x\n\n— a !!!!\n',
      good + '\n',
    ];
    for (const n of bad)
      expect(
        code(() => openNote(n, [verifierKey])),
        JSON.stringify(n),
      ).toBe('LEDGER_NOTE_INVALID');
    expect(
      code(() => openNote(new Uint8Array([0x78, 0x0a, 0x0a, 0xff, 0x0a]), [verifierKey])),
    ).toBe('LEDGER_NOTE_INVALID');
    expect(code(() => signNote('no newline', [signer]))).toBe('LEDGER_NOTE_INVALID');
  });

  it('keeps the text separated at the last blank line', () => {
    const text = 'a\n\n\nb\n';
    const n = signNote(text, [signer]);
    expect(openNote(n, [verifierKey]).text).toBe(text);
  });
});
