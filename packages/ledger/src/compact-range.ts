// Incremental Merkle tree: a compact range over [0, size) keeps only the roots of the
// perfect subtrees that [0, size) splits into (one per set bit of size, largest first).
// Appending is amortised one node hash per leaf, the root is available at any size, and the
// whole state is a few hundred bytes that the server persists next to the tree size.
import { fromBase64, toBase64 } from './bytes.ts';
import { LedgerError } from './errors.ts';
import { emptyRoot, HASH_SIZE, leafHash } from './merkle.ts';
import { assertSize, foldRange, popCount } from './nodes.ts';
import { sha256Node } from '#sha256';

/** Called for every node the range creates, leaves included; lets callers build tiles. */
export type NodeVisitor = (level: number, index: number, hash: Uint8Array) => void;

/** Serialisable state: tree size and the subtree roots (base64, largest subtree first). */
export interface CompactRangeState {
  readonly size: number;
  readonly hashes: readonly string[];
}

export class CompactRange {
  #size: number;
  readonly #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Restores a range from its subtree roots (largest first), validating their number. */
  static fromHashes(size: number, hashes: readonly Uint8Array[]): CompactRange {
    assertSize(size, 'tree size');
    if (hashes.length !== popCount(size)) {
      throw new LedgerError(
        'LEDGER_STATE_INVALID',
        `a compact range of size ${size} has ${popCount(size)} hashes, got ${hashes.length}`,
      );
    }
    for (const h of hashes) {
      if (h.length !== HASH_SIZE)
        throw new LedgerError('LEDGER_STATE_INVALID', 'compact range hashes must be 32 bytes');
    }
    return new CompactRange(
      size,
      hashes.map((h) => h.slice()),
    );
  }

  static fromState(state: CompactRangeState): CompactRange {
    let hashes: Uint8Array[];
    try {
      hashes = state.hashes.map((h) => fromBase64(h));
    } catch (e) {
      throw new LedgerError('LEDGER_STATE_INVALID', `compact range state: ${(e as Error).message}`);
    }
    return CompactRange.fromHashes(state.size, hashes);
  }

  get size(): number {
    return this.#size;
  }

  /** Subtree roots, largest first (copies). */
  hashes(): Uint8Array[] {
    return this.#hashes.map((h) => h.slice());
  }

  state(): CompactRangeState {
    return { size: this.#size, hashes: this.#hashes.map((h) => toBase64(h)) };
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes.slice());
  }

  /** Appends one leaf hash. */
  append(hash: Uint8Array, visit?: NodeVisitor): void {
    if (hash.length !== HASH_SIZE)
      throw new LedgerError('LEDGER_HASH_INVALID', 'leaf hashes must be 32 bytes');
    if (this.#size >= Number.MAX_SAFE_INTEGER)
      throw new LedgerError('LEDGER_RANGE_INVALID', 'tree is full');
    const hashes = this.#hashes;
    let index = this.#size;
    let h = hash;
    visit?.(0, index, h);
    // Each trailing one bit of the old size is a left sibling waiting for this subtree.
    let level = 0;
    while (index % 2 === 1) {
      h = sha256Node(hashes.pop()!, h);
      level++;
      index = (index - 1) / 2;
      visit?.(level, index, h);
    }
    hashes.push(h);
    this.#size++;
  }

  /** Hashes data as a leaf and appends it. */
  appendLeaf(data: Uint8Array, visit?: NodeVisitor): Uint8Array {
    const h = leafHash(data);
    this.append(h, visit);
    return h;
  }

  /** RFC 6962 root of [0, size). */
  root(): Uint8Array {
    return this.#hashes.length === 0 ? emptyRoot() : foldRange(this.#hashes).slice();
  }
}
