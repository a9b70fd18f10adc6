import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { leafHashReader, tileHashReader } from './hash-readers.ts';
import { leafHash } from './merkle.ts';
import { MemoryTree } from './memory-tree.ts';
import {
  assertConsistency,
  createConsistencyProof,
  createInclusionProof,
  inclusionProofPlan,
  verifyConsistency,
  verifyInclusion,
} from './proofs.ts';
import { vectorsDir } from './test-support.ts';

const merkleDir = path.join(vectorsDir, 'merkle');

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

// Lenient decoding on purpose: malformed hashes must be rejected by the verifier, not the test.
const b64 = (s: string | null): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64'));
const b64s = (a: string[] | null): Uint8Array[] => (a ?? []).map(b64);

// The README's rule "hashes exactly 32 bytes" overrides this file's wantErr: false (its
// "roots" are the 12-byte string "don't care 2").
const rejectedDespiteWantErrFalse = new Set([
  'consistency/additional/sizes-are-equal-one-and-proof-is-empty.json',
]);

function expectedOk(file: string, wantErr: boolean): boolean {
  const rel = path.relative(merkleDir, file);
  if (rejectedDespiteWantErrFalse.has(rel)) return false;
  return !wantErr;
}

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string | null;
  leafHash: string | null;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string | null;
  root2: string | null;
  proof: string[] | null;
  wantErr: boolean;
}

describe('transparency-dev/merkle vectors', () => {
  const inclusion = jsonFiles(path.join(merkleDir, 'inclusion'));
  const consistency = jsonFiles(path.join(merkleDir, 'consistency'));

  it('finds the vector files', () => {
    expect(inclusion.length).toBeGreaterThan(80);
    expect(consistency.length).toBeGreaterThan(80);
    expect(inclusion.filter((f) => f.endsWith('happy-path.json'))).toHaveLength(5);
    expect(consistency.filter((f) => f.endsWith('happy-path.json'))).toHaveLength(5);
  });

  it('inclusion: happy paths verify, every other file is rejected', () => {
    for (const file of inclusion) {
      const v = JSON.parse(readFileSync(file, 'utf8')) as InclusionVector;
      const ok = verifyInclusion(
        b64(v.leafHash),
        v.leafIdx,
        v.treeSize,
        b64s(v.proof),
        b64(v.root),
      );
      const rel = path.relative(merkleDir, file);
      expect(ok, rel).toBe(expectedOk(file, v.wantErr));
      if (rel.endsWith('happy-path.json')) expect(ok, rel).toBe(true);
    }
  });

  it('consistency: happy paths verify, every other file is rejected', () => {
    for (const file of consistency) {
      const v = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyVector;
      const ok = verifyConsistency(v.size1, v.size2, b64s(v.proof), b64(v.root1), b64(v.root2));
      const rel = path.relative(merkleDir, file);
      expect(ok, rel).toBe(expectedOk(file, v.wantErr));
      if (rel.endsWith('happy-path.json')) expect(ok, rel).toBe(true);
    }
  });
});

