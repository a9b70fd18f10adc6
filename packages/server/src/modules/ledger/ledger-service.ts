import { hostname } from 'node:os';
import {
  CompactRange,
  TILE_HEIGHT,
  TILE_WIDTH,
  bytesEqual,
  encodeEntryBundle,
  createConsistencyProof,
  createInclusionProof,
  keyIdHex,
  rangeNodes,
  signCheckpoint,
  tileHashReader,
  tileWidthAt,
  toBase64,
  toHex,
  type NoteSigner,
} from '@custody/ledger';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { encodeLeaf, type AuditEntry, type StoredAuditEntry } from '../audit/index.ts';
import { ledgerErrors } from './errors.ts';
import type { CheckpointRow, KyselyLedgerStore, NodeHash } from './ledger-store.ts';

/** What the ledger needs from the audit module: committed entries in seq order. */
export interface AuditSource {
  list(filter: { afterSeq: number; limit: number; order: 'asc' }): Promise<StoredAuditEntry[]>;
  /** Stored leaf hashes (hex) of committed entries after `afterSeq`, in seq order. */
  leafHashes(afterSeq: number, limit: number): Promise<{ seq: number; leafHash: string }[]>;
  size(): Promise<number>;
}

export interface LedgerServiceDeps {
  readonly database: Database;
  readonly store: KyselyLedgerStore;
  readonly audit: AuditSource;
  /** Loads the signing key on first use (it is created at first start). */
  readonly signer: () => NoteSigner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Entries integrated per transaction and checkpoint. */
  readonly batchSize?: number;
}

export interface CheckpointView {
  readonly size: number;
  /** Base64 root hash, as in the checkpoint text. */
  readonly rootHash: string;
  readonly note: string;
  readonly origin: string;
  readonly keyId: string;
  readonly signedBy: string;
  readonly createdAt: string;
}

export class ConcurrentIntegrationError extends Error {}

/** The leaf bytes of an audit entry, exactly as the tree commits to them. */
export function leafBytes(entry: StoredAuditEntry): Uint8Array {
  const plain: AuditEntry = {
    seq: entry.seq,
    time: entry.time,
    actor: entry.actor,
    action: entry.action,
    resource: entry.resource,
    outcome: entry.outcome,
    requestId: entry.requestId,
    details: entry.details,
  };
  return encodeLeaf(plain);
}

export function toCheckpointView(row: CheckpointRow): CheckpointView {
  const origin = row.note.slice(0, row.note.indexOf('\n'));
  return {
    size: row.size,
    rootHash: Buffer.from(row.root_hash, 'hex').toString('base64'),
    note: row.note,
    origin,
    keyId: row.key_id,
    signedBy: row.signed_by,
    createdAt: row.created_at,
  };
}

