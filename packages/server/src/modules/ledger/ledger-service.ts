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
  parseVerifierKey,
  rangeNodes,
  signCheckpoint,
  tileHashReader,
  tileWidthAt,
  toBase64,
  toHex,
  type NoteSigner,
  type NoteVerifier,
} from '@custody/ledger';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { AnyDb, Database } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import {
  EntryAuthenticator,
  encodeLeaf,
  type AuditEntry,
  type AuthenticatedLeaf,
  type StoredAuditEntry,
} from '../audit/index.ts';
import { ledgerErrors } from './errors.ts';
import type { CheckpointRow, KyselyLedgerStore, NodeHash } from './ledger-store.ts';
import { SignerGuard } from './signer-guard.ts';
import { SignerStateFile } from './signer-state.ts';

/** What the ledger needs from the audit module: committed entries in seq order. */
export interface AuditSource {
  list(filter: { afterSeq: number; limit: number; order: 'asc' }): Promise<StoredAuditEntry[]>;
  /** Stored leaf hashes (hex) and entry MACs of committed entries after `afterSeq`, in seq order. */
  leafHashes(afterSeq: number, limit: number): Promise<AuthenticatedLeaf[]>;
  size(): Promise<number>;
  /** The first seq written with an entry MAC (rows before it predate entry MACs). */
  macsFrom(): Promise<number>;
}

/** A control the checkpointer found broken; it signs nothing past it. */
export interface ControlFailure {
  readonly code: string;
  /** The entry (or tree size) where the log stops being provable. */
  readonly seq: number;
  readonly message: string;
  readonly detectedAt: string;
}

export interface LedgerServiceDeps {
  readonly database: Database;
  readonly store: KyselyLedgerStore;
  readonly audit: AuditSource;
  /** Loads the signing key on first use (it is created at first start). */
  readonly signer: () => NoteSigner;
  /** The signer's own state file (last signed size and root), next to the key. */
  readonly stateFile: string;
  /** Hex key of the entry MACs (the audit writer uses the same one). */
  readonly entryKey: () => string;
  /** Told once per newly detected control failure (the app records an audit entry). */
  readonly onControlFailure?: (failure: ControlFailure) => Promise<void>;
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

const leafHex = /^[0-9a-f]{64}$/;

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
  private verifierCache: NoteVerifier | undefined;
  private authCache: EntryAuthenticator | undefined;
  private rangeCache: { size: number; root: string; range: CompactRange } | undefined;
  private keyRegistered = false;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: ControlFailure | undefined;
  readonly guard: SignerGuard;

  constructor(private readonly deps: LedgerServiceDeps) {
    const verifier = (): NoteVerifier =>
      (this.verifierCache ??= parseVerifierKey(this.signer.verifierKey));
    this.guard = new SignerGuard({
      stateFile: new SignerStateFile(deps.stateFile, verifier),
      verifier,
      clock: deps.clock,
      logger: deps.logger,
      sources: {
        consistencyProof: (from, to) => createConsistencyProof(this.reader(to), from, to),
        leafHashes: (afterSeq, limit) => deps.audit.leafHashes(afterSeq, limit),
        auditSize: () => deps.audit.size(),
        macsFrom: () => deps.audit.macsFrom(),
      },
    });
  }

  get signer(): NoteSigner {
    return (this.signerCache ??= this.deps.signer());
  }

