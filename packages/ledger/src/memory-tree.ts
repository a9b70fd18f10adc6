// A whole Merkle tree in memory: every perfect-subtree node, so roots at any earlier size,
// proofs and tiles are all synchronous. For tests, exports and small logs; a server should
// keep a CompactRange plus tiles or leaf hashes instead.
import { LedgerError } from './errors.ts';
import { emptyRoot, HASH_SIZE, leafHash } from './merkle.ts';
import { assertSize, foldRange, rangeNodes, type NodeId } from './nodes.ts';
import { consistencyProofPlan, inclusionProofPlan, type HashReader } from './proofs.ts';
import { sha256Node } from '#sha256';

export class MemoryTree implements HashReader {
  // levels[l][i] is node (l, i); only complete perfect subtrees are stored.
  readonly #levels: Uint8Array[][] = [[]];

  static fromLeafHashes(hashes: readonly Uint8Array[]): MemoryTree {
    const t = new MemoryTree();
    for (const h of hashes) t.append(h);
    return t;
  }

  static fromLeaves(leaves: readonly Uint8Array[]): MemoryTree {
    const t = new MemoryTree();
    for (const l of leaves) t.appendLeaf(l);
    return t;
  }

  get size(): number {
    return this.#levels[0]!.length;
  }

  append(hash: Uint8Array): void {
    if (hash.length !== HASH_SIZE)
      throw new LedgerError('LEDGER_HASH_INVALID', 'leaf hashes must be 32 bytes');
    const levels = this.#levels;
    let level = 0;
    let h = hash;
    for (;;) {
      const row = levels[level]!;
      row.push(h);
      const i = row.length - 1;
      if (i % 2 === 0) return;
      h = sha256Node(row[i - 1]!, h);
      level++;
      if (levels.length === level) levels.push([]);
    }
  }

  appendLeaf(data: Uint8Array): Uint8Array {
    const h = leafHash(data);
    this.append(h);
    return h;
  }

  node(level: number, index: number): Uint8Array {
    const h = this.#levels[level]?.[index];
    if (!h)
      throw new LedgerError('LEDGER_RANGE_INVALID', `node ${level}/${index} is not in the tree`);
    return h;
  }

  readNodes(nodes: readonly NodeId[]): Uint8Array[] {
    return nodes.map((n) => this.node(n.level, n.index));
  }

  /** Leaf hashes [start, end). */
  leafHashes(start = 0, end = this.size): Uint8Array[] {
    return this.#levels[0]!.slice(start, end);
  }

  /** Hashes at tree level `level`, positions [start, end) (tiles are slices of level 8L). */
  levelHashes(level: number, start: number, end: number): Uint8Array[] {
    return (this.#levels[level] ?? []).slice(start, end);
  }

  root(size = this.size): Uint8Array {
    assertSize(size, 'tree size');
    if (size > this.size)
      throw new LedgerError('LEDGER_RANGE_INVALID', `size ${size} exceeds tree size ${this.size}`);
    if (size === 0) return emptyRoot();
    return foldRange(this.readNodes(rangeNodes(0, size))).slice();
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    if (size > this.size)
      throw new LedgerError('LEDGER_RANGE_INVALID', `size ${size} exceeds tree size ${this.size}`);
    const plan = inclusionProofPlan(index, size);
    return plan.assemble(this.readNodes(plan.nodes));
  }

  consistencyProof(size1: number, size2 = this.size): Uint8Array[] {
    if (size2 > this.size)
      throw new LedgerError('LEDGER_RANGE_INVALID', `size ${size2} exceeds tree size ${this.size}`);
    const plan = consistencyProofPlan(size1, size2);
    return plan.assemble(this.readNodes(plan.nodes));
  }
}
