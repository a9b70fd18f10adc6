// Offline verification of a whole log: recompute every leaf hash and the tree from the
// entries, compare with what the server claims (stored leaf hashes, tiles) and with the
// roots of signed checkpoints, and name the first entry that is wrong.
import { fromBase64, toHex } from './bytes.ts';
import { openCheckpoint, type Checkpoint } from './checkpoint.ts';
import { LedgerError } from './errors.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './hash-readers.ts';
import { emptyRoot, HASH_SIZE } from './merkle.ts';
import { parseVerifierKey, type NoteVerifier } from './note-keys.ts';
import { assertConsistency } from './proofs.ts';
import { sha256LeafBinary, sha256NodeBinary } from '#sha256';

export type VerifyFailureCode =
  /** The trusted verifier key given is malformed (a usage error, not tampering). */
  | 'LEDGER_KEY_INVALID'
  /** A checkpoint is not a well-formed signed checkpoint. */
  | 'LEDGER_CHECKPOINT_INVALID'
  /** A checkpoint is not validly signed by a trusted key (other key, or bad signature). */
  | 'LEDGER_CHECKPOINT_SIGNATURE_INVALID'
  /** Two signed checkpoints cannot both be right (same size, different roots; other origin). */
  | 'LEDGER_CHECKPOINTS_INCONSISTENT'
  /** An index is missing: an entry was deleted. */
  | 'LEDGER_ENTRY_MISSING'
  /** An index appears again (or goes backwards): an entry was inserted or reordered. */
  | 'LEDGER_ENTRY_DUPLICATE'
  /** An entry's own recorded index differs from its position: entries were swapped or moved. */
  | 'LEDGER_ENTRY_MISPLACED'
  /** Entries beyond the newest checkpoint where none may exist (an export). */
  | 'LEDGER_ENTRY_EXTRA'
  /** An entry's recomputed leaf hash differs from the stored leaf hash or level-0 tile. */
  | 'LEDGER_LEAF_HASH_MISMATCH'
  /** A higher-level tile hash differs from the hash recomputed from the entries. */
  | 'LEDGER_TILE_MISMATCH'
  /** A tile the verification needs is missing or malformed. */
  | 'LEDGER_TILE_MISSING'
  /** Fewer entries than the newest checkpoint covers: the tail was cut. */
  | 'LEDGER_LOG_TRUNCATED'
  /** The recomputed root differs from a signed checkpoint's root. */
  | 'LEDGER_ROOT_MISMATCH'
  /** An export directory lacks a file or has a malformed one. */
  | 'LEDGER_EXPORT_INVALID'
  /** A consistency proof between two checkpoints does not verify. */
  | 'LEDGER_CONSISTENCY_INVALID';

export type VerifyResult =
  | {
      readonly ok: true;
      /** Size of the newest signed checkpoint, all of whose entries verified. */
      readonly size: number;
      readonly root: Uint8Array;
      /** Verified checkpoints, smallest first. */
      readonly checkpoints: readonly Checkpoint[];
      /** Entries after the newest checkpoint (only with allowPending); checked for order only. */
      readonly pending: number;
    }
  | {
      readonly ok: false;
      readonly code: VerifyFailureCode;
      readonly message: string;
      /** The first entry known to be bad (or the start of badRange). */
      readonly firstBadIndex?: number;
      /** When only a range is known: the first bad entry is in [from, to). */
      readonly badRange?: { readonly from: number; readonly to: number };
    };

export type VerifyFailure = Extract<VerifyResult, { ok: false }>;

/** Claimed hash tile (level, index) at the given width; undefined if not available. */
export type SyncTileReader = (
  level: number,
  index: number,
  width: number,
) => Uint8Array | undefined;

export interface LogVerifierOptions {
  /** Signed checkpoint notes; at least one. Their sizes bracket a root mismatch. */
  readonly checkpoints: readonly (string | Uint8Array)[];
  /** Trusted verifier key(s), as text or parsed. */
  readonly keys: string | NoteVerifier | readonly (string | NoteVerifier)[];
  /** Expected checkpoint origin. */
  readonly origin?: string;
  /**
   * Accept entries after the newest checkpoint (a live log between checkpoints). They are
   * checked for order and stored hashes but not covered by a signature. Default false.
   */
  readonly allowPending?: boolean;
  /** Hash tiles claimed by the server or export, for the newest checkpoint's size. */
  readonly tiles?: SyncTileReader;
  /**
   * Reads the index an entry records about itself (e.g. a "seq" field), if any. A mismatch
   * pins down swapped or renumbered entries even when their stored hashes were rewritten.
   */
  readonly entryIndex?: (data: Uint8Array) => number | undefined;
}