// Builds the Merkle tree over the audit trail and signs checkpoints. Integration reads
// committed entries after the last checkpoint in seq order, recomputes each leaf hash from
// the row and checks it against the hash written with the entry, extends the compact range
// of the last checkpoint, and stores the new tile hashes and the signed checkpoint in one
// transaction. The tree state is the last checkpoint row, so a crash loses nothing and a new
// leader continues where the old one stopped.
export class LedgerService {
  private readonly replica = `${hostname()}:${process.pid}`;
  private signerCache: NoteSigner | undefined;
  private rangeCache: { size: number; root: string; range: CompactRange } | undefined;
  private keyRegistered = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: LedgerServiceDeps) {}

  get signer(): NoteSigner {
    return (this.signerCache ??= this.deps.signer());
  }

  verifierKey(): { verifierKey: string; origin: string; keyId: string } {
    const s = this.signer;
    return { verifierKey: s.verifierKey, origin: s.name, keyId: keyIdHex(s.keyId) };
  }

  /** Runs integrations one at a time within this process. */
  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  private async ensureKeyRegistered(): Promise<void> {
    if (this.keyRegistered) return;
    const db = this.deps.database.db;
    const known = await this.deps.store.keys(db);
    const mine = this.signer.verifierKey;
    if (known.length > 0 && !known.some((k) => k.verifier_key === mine)) {
      throw new DomainError(
        ledgerErrors.LEDGER_KEY_MISMATCH,
        `this replica's ledger key ${mine} is not the log's key ${known[0]!.verifier_key}`,
      );
    }
    if (known.length === 0) {
      await this.deps.store.addKey(db, {
        verifier_key: mine,
        origin: this.signer.name,
        created_at: this.deps.clock.now().toISOString(),
      });
    }
    this.keyRegistered = true;
  }

  /**
   * Integrates up to one batch of new entries and signs a checkpoint over them (or the empty
   * tree on first run). Returns the new checkpoint, or undefined if nothing was new.
   * Callers must hold leadership (the PostgreSQL advisory lock) or run on SQLite.
   */
  async integrateOnce(): Promise<CheckpointRow | undefined> {
    await this.ensureKeyRegistered();
    const { store, database } = this.deps;
    const latest = await store.latestCheckpoint(database.db);
    const range = await this.rangeAt(latest);
    if (latest && !bytesEqual(range.root(), Buffer.from(latest.root_hash, 'hex'))) {
      throw new DomainError(
        ledgerErrors.LEDGER_ENTRY_TAMPERED,
        `the stored tree state at size ${latest.size} does not match its checkpoint`,
      );
    }
    const start = range.size;
    // The tree commits to the leaf hash the writer computed from the entry inside the
    // transaction of the change. A row changed afterwards no longer matches it, which every
    // verification detects; re-deriving it here would add nothing against an attacker who
    // rewrites the stored hash too, and would cost most of the integration time.
    const leaves = await this.deps.audit.leafHashes(start - 1, this.deps.batchSize ?? 20_000);
    if (leaves.length === 0 && latest) return undefined;
    const hashes: NodeHash[] = [];
    const visit = (level: number, index: number, hash: Uint8Array): void => {
      if (level % TILE_HEIGHT === 0) hashes.push({ level: level / TILE_HEIGHT, idx: index, hash });
    };
    for (const [i, e] of leaves.entries()) {
      if (e.seq !== start + i) break; // not yet committed below this one: stop at the gap
      const h = Buffer.from(e.leafHash, 'hex');
      if (h.length !== 32 || h.toString('hex') !== e.leafHash) {
        throw new DomainError(
          ledgerErrors.LEDGER_ENTRY_TAMPERED,
          `audit entry ${e.seq} has a malformed leaf hash`,
          { seq: e.seq },
        );
      }
      range.append(new Uint8Array(h.buffer, h.byteOffset, 32), visit);
    }
    if (latest && range.size === start) return undefined;
    const signer = this.signer;
    const root = range.root();
    const row: CheckpointRow = {
      size: range.size,
      root_hash: toHex(root),
      note: '',
      // Derived from the tiles when needed (rangeAt); not stored again with every checkpoint.
      range_state: '',
      key_id: keyIdHex(signer.keyId),
      signed_by: this.replica,
      created_at: this.deps.clock.now().toISOString(),
    };
    await database.db.transaction().execute(async (tx) => {
      // Another leader (one that lost its lock unnoticed) may have moved on: never fork.
      const current = await store.latestCheckpoint(tx);
      if ((current?.size ?? -1) !== (latest?.size ?? -1)) {
        throw new ConcurrentIntegrationError(
          `checkpoint ${current?.size} appeared while integrating from ${latest?.size}`,
        );
      }
      await store.insertHashes(tx, hashes);
      row.note = signCheckpoint({ origin: signer.name, size: range.size, rootHash: root }, signer);
      await store.insertCheckpoint(tx, row);
    });
    this.rangeCache = { size: row.size, root: row.root_hash, range: range.clone() };
    return row;
  }

  // The compact range at the latest checkpoint: kept in memory between integrations, else
  // rebuilt from the stored tiles (the perfect subtrees of [0, size), a few tile reads).
  private async rangeAt(latest: CheckpointRow | undefined): Promise<CompactRange> {
    if (!latest) return CompactRange.empty();
    const c = this.rangeCache;
    if (c && c.size === latest.size && c.root === latest.root_hash) return c.range.clone();
    if (latest.range_state)
      return CompactRange.fromState(
        JSON.parse(latest.range_state) as { size: number; hashes: string[] },
      );
    try {
      const hashes = await this.reader(latest.size).readNodes(rangeNodes(0, latest.size));
      return CompactRange.fromHashes(latest.size, hashes);
    } catch (err) {
      throw new DomainError(
        ledgerErrors.LEDGER_ENTRY_TAMPERED,
        `the stored tiles do not hold the tree of the latest checkpoint (size ${latest.size}): ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }

  /** Integrates everything committed so far; returns the latest checkpoint. */
  async integrateAll(): Promise<CheckpointRow | undefined> {
    return this.serialize(async () => {
      // Everything committed when this starts (in batches); entries arriving meanwhile wait
      // for the next tick, so a busy log signs about one checkpoint per tick, not per batch
      // of arrivals.
      const target = await this.deps.audit.size();
      for (;;) {
        const cp = await this.integrateOnce();
        if (!cp || cp.size >= target) break;
      }
      return this.deps.store.latestCheckpoint(this.deps.database.db);
    });
  }

  async latest(): Promise<CheckpointRow> {
    const row = await this.deps.store.latestCheckpoint(this.deps.database.db);
    if (!row)
      throw new DomainError(
        ledgerErrors.LEDGER_CHECKPOINT_NOT_FOUND,
        'no checkpoint has been signed yet',
      );
    return row;
  }

  async latestOrUndefined(): Promise<CheckpointRow | undefined> {
    return this.deps.store.latestCheckpoint(this.deps.database.db);
  }

  async checkpointAt(size: number): Promise<CheckpointRow | undefined> {
    return this.deps.store.checkpointAt(this.deps.database.db, size);
  }

  async listCheckpoints(options: { afterSize?: number | undefined; limit: number }) {
    return this.deps.store.listCheckpoints(this.deps.database.db, options);
  }

  async auditSize(): Promise<number> {
    return this.deps.audit.size();
  }

  private async treeSize(size: number | undefined): Promise<number> {
    const latest = await this.latest();
    if (size === undefined) return latest.size;
    if (size > latest.size)
      throw new DomainError(
        ledgerErrors.LEDGER_SIZE_INVALID,
        `tree size ${size} is beyond the latest checkpoint (size ${latest.size})`,
      );
    return size;
  }

  /** Claimed tile hashes from storage, or undefined if not (yet) complete at that width. */
  async tile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const start = index * TILE_WIDTH;
    const hashes = await this.deps.store.hashes(this.deps.database.db, level, start, start + width);
    if (hashes.length < width) return undefined;
    return Buffer.concat(hashes);
  }

  /** A hash tile as served at the latest checkpoint's size. */
  async servedTile(level: number, index: number, width: number): Promise<Uint8Array> {
    const size = (await this.latest()).size;
    const available = tileWidthAt(level, index, size);
    if (width > available)
      throw new DomainError(
        ledgerErrors.LEDGER_TILE_NOT_FOUND,
        `tile ${level}/${index} has ${available} hashes at tree size ${size}, not ${width}`,
      );
    const t = await this.tile(level, index, width);
    if (!t) throw new DomainError(ledgerErrors.LEDGER_TILE_NOT_FOUND);
    return t;
  }

  /** Entries [256 index, 256 index + width) as an entry bundle, from the current rows. */
  async entryBundle(index: number, width: number): Promise<Uint8Array> {
    const size = (await this.latest()).size;
    const available = tileWidthAt(0, index, size);
    if (width > available)
      throw new DomainError(
        ledgerErrors.LEDGER_TILE_NOT_FOUND,
        `entry bundle ${index} has ${available} entries at tree size ${size}, not ${width}`,
      );
    const start = index * TILE_WIDTH;
    const entries = await this.deps.audit.list({ afterSeq: start - 1, limit: width, order: 'asc' });
    return encodeEntryBundle(entries.filter((e) => e.seq < start + width).map(leafBytes));
  }

  private reader(size: number) {
    return tileHashReader((level, index, width) => this.tile(level, index, width), size);
  }

  async inclusionProof(
    seq: number,
    size?: number,
  ): Promise<{
    seq: number;
    size: number;
    leafHash: string;
    proof: string[];
    checkpoint: string | null;
  }> {
    const n = await this.treeSize(size);
    if (seq >= n)
      throw new DomainError(
        ledgerErrors.LEDGER_SIZE_INVALID,
        `entry ${seq} is not in the tree of size ${n}; request a newer checkpoint`,
      );
    const [leaf] = await this.deps.store.hashes(this.deps.database.db, 0, seq, seq + 1);
    const proof = await createInclusionProof(this.reader(n), seq, n);
    const cp = await this.checkpointAt(n);
    return {
      seq,
      size: n,
      leafHash: toBase64(leaf!),
      proof: proof.map((p) => toBase64(p)),
      checkpoint: cp?.note ?? null,
    };
  }

  async consistencyProof(
    from: number,
    to?: number,
  ): Promise<{ from: number; to: number; proof: string[]; checkpoint: string | null }> {
    const n = await this.treeSize(to);
    if (from > n)
      throw new DomainError(
        ledgerErrors.LEDGER_SIZE_INVALID,
        `old size ${from} is larger than new size ${n}`,
      );
    const proof = await createConsistencyProof(this.reader(n), from, n);
    const cp = await this.checkpointAt(n);
    return { from, to: n, proof: proof.map((p) => toBase64(p)), checkpoint: cp?.note ?? null };
  }
}