describe('proof creation', () => {
  const N = 70;
  const leaves = Array.from({ length: N }, (_, i) => new TextEncoder().encode(`entry ${i}`));
  const tree = MemoryTree.fromLeaves(leaves);

  it('creates inclusion proofs that verify, for every index at every size', () => {
    for (let size = 1; size <= N; size++) {
      const root = tree.root(size);
      for (let i = 0; i < size; i++) {
        const proof = tree.inclusionProof(i, size);
        expect(verifyInclusion(leafHash(leaves[i]!), i, size, proof, root), `${i}@${size}`).toBe(
          true,
        );
        // A proof is bound to its index and size.
        if (size > 1)
          expect(verifyInclusion(leafHash(leaves[i]!), (i + 1) % size, size, proof, root)).toBe(
            false,
          );
        if (size < N)
          expect(
            verifyInclusion(leafHash(leaves[i]!), i, size + 1, proof, tree.root(size + 1)),
          ).toBe(false);
      }
    }
  });

  it('creates consistency proofs that verify, for every pair of sizes', () => {
    for (let size2 = 1; size2 <= N; size2++) {
      for (let size1 = 1; size1 <= size2; size1++) {
        const proof = tree.consistencyProof(size1, size2);
        expect(
          verifyConsistency(size1, size2, proof, tree.root(size1), tree.root(size2)),
          `${size1}->${size2}`,
        ).toBe(true);
        if (size1 < size2) {
          expect(verifyConsistency(size1, size2, proof, tree.root(size2), tree.root(size2))).toBe(
            false,
          );
          expect(verifyConsistency(size1, size2, proof, tree.root(size1), tree.root(size1))).toBe(
            false,
          );
        }
      }
    }
  });

  it('rejects a consistency proof against a rewritten history, with a reason', () => {
    const rewritten = MemoryTree.fromLeaves(
      leaves.map((l, i) => (i === 3 ? new TextEncoder().encode('forged') : l)),
    );
    const proof = rewritten.consistencyProof(10, 50);
    expect(() => assertConsistency(10, 50, proof, tree.root(10), rewritten.root(50))).toThrowError(
      /old root/,
    );
  });

  it('creates the same proofs from tiles and from stored leaf hashes', async () => {
    const big = new MemoryTree();
    const n = 256 * 256 + 3 * 256 + 17; // two tile levels and partial tiles at both
    for (let i = 0; i < n; i++) big.appendLeaf(new Uint8Array([i & 255, (i >> 8) & 255, i >> 16]));
    const reads: string[] = [];
    const tiles = tileHashReader((level, index, width) => {
      reads.push(`${level}/${index}/${width}`);
      return readTileFrom(big, level, index, width);
    }, n);
    const leavesReader = leafHashReader((s, e) => big.leafHashes(s, e));
    for (const [i, size] of [
      [0, n],
      [n - 1, n],
      [65535, n],
      [65536, 65537],
      [300, 1000],
    ] as const) {
      const want = big.inclusionProof(i, size);
      const sized = tileHashReader((l, x, w) => readTileFrom(big, l, x, w), size);
      expect(await createInclusionProof(sized, i, size), `${i}@${size}`).toEqual(want);
      if (size === n) expect(await createInclusionProof(tiles, i, size)).toEqual(want);
      if (size <= 1000) expect(await createInclusionProof(leavesReader, i, size)).toEqual(want);
    }
    expect(await createConsistencyProof(tiles, 1000, n)).toEqual(big.consistencyProof(1000, n));
    expect(
      verifyConsistency(
        1000,
        n,
        await createConsistencyProof(tiles, 1000, n),
        big.root(1000),
        big.root(n),
      ),
    ).toBe(true);
    expect(reads.length).toBeGreaterThan(0);
    // At the full size, level-0 tile 256 is partial (width 17 = n mod 256 after 3*256+...).
    expect(reads).toContain(`0/${Math.floor(n / 256)}/${n % 256}`);
  });

  it('rejects impossible requests', async () => {
    expect(() => inclusionProofPlan(5, 5)).toThrow(LedgerError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(LedgerError);
    expect(() => tree.inclusionProof(0, N + 1)).toThrow(LedgerError);
    const missing = tileHashReader(() => undefined, 300);
    await expect(createInclusionProof(missing, 0, 300)).rejects.toThrow(/not available/);
    expect(tree.consistencyProof(0, 5)).toEqual([]);
    expect(tree.consistencyProof(5, 5)).toEqual([]);
  });
});

function readTileFrom(
  tree: MemoryTree,
  level: number,
  index: number,
  width: number,
): Uint8Array | undefined {
  const start = index * 256;
  const hashes = tree.levelHashes(level * 8, start, start + width);
  if (hashes.length !== width) return undefined;
  const out = new Uint8Array(width * 32);
  hashes.forEach((h, j) => out.set(h, j * 32));
  return out;
}