  private get auth(): EntryAuthenticator {
    return (this.authCache ??= new EntryAuthenticator(this.deps.entryKey()));
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
   * tree on first run). Before anything is signed, the signer's state must admit the
   * database's tree (SignerGuard) and every new entry must carry a valid entry MAC: at the
   * first one that does not, the checkpoint stops just before it and `failure` names it.
   * Callers must hold leadership (the PostgreSQL advisory lock) or run on SQLite.
   */
  async integrateOnce(): Promise<{ checkpoint?: CheckpointRow; failure?: ControlFailure }> {
    await this.ensureKeyRegistered();
    const { store, database } = this.deps;
    const latest = await store.latestCheckpoint(database.db);
    const atLatest = await this.rangeAt(latest);
    if (latest && !bytesEqual(atLatest.root(), Buffer.from(latest.root_hash, 'hex'))) {
      throw new DomainError(
        ledgerErrors.LEDGER_ENTRY_TAMPERED,
        `the stored tree state at size ${latest.size} does not match its checkpoint`,
      );
    }
    const admission = await this.guard.admit(latest, atLatest);
    const recovered = admission.recovered;
    const range = recovered ? recovered.range.clone() : atLatest;
    const hashes: NodeHash[] = recovered ? [...recovered.hashes] : [];
    const visit = (level: number, index: number, hash: Uint8Array): void => {
      if (level % TILE_HEIGHT === 0) hashes.push({ level: level / TILE_HEIGHT, idx: index, hash });
    };
    const start = range.size;
    // The tree commits to the leaf hash the writer computed from the entry inside the
    // transaction of the change, and the writer's MAC over it proves the application wrote
    // it. Re-deriving the hash from the row would add nothing (every verification does it).
    const leaves = await this.deps.audit.leafHashes(start - 1, this.deps.batchSize ?? 20_000);
    const failure = this.appendAuthentic(range, leaves, admission.macsFrom, visit);
    if (latest && range.size === latest.size) return failure ? { failure } : {};
    const signer = this.signer;
    const root = range.root();
    const row: CheckpointRow = {
      size: range.size,
      root_hash: toHex(root),
      note: signCheckpoint({ origin: signer.name, size: range.size, rootHash: root }, signer),
      // Derived from the tiles when needed (rangeAt); not stored again with every checkpoint.
      range_state: '',
      key_id: keyIdHex(signer.keyId),
      signed_by: this.replica,
      created_at: this.deps.clock.now().toISOString(),
    };
    // The signer's own record comes first: a checkpoint it would not admit later is never
    // committed, and one committed is always one it remembers.
    const cp = { origin: signer.name, size: row.size, rootHash: root };
    await this.guard.record(row.note, cp, latest?.size ?? 0, admission.macsFrom);
    await database.db.transaction().execute(async (tx) => {
      // Another leader (one that lost its lock unnoticed) may have moved on: never fork.
      const current = await store.latestCheckpoint(tx);
      if ((current?.size ?? -1) !== (latest?.size ?? -1)) {
        throw new ConcurrentIntegrationError(
          `checkpoint ${current?.size} appeared while integrating from ${latest?.size}`,
        );
      }
      await store.insertHashes(tx, hashes);
      if (recovered && recovered.size < row.size)
        await store.insertCheckpoint(tx, {
          ...row,
          size: recovered.size,
          root_hash: toHex(recovered.range.root()),
          note: recovered.note,
        });
      await store.insertCheckpoint(tx, row);
    });
    this.rangeCache = { size: row.size, root: row.root_hash, range: range.clone() };
    return failure ? { checkpoint: row, failure } : { checkpoint: row };
  }

