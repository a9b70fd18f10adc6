import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonical-json.ts';
import { signCheckpoint } from './checkpoint.ts';
import { auditEntry, fixtureKeys, makeLog, ORIGIN, seqOf, type Fixture } from './ledger-fixture.ts';
import { leafHash } from './merkle.ts';
import { MemoryTree } from './memory-tree.ts';
import { generateSignerKey, parseSignerKey } from './note-keys.ts';
import { tilesFromTree } from './tiles.ts';
import {
  LogVerifier,
  verifyConsistencyBetween,
  verifyLog,
  verifyLogAsync,
  type LogEntry,
  type VerifyResult,
} from './verify.ts';

const N = 1000;
const fx: Fixture = makeLog(N, [100, 500, N]);

function rows(f: Fixture = fx): LogEntry[] {
  return f.entries.map((data, index) => ({ index, data, leafHash: f.leafHashes[index]! }));
}

function verify(
  entries: LogEntry[],
  extra: Partial<Parameters<typeof verifyLog>[0]> = {},
): VerifyResult {
  return verifyLog({
    entries,
    checkpoints: fx.checkpoints,
    keys: fx.verifierKey,
    origin: ORIGIN,
    ...extra,
  });
}

function expectFailure(r: VerifyResult, code: string, firstBadIndex?: number): void {
  if (r.ok) throw new Error(`expected ${code}, but the log verified`);
  expect(r.code, r.message).toBe(code);
  if (firstBadIndex !== undefined) expect(r.firstBadIndex, r.message).toBe(firstBadIndex);
  expect(r.message.length).toBeGreaterThan(10);
}

const changed = (i: number): Uint8Array =>
  canonicalBytes({
    ...(JSON.parse(new TextDecoder().decode(auditEntry(i))) as object),
    outcome: 'allowed-by-dba',
  });

describe('verifyLog: an untouched log', () => {
  it('verifies, reporting the newest checkpoint', () => {
    const r = verify(rows());
    expect(r).toMatchObject({ ok: true, size: N, pending: 0 });
    if (r.ok) {
      expect(r.root).toEqual(fx.tree.root());
      expect(r.checkpoints.map((c) => c.size)).toEqual([100, 500, N]);
    }
  });

  it('verifies without stored hashes, with tiles and with the entry-index check', () => {
    expect(verify(rows().map(({ index, data }) => ({ index, data }))).ok).toBe(true);
    expect(verify(rows(), { entryIndex: seqOf, tiles: tileReader(fx.tree) }).ok).toBe(true);
  });

  it('accepts entries after the newest checkpoint only when asked to', () => {
    const more = makeLog(N + 3, [100, 500, N]);
    const entries = rows(more);
    expectFailure(verify(entries), 'LEDGER_ENTRY_EXTRA', N);
    expect(verify(entries, { allowPending: true })).toMatchObject({
      ok: true,
      size: N,
      pending: 3,
    });
  });

  it('verifies a log paged asynchronously', async () => {
    async function* pages(): AsyncGenerator<LogEntry> {
      for (const r of rows()) yield r;
    }
    expect(
      (
        await verifyLogAsync({
          entries: pages(),
          checkpoints: fx.checkpoints,
          keys: [fx.verifierKey],
        })
      ).ok,
    ).toBe(true);
  });
});

