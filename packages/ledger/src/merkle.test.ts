import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.ts';
import { CompactRange } from './compact-range.ts';
import { LedgerError } from './errors.ts';
import {
  emptyRoot,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  rootFromLeaves,
  splitPoint,
} from './merkle.ts';
import { MemoryTree } from './memory-tree.ts';
import { hex } from './test-support.ts';

// Reference MTH straight from RFC 6962 section 2.1 (recursive, with node:crypto), to check
// the iterative implementations against.
function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Uint8Array.of(0), leaves[0]!);
  const k = splitPoint(leaves.length);
  return sha(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

export const knownLeaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);

describe('Merkle tree hash', () => {
  it('hashes the empty tree, leaves and nodes as RFC 6962 says', () => {
    expect(toHex(emptyRoot())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(leafHash(new Uint8Array(0))).toEqual(sha(Uint8Array.of(0)));
    const a = leafHash(hex('00'));
    const b = leafHash(hex('10'));
    expect(nodeHash(a, b)).toEqual(sha(Uint8Array.of(1), a, b));
    expect(() => nodeHash(a, a.subarray(1))).toThrow(LedgerError);
  });

  it('gives the known size-8 root 5dc9da79...', () => {
    const root = rootFromLeaves(knownLeaves);
    expect(toHex(root).startsWith('5dc9da79')).toBe(true);
    expect(root).toEqual(mth(knownLeaves));
    expect(MemoryTree.fromLeaves(knownLeaves).root()).toEqual(root);
  });

  it('agrees with the recursive definition at every size up to 70', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => new Uint8Array([i, i * 7, 255 - i]));
    const range = CompactRange.empty();
    const tree = new MemoryTree();
    for (let n = 0; n <= leaves.length; n++) {
      const want = mth(leaves.slice(0, n));
      expect(rootFromLeaves(leaves.slice(0, n)), `size ${n}`).toEqual(want);
      expect(range.root(), `compact range size ${n}`).toEqual(want);
      expect(tree.root(), `memory tree size ${n}`).toEqual(want);
      if (n < leaves.length) {
        range.appendLeaf(leaves[n]!);
        tree.appendLeaf(leaves[n]!);
      }
    }
    for (let n = 0; n <= leaves.length; n++) expect(tree.root(n)).toEqual(mth(leaves.slice(0, n)));
  });

  it('rejects leaf hashes of the wrong length', () => {
    expect(() => rootFromLeafHashes([new Uint8Array(31)])).toThrow(LedgerError);
    expect(() => CompactRange.empty().append(new Uint8Array(33))).toThrow(LedgerError);
  });
});

describe('CompactRange', () => {
  it('round-trips its state and keeps one hash per set bit of the size', () => {
    const range = CompactRange.empty();
    for (let i = 0; i < 13; i++) range.appendLeaf(new Uint8Array([i]));
    const state = range.state();
    expect(state.size).toBe(13);
    expect(state.hashes).toHaveLength(3);
    const restored = CompactRange.fromState(JSON.parse(JSON.stringify(state)) as typeof state);
    expect(restored.root()).toEqual(range.root());
    restored.appendLeaf(new Uint8Array([13]));
    range.appendLeaf(new Uint8Array([13]));
    expect(restored.root()).toEqual(range.root());
    expect(() => CompactRange.fromState({ size: 13, hashes: state.hashes.slice(1) })).toThrow(
      LedgerError,
    );
    expect(() => CompactRange.fromState({ size: -1, hashes: [] })).toThrow(LedgerError);
    expect(() => CompactRange.fromState({ size: 1, hashes: ['not base64!'] })).toThrow(LedgerError);
  });

  it('reports every node it creates', () => {
    const seen: string[] = [];
    const range = CompactRange.empty();
    for (let i = 0; i < 4; i++)
      range.appendLeaf(new Uint8Array([i]), (level, index) => seen.push(`${level}/${index}`));
    expect(seen).toEqual(['0/0', '0/1', '1/0', '0/2', '0/3', '1/1', '2/0']);
  });

  it('clones independently', () => {
    const a = CompactRange.empty();
    a.appendLeaf(new Uint8Array([1]));
    const b = a.clone();
    b.appendLeaf(new Uint8Array([2]));
    expect(a.size).toBe(1);
    expect(b.size).toBe(2);
    expect(a.root()).toEqual(leafHash(new Uint8Array([1])));
  });
});