interface CheckpointAt {
  readonly cp: Checkpoint;
}

function toVerifiers(keys: LogVerifierOptions['keys']): NoteVerifier[] {
  const list =
    typeof keys === 'string' || !Array.isArray(keys)
      ? [keys as string | NoteVerifier]
      : (keys as readonly (string | NoteVerifier)[]);
  return list.map((k) => (typeof k === 'string' ? parseVerifierKey(k) : k));
}

const hashesEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

// The hot path keeps hashes as 32-char binary strings (see sha256/node.ts), so hashing
// allocates nothing but the digest string; stored hashes are compared byte by byte.
function binaryEquals(s: string, bytes: Uint8Array, offset = 0): boolean {
  if (bytes.length - offset < HASH_SIZE) return false;
  for (let i = 0; i < HASH_SIZE; i++) if (s.charCodeAt(i) !== bytes[offset + i]) return false;
  return true;
}

function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(HASH_SIZE);
  for (let i = 0; i < HASH_SIZE; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Streaming verifier: feed entries in index order with add(), then call finish(). Memory
 * is O(log n) besides the caller's tiles, so a CLI can page through a database.
 */
export class LogVerifier {
  // Compact range over the entries so far: roots of its perfect subtrees, largest first.
  readonly #stack: string[] = [];
  #count = 0;
  #nextCheckSize = -1; // size of the next checkpoint to compare, -1 if none
  readonly #checkpoints: CheckpointAt[] = [];
  readonly #tiles: SyncTileReader | undefined;
  readonly #entryIndex: LogVerifierOptions['entryIndex'];
  readonly #allowPending: boolean;
  #failure: VerifyFailure | undefined;
  #next = 0; // index of the next checkpoint (by size) to check
  #goodSize = 0; // largest checkpoint size whose root matched
  #maxSize = 0;
  // The tile currently compared against, per tile level.
  readonly #tileIndex: number[] = [];
  readonly #tileBytes: (Uint8Array | null)[] = [];

  constructor(options: LogVerifierOptions) {
    this.#tiles = options.tiles;
    this.#entryIndex = options.entryIndex;
    this.#allowPending = options.allowPending ?? false;
    let verifiers: NoteVerifier[];
    try {
      verifiers = toVerifiers(options.keys);
    } catch (e) {
      this.#fail('LEDGER_KEY_INVALID', `trusted key: ${(e as Error).message}`);
      return;
    }
    if (options.checkpoints.length === 0) {
      this.#fail('LEDGER_CHECKPOINT_INVALID', 'no signed checkpoint given');
      return;
    }
    for (const [i, note] of options.checkpoints.entries()) {
      const which = options.checkpoints.length > 1 ? `checkpoint ${i + 1}` : 'checkpoint';
      let cp: Checkpoint;
      try {
        cp = openCheckpoint(note, verifiers).checkpoint;
      } catch (e) {
        if (!(e instanceof LedgerError)) throw e;
        const signature =
          e.code === 'LEDGER_NOTE_UNVERIFIED' || e.code === 'LEDGER_NOTE_BAD_SIGNATURE';
        this.#fail(
          signature ? 'LEDGER_CHECKPOINT_SIGNATURE_INVALID' : 'LEDGER_CHECKPOINT_INVALID',
          `${which}: ${e.message}`,
        );
        return;
      }
      if (options.origin !== undefined && cp.origin !== options.origin) {
        this.#fail(
          'LEDGER_CHECKPOINT_INVALID',
          `${which} is for log '${cp.origin}', not '${options.origin}'`,
        );
        return;
      }
      this.#checkpoints.push({ cp });
    }
    this.#checkpoints.sort((a, b) => a.cp.size - b.cp.size);
    const first = this.#checkpoints[0]!.cp;
    for (let i = 1; i < this.#checkpoints.length; i++) {
      const a = this.#checkpoints[i - 1]!.cp;
      const b = this.#checkpoints[i]!.cp;
      if (b.origin !== first.origin) {
        this.#fail(
          'LEDGER_CHECKPOINTS_INCONSISTENT',
          `checkpoints name different logs: '${first.origin}' and '${b.origin}'`,
        );
        return;
      }
      if (a.size === b.size && !hashesEqual(a.rootHash, b.rootHash)) {
        this.#fail(
          'LEDGER_CHECKPOINTS_INCONSISTENT',
          `two signed checkpoints of size ${a.size} have different roots: the log forked`,
        );
        return;
      }
    }
    this.#maxSize = this.#checkpoints[this.#checkpoints.length - 1]!.cp.size;
    this.#checkRoots();
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Entries accepted so far. */
  get size(): number {
    return this.#count;
  }

  /** Newest checkpoint size (0 before checkpoints are verified). */
  get checkpointSize(): number {
    return this.#maxSize;
  }

  #fail(
    code: VerifyFailureCode,
    message: string,
    firstBadIndex?: number,
    badRange?: { from: number; to: number },
  ): false {
    if (!this.#failure) {
      this.#failure = {
        ok: false,
        code,
        message,
        ...(firstBadIndex === undefined ? {} : { firstBadIndex }),
        ...(badRange ? { badRange } : {}),
      };
    }
    return false;
  }

  /** Reports a problem found outside the verifier (e.g. a malformed export file). */
  reportFailure(code: VerifyFailureCode, message: string, firstBadIndex?: number): void {
    this.#fail(code, message, firstBadIndex);
  }

  /**
   * Adds the entry at `index` (must be the next index). `storedLeafHash` is the hash the
   * server stored for it, if any. Returns false once verification has failed.
   */
  add(index: number, data: Uint8Array, storedLeafHash?: Uint8Array): boolean {
    if (this.#failure) return false;
    const expected = this.#count;
    if (index !== expected) {
      if (!Number.isSafeInteger(index) || index < 0)
        return this.#fail(
          'LEDGER_ENTRY_DUPLICATE',
          `entry index ${index} is not a valid index`,
          expected,
        );
      if (index < expected)
        return this.#fail(
          'LEDGER_ENTRY_DUPLICATE',
          `entry ${index} appears again after entry ${expected - 1}: an entry was inserted or reordered`,
          index,
        );
      return this.#fail(
        'LEDGER_ENTRY_MISSING',
        `entry ${expected} is missing (next entry present is ${index})`,
        expected,
      );
    }
    if (index >= this.#maxSize && !this.#allowPending) {
      return this.#fail(
        'LEDGER_ENTRY_EXTRA',
        `entry ${index} is beyond the newest signed checkpoint (size ${this.#maxSize})`,
        index,
      );
    }
    if (this.#entryIndex) {
      let own: number | undefined;
      try {
        own = this.#entryIndex(data);
      } catch {
        own = Number.NaN;
      }
      if (own !== undefined && own !== index)
        return this.#fail(
          'LEDGER_ENTRY_MISPLACED',
          `entry at position ${index} records index ${own}: entries were swapped, moved or renumbered`,
          index,
        );
    }
    let h = sha256LeafBinary(data);
    if (
      storedLeafHash !== undefined &&
      !(storedLeafHash.length === HASH_SIZE && binaryEquals(h, storedLeafHash))
    ) {
      return this.#fail(
        'LEDGER_LEAF_HASH_MISMATCH',
        `entry ${index} was changed: its leaf hash is ${toHex(binaryToBytes(h))}, the stored leaf hash is ${toHex(storedLeafHash)}`,
        index,
      );
    }
    // Append to the compact range; each trailing one bit of the old size is a left sibling.
    const stack = this.#stack;
    const tiles = this.#tiles !== undefined && index < this.#maxSize;
    if (tiles && !this.#checkNode(0, index, h)) return false;
    let node = index;
    let level = 0;
    while (node % 2 === 1) {
      h = sha256NodeBinary(stack.pop()!, h);
      node = (node - 1) / 2;
      level++;
      if (tiles && level % TILE_HEIGHT === 0 && !this.#checkNode(level, node, h)) return false;
    }
    stack.push(h);
    this.#count++;
    if (this.#count === this.#nextCheckSize) this.#checkRoots();
    return !this.#failure;
  }

  #tile(level: number, index: number, width: number): Uint8Array | null {
    if (this.#tileIndex[level] === index && this.#tileBytes[level] !== undefined)
      return this.#tileBytes[level]!;
    let t = this.#tiles!(level, index, width) ?? null;
    if (
      t !== null &&
      (t.length < width * HASH_SIZE ||
        t.length % HASH_SIZE !== 0 ||
        t.length > TILE_WIDTH * HASH_SIZE)
    )
      t = null;
    this.#tileIndex[level] = index;
    this.#tileBytes[level] = t;
    return t;
  }

  // Compares a node at a tile level (tree level 8L) with the claimed tile hash.
  #checkNode(level: number, index: number, hash: string): boolean {
    const tileLevel = level / TILE_HEIGHT;
    const span = 2 ** level;
    if ((index + 1) * span > this.#maxSize) return true; // not covered by the newest checkpoint
    const tileIndex = Math.floor(index / TILE_WIDTH);
    const count = Math.floor(this.#maxSize / span);
    const width = Math.min(TILE_WIDTH, count - tileIndex * TILE_WIDTH);
    const tile = this.#tile(tileLevel, tileIndex, width);
    const first = index * span;
    if (!tile) {
      return this.#fail(
        'LEDGER_TILE_MISSING',
        `tile ${tileLevel}/${tileIndex} (width ${width}) is missing or malformed`,
        tileIndex * TILE_WIDTH * span,
      );
    }
    const at = (index % TILE_WIDTH) * HASH_SIZE;
    if (binaryEquals(hash, tile, at)) return true;
    const claimed = toHex(tile.subarray(at, at + HASH_SIZE));
    if (level === 0) {
      return this.#fail(
        'LEDGER_LEAF_HASH_MISMATCH',
        `entry ${index} was changed: its leaf hash is ${toHex(binaryToBytes(hash))}, tile 0/${tileIndex} has ${claimed}`,
        index,
      );
    }
    return this.#fail(
      'LEDGER_TILE_MISMATCH',
      `tile ${tileLevel}/${tileIndex} hash for entries [${first}, ${first + span}) differs from the recomputed hash`,
      first,
      { from: first, to: first + span },
    );
  }

  #root(): Uint8Array {
    const stack = this.#stack;
    if (stack.length === 0) return emptyRoot();
    let h = stack[stack.length - 1]!;
    for (let i = stack.length - 2; i >= 0; i--) h = sha256NodeBinary(stack[i]!, h);
    return binaryToBytes(h);
  }

  #checkRoots(): void {
    const size = this.#count;
    while (
      this.#next < this.#checkpoints.length &&
      this.#checkpoints[this.#next]!.cp.size === size
    ) {
      const cp = this.#checkpoints[this.#next]!.cp;
      const root = this.#root();
      if (!hashesEqual(root, cp.rootHash)) {
        const from = this.#goodSize;
        const detail =
          from === size - 1
            ? `entry ${from} is bad`
            : `the first bad entry is in [${from}, ${size})`;
        this.#fail(
          'LEDGER_ROOT_MISMATCH',
          `the recomputed root at size ${size} differs from the signed checkpoint: ${detail}`,
          from,
          { from, to: size },
        );
        return;
      }
      this.#goodSize = size;
      this.#next++;
    }
    this.#nextCheckSize =
      this.#next < this.#checkpoints.length ? this.#checkpoints[this.#next]!.cp.size : -1;
  }

  /** Ends verification. */
  finish(): VerifyResult {
    if (this.#failure) return this.#failure;
    const size = this.#count;
    if (size < this.#maxSize) {
      this.#fail(
        'LEDGER_LOG_TRUNCATED',
        `the log has ${size} entries but a signed checkpoint covers ${this.#maxSize}: entries from ${size} on are missing`,
        size,
      );
      return this.#failure!;
    }
    const newest = this.#checkpoints[this.#checkpoints.length - 1]!.cp;
    return {
      ok: true,
      size: newest.size,
      root: newest.rootHash,
      checkpoints: this.#checkpoints.map((c) => c.cp),
      pending: size - newest.size,
    };
  }
}