describe('verifyLog: tampering names the first bad entry', () => {
  it('a changed field (stored leaf hash untouched)', () => {
    const r = rows();
    r[417] = { ...r[417]!, data: changed(417) };
    r[900] = { ...r[900]!, data: changed(900) };
    expectFailure(verify(r), 'LEDGER_LEAF_HASH_MISMATCH', 417);
  });

  it('a changed stored leaf hash', () => {
    const r = rows();
    r[3] = { ...r[3]!, leafHash: leafHash(changed(3)) };
    expectFailure(verify(r), 'LEDGER_LEAF_HASH_MISMATCH', 3);
  });

  it('a changed field with its leaf hash rewritten: bracketed by the signed checkpoints', () => {
    const r = rows();
    r[417] = { index: 417, data: changed(417), leafHash: leafHash(changed(417)) };
    const res = verify(r);
    expectFailure(res, 'LEDGER_ROOT_MISMATCH', 100);
    if (!res.ok) expect(res.badRange).toEqual({ from: 100, to: 500 });
    // More checkpoints bracket tighter; one right after the entry pins it down.
    const signer = parseSignerKey(fx.signerKey);
    const around = [417, 418].map((s) =>
      signCheckpoint({ origin: ORIGIN, size: s, rootHash: fx.tree.root(s) }, signer),
    );
    const pinned = verifyLog({
      entries: r,
      checkpoints: [...fx.checkpoints, ...around],
      keys: fx.verifierKey,
    });
    expectFailure(pinned, 'LEDGER_ROOT_MISMATCH', 417);
    if (!pinned.ok) expect(pinned.badRange).toEqual({ from: 417, to: 418 });
  });

  it('a changed field with hashes rewritten, caught by tiles the server published earlier', () => {
    const r = rows();
    r[417] = { index: 417, data: changed(417), leafHash: leafHash(changed(417)) };
    expectFailure(verify(r, { tiles: tileReader(fx.tree) }), 'LEDGER_LEAF_HASH_MISMATCH', 417);
    // Level-0 tiles rewritten too: the level-1 tile still brackets it to 256 entries.
    const forged = MemoryTree.fromLeaves(r.map((e) => e.data));
    const mixed = (level: number, index: number, width: number): Uint8Array | undefined =>
      (level === 0 ? tileReader(forged) : tileReader(fx.tree))(level, index, width);
    // (With checkpoints at 100 and 1000 only, so the tile is the tighter bracket.)
    const res = verify(r, { tiles: mixed, checkpoints: [fx.checkpoints[0]!, fx.checkpoints[2]!] });
    expectFailure(res, 'LEDGER_TILE_MISMATCH', 256);
    if (!res.ok) expect(res.badRange).toEqual({ from: 256, to: 512 });
  });

  it('a deleted row (gap in the sequence)', () => {
    const r = rows();
    r.splice(300, 1);
    expectFailure(verify(r), 'LEDGER_ENTRY_MISSING', 300);
  });

  it('a deleted row with later rows renumbered and rehashed', () => {
    const r = rows();
    r.splice(300, 1);
    const renumbered = r.map((e, index) => ({ ...e, index }));
    expectFailure(verify(renumbered, { entryIndex: seqOf }), 'LEDGER_ENTRY_MISPLACED', 300);
    expectFailure(verify(renumbered), 'LEDGER_ROOT_MISMATCH', 100);
  });

  it('an inserted row (duplicate sequence number)', () => {
    const r = rows();
    r.splice(251, 0, { index: 250, data: changed(250), leafHash: leafHash(changed(250)) });
    expectFailure(verify(r), 'LEDGER_ENTRY_DUPLICATE', 250);
  });

  it('an inserted row with later rows renumbered', () => {
    const r = rows();
    r.splice(250, 0, { index: 250, data: auditEntry(5000), leafHash: leafHash(auditEntry(5000)) });
    const renumbered = r.map((e, index) => ({ ...e, index }));
    expectFailure(verify(renumbered, { entryIndex: seqOf }), 'LEDGER_ENTRY_MISPLACED', 250);
    // Without the self-recorded index, the extra row shows at the end or in the roots.
    expectFailure(verify(renumbered), 'LEDGER_ROOT_MISMATCH', 100);
  });

  it('two swapped rows', () => {
    const r = rows();
    const a = r[600]!;
    const b = r[601]!;
    // Contents swapped, sequence numbers and stored hashes left in place.
    r[600] = { ...a, data: b.data };
    r[601] = { ...b, data: a.data };
    expectFailure(verify(r), 'LEDGER_LEAF_HASH_MISMATCH', 600);
    // Whole rows (with their hashes) swapped.
    const whole = rows();
    whole[600] = { ...b, index: 600 };
    whole[601] = { ...a, index: 601 };
    expectFailure(verify(whole, { entryIndex: seqOf }), 'LEDGER_ENTRY_MISPLACED', 600);
    const res = verify(whole);
    expectFailure(res, 'LEDGER_ROOT_MISMATCH', 500);
    if (!res.ok) expect(res.badRange).toEqual({ from: 500, to: N });
  });

  it('a cut tail', () => {
    expectFailure(verify(rows().slice(0, 990)), 'LEDGER_LOG_TRUNCATED', 990);
    expectFailure(verify([]), 'LEDGER_LOG_TRUNCATED', 0);
  });

  it('a checkpoint re-signed with another key', () => {
    const other = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
    const resigned = signCheckpoint({ origin: ORIGIN, size: N, rootHash: fx.tree.root() }, other);
    const res = verifyLog({ entries: rows(), checkpoints: [resigned], keys: fx.verifierKey });
    expectFailure(res, 'LEDGER_CHECKPOINT_SIGNATURE_INVALID');
    if (!res.ok) expect(res.message).toMatch(/not signed by a trusted key/);
    // And a rewritten log re-signed with the attacker's key fails the same way.
    const r = rows();
    r[5] = { index: 5, data: changed(5), leafHash: leafHash(changed(5)) };
    const forged = signCheckpoint(
      { origin: ORIGIN, size: N, rootHash: MemoryTree.fromLeaves(r.map((e) => e.data)).root() },
      other,
    );
    expectFailure(
      verifyLog({ entries: r, checkpoints: [forged], keys: fx.verifierKey }),
      'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
    );
  });

  it('a checkpoint whose text was edited after signing', () => {
    const edited = fx.checkpoints[2]!.replace(`\n${N}\n`, `\n${N - 1}\n`);
    const res = verifyLog({ entries: rows(), checkpoints: [edited], keys: fx.verifierKey });
    expectFailure(res, 'LEDGER_CHECKPOINT_SIGNATURE_INVALID');
    if (!res.ok) expect(res.message).toMatch(/does not verify/);
  });

  it('a root that does not match the entries', () => {
    const signer = parseSignerKey(fx.signerKey);
    const wrong = signCheckpoint({ origin: ORIGIN, size: N, rootHash: new Uint8Array(32) }, signer);
    const res = verifyLog({
      entries: rows(),
      checkpoints: [fx.checkpoints[1]!, wrong],
      keys: fx.verifierKey,
    });
    expectFailure(res, 'LEDGER_ROOT_MISMATCH', 500);
  });

  it('forked or foreign checkpoints', () => {
    const signer = parseSignerKey(fx.signerKey);
    const fork = signCheckpoint(
      { origin: ORIGIN, size: 500, rootHash: new Uint8Array(32).fill(1) },
      signer,
    );
    expectFailure(
      verifyLog({ entries: rows(), checkpoints: [...fx.checkpoints, fork], keys: fx.verifierKey }),
      'LEDGER_CHECKPOINTS_INCONSISTENT',
    );
    const foreign = signCheckpoint(
      { origin: 'other.example/log', size: 100, rootHash: fx.tree.root(100) },
      signer,
    );
    expectFailure(
      verifyLog({
        entries: rows(),
        checkpoints: [fx.checkpoints[2]!, foreign],
        keys: fx.verifierKey,
      }),
      'LEDGER_CHECKPOINTS_INCONSISTENT',
    );
    expectFailure(verify(rows(), { origin: 'other.example/log' }), 'LEDGER_CHECKPOINT_INVALID');
    expectFailure(
      verifyLog({ entries: rows(), checkpoints: [], keys: fx.verifierKey }),
      'LEDGER_CHECKPOINT_INVALID',
    );
    expectFailure(
      verifyLog({ entries: rows(), checkpoints: ['garbage'], keys: fx.verifierKey }),
      'LEDGER_CHECKPOINT_INVALID',
    );
  });

  it('reports a malformed trusted key as a usage error, not as tampering', () => {
    expectFailure(
      verifyLog({ entries: rows(), checkpoints: fx.checkpoints, keys: 'not-a-key' }),
      'LEDGER_KEY_INVALID',
    );
    expect(
      verifyConsistencyBetween(fx.checkpoints[0]!, fx.checkpoints[2]!, [], 'nope'),
    ).toMatchObject({ ok: false, code: 'LEDGER_KEY_INVALID' });
  });

  it('stops at the first failure when streaming', () => {
    const v = new LogVerifier({ checkpoints: fx.checkpoints, keys: fx.verifierKey });
    expect(v.add(0, fx.entries[0]!)).toBe(true);
    expect(v.add(2, fx.entries[2]!)).toBe(false);
    expect(v.add(1, fx.entries[1]!)).toBe(false);
    expect(v.finish()).toMatchObject({ ok: false, code: 'LEDGER_ENTRY_MISSING', firstBadIndex: 1 });
  });
});