  // Appends the leaves that follow the range, in order, while each is authentic; returns the
  // control failure at the first entry that is not (no MAC where one is due, or a wrong one).
  private appendAuthentic(
    range: CompactRange,
    leaves: readonly AuthenticatedLeaf[],
    macsFrom: number,
    visit: (level: number, index: number, hash: Uint8Array) => void,
  ): ControlFailure | undefined {
    const auth = this.auth;
    const start = range.size;
    for (const [i, e] of leaves.entries()) {
      if (e.seq !== start + i) break; // not yet committed below this one: stop at the gap
      // A valid MAC proves the application wrote this very (well-formed) leaf hash; a row
      // from before entry MACs only has to be well formed.
      const legacy = e.mac === null && e.seq < macsFrom;
      const ok = legacy ? leafHex.test(e.leafHash) : auth.verify(e.seq, e.leafHash, e.mac);
      if (!ok)
        return {
          code: ledgerErrors.LEDGER_ENTRY_UNAUTHENTICATED.code,
          seq: e.seq,
          message: `audit entry ${e.seq} ${legacy ? 'has a malformed leaf hash' : e.mac === null ? 'has no entry MAC' : 'has an entry MAC that does not verify'}: the application did not write it; nothing from entry ${e.seq} on is signed`,
          detectedAt: this.deps.clock.now().toISOString(),
        };
      const h = Buffer.from(e.leafHash, 'hex');
      range.append(new Uint8Array(h.buffer, h.byteOffset, 32), visit);
    }
    return undefined;
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

  /**
   * Integrates everything committed so far; returns the latest checkpoint. Throws the control
   * failure (LEDGER_ENTRY_UNAUTHENTICATED, LEDGER_STATE_INCONSISTENT, LEDGER_HISTORY_TRUNCATED)
   * when the checkpointer had to stop, after signing what it could.
   */
  async integrateAll(): Promise<CheckpointRow | undefined> {
    return this.serialize(async () => {
      // Everything committed when this starts (in batches); entries arriving meanwhile wait
      // for the next tick, so a busy log signs about one checkpoint per tick, not per batch
      // of arrivals.
      const target = await this.deps.audit.size();
      try {
        for (;;) {
          const { checkpoint, failure } = await this.integrateOnce();
          if (failure)
            throw new DomainError(ledgerErrors.LEDGER_ENTRY_UNAUTHENTICATED, failure.message, {
              seq: failure.seq,
            });
          if (!checkpoint || checkpoint.size >= target) break;
        }
      } catch (err) {
        await this.reportFailure(err);
        throw err;
      }
      this.failure = undefined;
      return this.deps.store.latestCheckpoint(this.deps.database.db);
    });
  }

  private static readonly controlCodes = new Set<string>([
    ledgerErrors.LEDGER_ENTRY_UNAUTHENTICATED.code,
    ledgerErrors.LEDGER_STATE_INCONSISTENT.code,
    ledgerErrors.LEDGER_HISTORY_TRUNCATED.code,
    ledgerErrors.LEDGER_STATE_INVALID.code,
    ledgerErrors.LEDGER_ENTRY_TAMPERED.code,
  ]);

  // A control failure is logged, kept for the status route and recorded once (a table every
  // replica reads, and an audit entry that reaches the SIEM streams). Other errors (a lost
  // connection) are the caller's to log.
  private async reportFailure(err: unknown): Promise<void> {
    if (!(err instanceof DomainError) || !LedgerService.controlCodes.has(err.code)) return;
    const seq = typeof err.details?.seq === 'number' ? err.details.seq : -1;
    const same = this.failure?.code === err.code && this.failure.seq === seq;
    const failure: ControlFailure = same
      ? this.failure!
      : {
          code: err.code,
          seq,
          message: err.message,
          detectedAt: this.deps.clock.now().toISOString(),
        };
    this.failure = failure;
    if (same) return;
    this.deps.logger.error(
      { code: failure.code, seq: failure.seq, stateFile: this.guard.file },
      `ledger control failure: ${failure.message}`,
    );
    try {
      const fresh = await this.deps.store.recordControlFailure(this.deps.database.db, {
        code: failure.code,
        seq: failure.seq,
        message: failure.message.slice(0, 1000),
        detected_at: failure.detectedAt,
        detected_by: this.replica,
      });
      if (fresh) await this.deps.onControlFailure?.(failure);
    } catch (recordErr) {
      this.deps.logger.error({ err: recordErr }, 'ledger: could not record the control failure');
    }
  }

  /**
   * The failure the log currently stops at: this replica's own, else one recorded by the
   * leader after the latest checkpoint was signed (so still unresolved).
   */
  async openControlFailure(): Promise<ControlFailure | undefined> {
    if (this.failure) return this.failure;
    const db = this.deps.database.db;
    const row = await this.deps.store.latestControlFailure(db);
    if (!row) return undefined;
    const latest = await this.deps.store.latestCheckpoint(db);
    if (latest && latest.created_at > row.detected_at) return undefined;
    return { code: row.code, seq: row.seq, message: row.message, detectedAt: row.detected_at };
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

  // `db`: read inside a caller's transaction (the controls catalog).
  async latestOrUndefined(db?: AnyDb): Promise<CheckpointRow | undefined> {
    return this.deps.store.latestCheckpoint(db ?? this.deps.database.db);
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
