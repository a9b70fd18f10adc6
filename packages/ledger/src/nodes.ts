// Addressing of perfect subtrees. Node (level, index) is the root of the perfect subtree over
// leaves [index * 2^level, (index + 1) * 2^level). Every hash a proof needs is either such a
// node or the RFC 6962 hash of a range that splits into a few of them, so storage only ever
// has to answer "what is the hash of node (level, index)".
// Sizes and indexes are plain numbers (exact up to 2^53); no 32-bit bit operations are used.
import { sha256Node } from '#sha256';
import { LedgerError } from './errors.ts';

export interface NodeId {
  readonly level: number;
  readonly index: number;
}

export function assertSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new LedgerError(
      'LEDGER_RANGE_INVALID',
      `${what} must be a non-negative safe integer, got ${n}`,
    );
}

/**
 * Splits [begin, end) into maximal perfect subtrees, left to right. For the ranges that occur
 * in RFC 6962 proofs (begin aligned to a power of two at least end - begin) the sizes
 * decrease, and the range hash is the right fold of the node hashes (see foldRange).
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  assertSize(begin, 'range begin');
  assertSize(end, 'range end');
  if (begin > end)
    throw new LedgerError('LEDGER_RANGE_INVALID', `range [${begin}, ${end}) is reversed`);
  const out: NodeId[] = [];
  while (begin < end) {
    let size = 1;
    let level = 0;
    while (begin % (size * 2) === 0 && begin + size * 2 <= end) {
      size *= 2;
      level++;
    }
    out.push({ level, index: begin / size });
    begin += size;
  }
  return out;
}

/** RFC 6962 hash of a range from its perfect-subtree hashes (left to right): a right fold. */
export function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0)
    throw new LedgerError('LEDGER_RANGE_INVALID', 'cannot fold an empty range');
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = sha256Node(hashes[i]!, h);
  return h;
}

/** Number of perfect subtrees in the decomposition of [0, size): its count of one bits. */
export function popCount(size: number): number {
  let c = 0;
  while (size > 0) {
    c += size % 2;
    size = Math.floor(size / 2);
  }
  return c;
}
