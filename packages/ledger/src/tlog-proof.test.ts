import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { fixtureKeys, makeLog, ORIGIN } from './ledger-fixture.ts';
import { formatTlogProof, parseTlogProof, verifyTlogProof } from './tlog-proof.ts';

describe('tlog-proof', () => {
  const fx = makeLog(300, [300]);
  const checkpoint = fx.checkpoints[0]!;

  it('formats as the spec shows and verifies the entry', () => {
    const text = formatTlogProof({
      index: 42,
      proof: fx.tree.inclusionProof(42, 300),
      checkpoint,
      extra: new Uint8Array([1, 2]),
    });
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual(['c2sp.org/tlog-proof@v1', 'extra AQI=', 'index 42']);
    expect(text.endsWith('\n\n' + checkpoint)).toBe(true);
    const back = parseTlogProof(text);
    expect(back.index).toBe(42);
    expect(back.proof).toHaveLength(9);
    expect(verifyTlogProof(text, fx.entries[42]!, fx.verifierKey, { origin: ORIGIN }).size).toBe(
      300,
    );
  });

  it('rejects another entry, another index, another key or a malformed proof', () => {
    const text = formatTlogProof({ index: 42, proof: fx.tree.inclusionProof(42, 300), checkpoint });
    expect(() => verifyTlogProof(text, fx.entries[43]!, fx.verifierKey)).toThrow(
      /does not lead to the root/,
    );
    expect(() =>
      verifyTlogProof(text.replace('index 42', 'index 43'), fx.entries[42]!, fx.verifierKey),
    ).toThrow(LedgerError);
    expect(() => verifyTlogProof(text, fx.entries[42]!, fixtureKeys(5).verifierKey)).toThrow(
      /trusted key/,
    );
    expect(() => parseTlogProof('c2sp.org/tlog-proof@v2\nindex 1\n\n' + checkpoint)).toThrow(
      LedgerError,
    );
    expect(() => parseTlogProof('c2sp.org/tlog-proof@v1\nindex 01\n\n' + checkpoint)).toThrow(
      LedgerError,
    );
    expect(() => parseTlogProof('c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n' + checkpoint)).toThrow(
      /32-byte/,
    );
    expect(() => parseTlogProof('c2sp.org/tlog-proof@v1\nindex 1\n')).toThrow(LedgerError);
  });
});