export interface LogEntry {
  readonly index: number;
  /** The leaf bytes (canonical JSON of the audit entry). */
  readonly data: Uint8Array;
  /** The leaf hash the server stored for this entry, if any. */
  readonly leafHash?: Uint8Array;
}

export interface VerifyLogOptions extends LogVerifierOptions {
  /** Entries in index order (as read, e.g. ORDER BY seq). */
  readonly entries: Iterable<LogEntry>;
}

/** Verifies a whole log in one call. See LogVerifier for streaming. */
export function verifyLog(options: VerifyLogOptions): VerifyResult {
  const v = new LogVerifier(options);
  if (v.failed) return v.finish();
  for (const e of options.entries) if (!v.add(e.index, e.data, e.leafHash)) break;
  return v.finish();
}

/** Async variant for entries paged from a database or the network. */
export async function verifyLogAsync(
  options: Omit<VerifyLogOptions, 'entries'> & {
    readonly entries: AsyncIterable<LogEntry> | Iterable<LogEntry>;
  },
): Promise<VerifyResult> {
  const v = new LogVerifier(options);
  if (v.failed) return v.finish();
  for await (const e of options.entries) if (!v.add(e.index, e.data, e.leafHash)) break;
  return v.finish();
}

function toHashes(proof: readonly (Uint8Array | string)[]): Uint8Array[] {
  return proof.map((p) => (typeof p === 'string' ? fromBase64(p) : p));
}

