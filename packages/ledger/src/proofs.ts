// RFC 9162 section 2.1.3 (inclusion) and 2.1.4 (consistency) proofs.
// Creation is split in two so storage stays outside this library: a ProofPlan names the
// perfect-subtree nodes a proof needs, any HashReader supplies their hashes (from memory,
// tiles or stored leaf hashes), and the plan assembles the proof from them.
import { sha256Node } from '#sha256';
import { bytesEqual } from './bytes.ts';
import { LedgerError } from './errors.ts';
import { HASH_SIZE, splitPoint } from './merkle.ts';
import { assertSize, foldRange, rangeNodes, type NodeId } from './nodes.ts';

/** Supplies hashes of perfect subtrees, in the order asked. May be synchronous or not. */
export interface HashReader {
  readNodes(nodes: readonly NodeId[]): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
}

export interface ProofPlan {
  /** The nodes whose hashes the proof is built from, in this order. */
  readonly nodes: readonly NodeId[];
  /** Builds the proof from the hashes of `nodes`. */
  assemble(hashes: readonly Uint8Array[]): Uint8Array[];
}

type Range = readonly [begin: number, end: number];

function planFromRanges(ranges: readonly Range[]): ProofPlan {
  const groups = ranges.map(([b, e]) => rangeNodes(b, e));
  const nodes = groups.flat();
  return {
    nodes,
    assemble(hashes) {
      if (hashes.length !== nodes.length)
        throw new LedgerError(
          'LEDGER_PROOF_INVALID',
          `expected ${nodes.length} node hashes, got ${hashes.length}`,
        );
      const proof: Uint8Array[] = [];
      let at = 0;
      for (const g of groups) {
        const part = hashes.slice(at, at + g.length);
        for (const h of part) {
          if (h.length !== HASH_SIZE)
            throw new LedgerError('LEDGER_HASH_INVALID', 'node hashes must be 32 bytes');
        }
        proof.push(foldRange(part).slice());
        at += g.length;
      }
      return proof;
    },
  };
}

// PATH(m, D[begin:end]) of RFC 9162 2.1.3.1, as the ranges whose hashes form the proof,
// from the leaf's sibling up to the root's child.
function inclusionRanges(index: number, begin: number, end: number, out: Range[]): void {
  const n = end - begin;
  if (n === 1) return;
  const k = splitPoint(n);
  if (index - begin < k) {
    inclusionRanges(index, begin, begin + k, out);
    out.push([begin + k, end]);
  } else {
    inclusionRanges(index, begin + k, end, out);
    out.push([begin, begin + k]);
  }
}

// SUBPROOF(m, D[begin:end], b) of RFC 9162 2.1.4.1; m counts leaves from begin.
function consistencyRanges(
  m: number,
  begin: number,
  end: number,
  whole: boolean,
  out: Range[],
): void {
  const n = end - begin;
  if (m === n) {
    if (!whole) out.push([begin, end]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    consistencyRanges(m, begin, begin + k, whole, out);
    out.push([begin + k, end]);
  } else {
    consistencyRanges(m - k, begin + k, end, false, out);
    out.push([begin, begin + k]);
  }
}

export function inclusionProofPlan(index: number, size: number): ProofPlan {
  assertSize(index, 'leaf index');
  assertSize(size, 'tree size');
  if (index >= size)
    throw new LedgerError(
      'LEDGER_RANGE_INVALID',
      `leaf index ${index} is not below tree size ${size}`,
    );
  const ranges: Range[] = [];
  inclusionRanges(index, 0, size, ranges);
  return planFromRanges(ranges);
}

/** Plan for a proof that the tree of size1 is a prefix of the tree of size2 (empty if equal or size1 = 0). */
export function consistencyProofPlan(size1: number, size2: number): ProofPlan {
  assertSize(size1, 'old tree size');
  assertSize(size2, 'new tree size');
  if (size1 > size2)
    throw new LedgerError('LEDGER_RANGE_INVALID', `old size ${size1} exceeds new size ${size2}`);
  const ranges: Range[] = [];
  if (size1 > 0 && size1 < size2) consistencyRanges(size1, 0, size2, true, ranges);
  return planFromRanges(ranges);
}

export async function createInclusionProof(
  reader: HashReader,
  index: number,
  size: number,
): Promise<Uint8Array[]> {
  const plan = inclusionProofPlan(index, size);
  return plan.assemble(await reader.readNodes(plan.nodes));
}

export async function createConsistencyProof(
  reader: HashReader,
  size1: number,
  size2: number,
): Promise<Uint8Array[]> {
  const plan = consistencyProofPlan(size1, size2);
  return plan.assemble(await reader.readNodes(plan.nodes));
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_PROOF_INVALID', message);
}

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE)
    invalid(`${what} is not a 32-byte hash`);
}

const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

/** RFC 9162 2.1.3.2: the root an inclusion proof leads to. Throws LEDGER_PROOF_INVALID. */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || size < 0)
    invalid('index and size must be non-negative integers');
  if (index >= size) invalid(`leaf index ${index} is not below tree size ${size}`);
  checkHash(leafHash, 'leaf hash');
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    checkHash(p, 'proof element');
    if (sn === 0) invalid('inclusion proof is too long');
    if (odd(fn) || fn === sn) {
      r = sha256Node(p, r);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      r = sha256Node(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) invalid('inclusion proof is too short');
  return r;
}

/** Throws LEDGER_PROOF_INVALID unless the proof shows leafHash at index in the tree (size, root). */
export function assertInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash(root, 'root');
  if (!bytesEqual(rootFromInclusionProof(leafHash, index, size, proof), root))
    invalid('inclusion proof does not lead to the root');
}

export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    assertInclusion(leafHash, index, size, proof, root);
    return true;
  } catch (e) {
    if (e instanceof LedgerError) return false;
    throw e;
  }
}

/**
 * RFC 9162 2.1.4.2. Throws LEDGER_PROOF_INVALID unless the proof shows that (size1, root1)
 * is a prefix of (size2, root2). Equal sizes need an empty proof and equal roots; a proof
 * from size 0 is rejected (there is nothing to prove, and callers should not ask).
 */
export function assertConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < 0)
    invalid('sizes must be non-negative integers');
  checkHash(root1, 'old root');
  checkHash(root2, 'new root');
  for (const p of proof) checkHash(p, 'proof element');
  if (size2 < size1) invalid(`new size ${size2} is smaller than old size ${size1}`);
  if (size1 === size2) {
    if (proof.length !== 0) invalid('a proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) invalid('roots differ at equal sizes');
    return;
  }
  if (size1 === 0) invalid('a consistency proof from the empty tree is not accepted');
  if (proof.length === 0) invalid('consistency proof is empty');
  // If size1 is a power of two, its root is the first node on the path and is not sent.
  let fn = size1 - 1;
  let sn = size2 - 1;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) invalid('consistency proof is too long');
    if (odd(fn) || fn === sn) {
      fr = sha256Node(c, fr);
      sr = sha256Node(c, sr);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      sr = sha256Node(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) invalid('consistency proof is too short');
  if (!bytesEqual(fr, root1)) invalid('consistency proof does not lead to the old root');
  if (!bytesEqual(sr, root2)) invalid('consistency proof does not lead to the new root');
}

export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  try {
    assertConsistency(size1, size2, proof, root1, root2);
    return true;
  } catch (e) {
    if (e instanceof LedgerError) return false;
    throw e;
  }
}
