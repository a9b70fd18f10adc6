// RFC 6962 / RFC 9162 section 2.1 Merkle Tree Hash with SHA-256.
import { sha256, sha256Leaf, sha256LeafTextHex, sha256Node } from '#sha256';
import { LedgerError } from './errors.ts';

export const HASH_SIZE = 32;

/** MTH of a one-entry list: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256Leaf(data);
}

/** leafHash of the UTF-8 bytes of `text` (which must be well-formed), in lowercase hex. */
export function leafHashHexOfText(text: string): string {
  return sha256LeafTextHex(text);
}

/** Interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new LedgerError('LEDGER_HASH_INVALID', 'node children must be 32-byte hashes');
  }
  return sha256Node(left, right);
}

const empty = sha256(new Uint8Array(0));

/** MTH of the empty list: SHA-256 of the empty string. */
export function emptyRoot(): Uint8Array {
  return empty.slice();
}

/** Largest power of two strictly smaller than n (n > 1), RFC 6962's split point. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Root of the tree over the given leaf hashes. Pairing level by level and carrying an odd
 * last node up unchanged is equivalent to RFC 6962's recursive split at the largest power
 * of two, and needs no recursion.
 */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyRoot();
  let level: Uint8Array[] = hashes.slice();
  for (const h of level) {
    if (h.length !== HASH_SIZE)
      throw new LedgerError('LEDGER_HASH_INVALID', 'leaf hashes must be 32 bytes');
  }
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sha256Node(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!.slice();
}

/** Root of the tree over the given entries (hashing each as a leaf). */
export function rootFromLeaves(leaves: readonly Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(leaves.map((l) => sha256Leaf(l)));
}