/**
 * Proves that the log behind `newCheckpoint` extends `oldCheckpoint` (saved earlier by an
 * auditor): both must be signed by a trusted key, name the same log, and the consistency
 * proof (hashes or base64 strings) must link their roots.
 */
export function verifyConsistencyBetween(
  oldCheckpoint: string | Uint8Array,
  newCheckpoint: string | Uint8Array,
  proof: readonly (Uint8Array | string)[],
  keys: LogVerifierOptions['keys'],
): VerifyResult {
  let verifiers: NoteVerifier[];
  try {
    verifiers = toVerifiers(keys);
  } catch (e) {
    return {
      ok: false,
      code: 'LEDGER_KEY_INVALID',
      message: `trusted key: ${(e as Error).message}`,
    };
  }
  const opened: Checkpoint[] = [];
  for (const [which, note] of [
    ['old checkpoint', oldCheckpoint],
    ['new checkpoint', newCheckpoint],
  ] as const) {
    try {
      opened.push(openCheckpoint(note, verifiers).checkpoint);
    } catch (e) {
      const err = e as LedgerError;
      if (!(err instanceof LedgerError)) throw e;
      const signature =
        err.code === 'LEDGER_NOTE_UNVERIFIED' || err.code === 'LEDGER_NOTE_BAD_SIGNATURE';
      return {
        ok: false,
        code: signature ? 'LEDGER_CHECKPOINT_SIGNATURE_INVALID' : 'LEDGER_CHECKPOINT_INVALID',
        message: `${which}: ${err.message}`,
      };
    }
  }
  const [a, b] = opened as [Checkpoint, Checkpoint];
  if (a.origin !== b.origin)
    return {
      ok: false,
      code: 'LEDGER_CHECKPOINTS_INCONSISTENT',
      message: `checkpoints name different logs: '${a.origin}' and '${b.origin}'`,
    };
  if (a.size > b.size)
    return {
      ok: false,
      code: 'LEDGER_CONSISTENCY_INVALID',
      message: `the new checkpoint (size ${b.size}) is smaller than the old one (size ${a.size}): the log shrank`,
    };
  const ok = { ok: true as const, size: b.size, root: b.rootHash, checkpoints: [a, b], pending: 0 };
  if (a.size === 0) {
    if (!hashesEqual(a.rootHash, emptyRoot()))
      return {
        ok: false,
        code: 'LEDGER_CONSISTENCY_INVALID',
        message: 'the old checkpoint has size 0 but not the empty root',
      };
    return ok;
  }
  let hashes: Uint8Array[];
  try {
    hashes = toHashes(proof);
  } catch {
    return {
      ok: false,
      code: 'LEDGER_CONSISTENCY_INVALID',
      message: 'the consistency proof is not valid base64',
    };
  }
  try {
    assertConsistency(a.size, b.size, hashes, a.rootHash, b.rootHash);
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    return {
      ok: false,
      code: 'LEDGER_CONSISTENCY_INVALID',
      message: `history from size ${a.size} to ${b.size} was rewritten or the proof is wrong: ${(e as Error).message}`,
      badRange: { from: 0, to: a.size },
    };
  }
  return ok;
}
