import { describe, expect, it } from 'vitest';
import { fromBase64 } from './bytes.ts';
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from './checkpoint.ts';
import { LedgerError } from './errors.ts';
import { generateSignerKey, parseSignerKey } from './note-keys.ts';

const specText =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

describe('checkpoints', () => {
  const keys = generateSignerKey('custody.example/log');
  const signer = parseSignerKey(keys.signerKey);

  it('parses and formats the spec example text', () => {
    const cp = parseCheckpoint(specText);
    expect(cp.origin).toBe('example.com/behind-the-sofa');
    expect(cp.size).toBe(20852163);
    expect(cp.rootHash).toEqual(fromBase64('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I='));
    expect(cp.extensions).toBeUndefined();
    expect(formatCheckpoint(cp)).toBe(specText);
  });

  it('keeps extension lines', () => {
    const text = specText + 'ext one\next two\n';
    expect(parseCheckpoint(text).extensions).toEqual(['ext one', 'ext two']);
    expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
  });

  it('rejects malformed checkpoint texts', () => {
    const bad = [
      'origin\n1\n',
      '\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
      'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2\n',
      'o\n1\nAAAA\n',
      'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\nx\n',
      'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=',
    ];
    for (const t of bad) {
      expect(() => parseCheckpoint(t), JSON.stringify(t)).toThrow(LedgerError);
    }
    expect(parseCheckpoint('o\n0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n').size).toBe(0);
  });

  it('signs and verifies, checking origin and key', () => {
    const cp = { origin: 'custody.example/log', size: 5, rootHash: new Uint8Array(32).fill(9) };
    const note = signCheckpoint(cp, signer);
    const opened = openCheckpoint(note, keys.verifierKey, { origin: 'custody.example/log' });
    expect(opened.checkpoint).toEqual(cp);
    expect(opened.note).toBe(note);
    expect(() => openCheckpoint(note, keys.verifierKey, { origin: 'other' })).toThrow(/origin/);
    const stranger = generateSignerKey('custody.example/log');
    try {
      openCheckpoint(note, stranger.verifierKey);
      expect.unreachable();
    } catch (e) {
      expect((e as LedgerError).code).toBe('LEDGER_NOTE_UNVERIFIED');
    }
    const tampered = note.replace('\n5\n', '\n6\n');
    try {
      openCheckpoint(tampered, keys.verifierKey);
      expect.unreachable();
    } catch (e) {
      expect((e as LedgerError).code).toBe('LEDGER_NOTE_BAD_SIGNATURE');
    }
  });
});