describe('verifyConsistencyBetween', () => {
  const signer = parseSignerKey(fx.signerKey);
  const [old100, , new1000] = fx.checkpoints as [string, string, string];

  it('accepts the current log extending a saved checkpoint', () => {
    const proof = fx.tree.consistencyProof(100, N);
    expect(verifyConsistencyBetween(old100, new1000, proof, fx.verifierKey)).toMatchObject({
      ok: true,
      size: N,
    });
    expect(
      verifyConsistencyBetween(
        old100,
        new1000,
        proof.map((p) => Buffer.from(p).toString('base64')),
        fx.verifierKey,
      ).ok,
    ).toBe(true);
    expect(verifyConsistencyBetween(new1000, new1000, [], fx.verifierKey).ok).toBe(true);
    const empty = signCheckpoint(
      { origin: ORIGIN, size: 0, rootHash: new MemoryTree().root() },
      signer,
    );
    expect(verifyConsistencyBetween(empty, new1000, [], fx.verifierKey).ok).toBe(true);
  });

  it('rejects a rewritten history', () => {
    const rewritten = MemoryTree.fromLeaves(fx.entries.map((e, i) => (i === 42 ? changed(42) : e)));
    const newer = signCheckpoint({ origin: ORIGIN, size: N, rootHash: rewritten.root() }, signer);
    const res = verifyConsistencyBetween(
      old100,
      newer,
      rewritten.consistencyProof(100, N),
      fx.verifierKey,
    );
    expect(res).toMatchObject({ ok: false, code: 'LEDGER_CONSISTENCY_INVALID' });
    // The honest proof does not link the old root to the rewritten tree either.
    expect(
      verifyConsistencyBetween(old100, newer, fx.tree.consistencyProof(100, N), fx.verifierKey).ok,
    ).toBe(false);
  });

  it('rejects shrinking, foreign and unsigned checkpoints', () => {
    expect(verifyConsistencyBetween(new1000, old100, [], fx.verifierKey)).toMatchObject({
      ok: false,
      code: 'LEDGER_CONSISTENCY_INVALID',
    });
    const other = fixtureKeys(2);
    const foreign = signCheckpoint(
      { origin: ORIGIN, size: N, rootHash: fx.tree.root() },
      parseSignerKey(other.signerKey),
    );
    expect(
      verifyConsistencyBetween(old100, foreign, fx.tree.consistencyProof(100, N), fx.verifierKey),
    ).toMatchObject({ ok: false, code: 'LEDGER_CHECKPOINT_SIGNATURE_INVALID' });
    expect(verifyConsistencyBetween(old100, new1000, ['@@@'], fx.verifierKey)).toMatchObject({
      ok: false,
      code: 'LEDGER_CONSISTENCY_INVALID',
    });
  });
});

function tileReader(
  tree: MemoryTree,
): (level: number, index: number, width: number) => Uint8Array | undefined {
  const tiles = new Map(
    tilesFromTree(tree, N).map((t) => [`${t.level}/${t.index}/${t.width}`, t.bytes]),
  );
  return (level, index, width) => tiles.get(`${level}/${index}/${width}`);
}
