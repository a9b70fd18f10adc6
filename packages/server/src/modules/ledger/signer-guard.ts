import type { CompactRange } from '@custody/ledger';
import {
  TILE_HEIGHT,
  assertConsistency,
  bytesEqual,
  emptyRoot,
  openCheckpoint,
  toBase64,
  type Checkpoint,
  type NoteVerifier,
} from '@custody/ledger';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import type { AuthenticatedLeaf } from '../audit/index.ts';
import { ledgerErrors } from './errors.ts';
import type { CheckpointRow, NodeHash } from './ledger-store.ts';
import type { OpenedSignerState, SignerStateFile } from './signer-state.ts';

/** What the guard needs from the log as the database holds it. */
export interface GuardSources {
  /** Consistency proof from size `from` to the latest checkpoint's size `to`, from the stored tiles. */
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;
  leafHashes(afterSeq: number, limit: number): Promise<AuthenticatedLeaf[]>;
  auditSize(): Promise<number>;
  macsFrom(): Promise<number>;
}

/** The go-ahead for one integration. */
export interface Admission {
  /** Entries from this seq on must carry a valid entry MAC. */
  readonly macsFrom: number;
  /**
   * Set when the database lacks the last checkpoint this signer signed (a crash between the
   * state write and the commit) and its entries were shown to hash to the signed root: the
   * integration continues from this range and stores its tiles and this note too.
   */
  readonly recovered?: {
    readonly range: CompactRange;
    readonly hashes: readonly NodeHash[];
    readonly size: number;
    readonly note: string;
  };
}

// Before every integration, the checkpointer asks the guard whether the tree the database
// holds is one this signer may extend. The signer's state file (its last signed size and
// root, next to its key) is the reference: the database must hold at least that much
// history, and the checkpoint it holds must be signed by the log key and provably extend it.
export class SignerGuard {
  constructor(
    private readonly deps: {
      stateFile: SignerStateFile;
      verifier: () => NoteVerifier;
      sources: GuardSources;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  get file(): string {
    return this.deps.stateFile.file;
  }

  /**
   * Checks the database's latest checkpoint (and the compact range rebuilt from its tiles)
   * against the signer's state. Throws LEDGER_STATE_INCONSISTENT, LEDGER_HISTORY_TRUNCATED
   * or LEDGER_STATE_INVALID; never signs.
   */
  async admit(latest: CheckpointRow | undefined, range: CompactRange): Promise<Admission> {
    const state = await this.deps.stateFile.read();
    if (!state) return this.firstStart(latest);
    if (latest && latest.note === state.note) return { macsFrom: state.macsFrom };
    if (latest && latest.size >= state.size) return this.catchUp(state, latest);
    return this.recover(state, latest, range);
  }

  /** Records a checkpoint about to be committed; must succeed before the commit. */
  async record(
    note: string,
    cp: { size: number; rootHash: Uint8Array; origin: string },
    previousSize: number,
    macsFrom: number,
  ): Promise<void> {
    await this.deps.stateFile.write({
      origin: cp.origin,
      size: cp.size,
      rootHash: toBase64(cp.rootHash),
      note,
      previousSize,
      macsFrom,
      updatedAt: this.deps.clock.now().toISOString(),
    });
  }

  // No state file: the first start of this replica's signer. A log with checkpoints is
  // trusted as far as its latest one signed by the log key; the state starts there.
  private async firstStart(latest: CheckpointRow | undefined): Promise<Admission> {
    const macsFrom = await this.deps.sources.macsFrom();
    if (!latest) return { macsFrom };
    const cp = this.signed(latest);
    await this.record(latest.note, cp, latest.size, macsFrom);
    this.deps.logger.warn(
      { stateFile: this.file, size: cp.size },
      'ledger signer state created: first start of this replica, trusting the latest checkpoint signed by the log key',
    );
    return { macsFrom };
  }

  // The database is ahead of the state (another replica signed meanwhile): accepted only if
  // signed by the log key and provably consistent with the state, through tiles it holds.
  private async catchUp(state: OpenedSignerState, latest: CheckpointRow): Promise<Admission> {
    const cp = this.signed(latest);
    const fail = (why: string): never => {
      throw new DomainError(
        ledgerErrors.LEDGER_STATE_INCONSISTENT,
        `the database's checkpoint of size ${cp.size} does not extend the signer's state (size ${state.size}): ${why}`,
        { seq: state.size, stateSize: state.size, checkpointSize: cp.size },
      );
    };
    if (cp.size === state.size) {
      if (!bytesEqual(cp.rootHash, state.root)) fail('same size, another root');
    } else if (state.size === 0) {
      if (!bytesEqual(state.root, emptyRoot())) fail('the state at size 0 is not the empty tree');
    } else {
      try {
        const proof = await this.deps.sources.consistencyProof(state.size, cp.size);
        assertConsistency(state.size, cp.size, proof, state.root, cp.rootHash);
      } catch (err) {
        fail(`the consistency proof from the stored tiles fails (${(err as Error).message})`);
      }
    }
    await this.record(latest.note, cp, latest.size, state.macsFrom);
    return { macsFrom: state.macsFrom };
  }

  // The database is behind the state. Only the crash window is legitimate: the state was
  // written, the checkpoint's commit was not. Then the checkpoint the state extended from is
  // still there, and the entries after it hash to the state's root. Anything else is named:
  // entries cut, entries rewritten, or signed checkpoints deleted.
  private async recover(
    state: OpenedSignerState,
    latest: CheckpointRow | undefined,
    range: CompactRange,
  ): Promise<Admission> {
    if (latest) this.signed(latest);
    const size = await this.deps.sources.auditSize();
    // `seq` (and the message) must not move as new entries arrive: a failure is reported
    // once per code and seq, and each report is itself a new entry.
    if (size < state.size)
      throw new DomainError(
        ledgerErrors.LEDGER_HISTORY_TRUNCATED,
        `this signer signed the log up to size ${state.size}, but the audit trail holds fewer entries: entries after the database's latest checkpoint (size ${latest?.size ?? 0}) were deleted`,
        { seq: latest?.size ?? 0, stateSize: state.size, entries: size },
      );
    // Diagnosing a wiped database rebuilds the tree from every entry: once per 30 s at most.
    const key = `${latest?.size ?? -1}:${latest?.note ?? ''}:${state.note}`;
    const memo = this.refused;
    if (memo && memo.key === key && Date.now() - memo.at < 30_000) throw memo.error;
    try {
      return await this.rebuildToState(state, latest, range);
    } catch (err) {
      if (err instanceof DomainError) this.refused = { key, at: Date.now(), error: err };
      throw err;
    }
  }

  private refused: { key: string; at: number; error: DomainError } | undefined;

  private async rebuildToState(
    state: OpenedSignerState,
    latest: CheckpointRow | undefined,
    range: CompactRange,
  ): Promise<Admission> {
    const have = latest?.size ?? 0;
    const { rebuilt, hashes } = await this.rebuild(range, state.size);
    if (!bytesEqual(rebuilt.root(), state.root))
      throw new DomainError(
        ledgerErrors.LEDGER_STATE_INCONSISTENT,
        `the entries from ${have} to ${state.size - 1} no longer hash to the root this signer signed at size ${state.size}: history was rewritten${have < state.previousSize ? ', and signed checkpoints were deleted' : ''}`,
        { seq: have, stateSize: state.size, checkpointSize: latest?.size ?? null },
      );
    if (have < state.previousSize)
      throw new DomainError(
        ledgerErrors.LEDGER_HISTORY_TRUNCATED,
        `this signer signed the log up to size ${state.size} after a committed checkpoint of size ${state.previousSize}, but the database's latest checkpoint is ${latest ? `of size ${have}` : 'gone'}: signed checkpoints were deleted (the entries still hash to the signed root)`,
        { seq: have, stateSize: state.size, checkpointSize: latest?.size ?? null },
      );
    this.deps.logger.warn(
      { size: state.size, checkpointSize: have },
      'ledger: the last signed checkpoint was not committed; committing it again from the signer state',
    );
    return {
      macsFrom: state.macsFrom,
      recovered: { range: rebuilt, hashes, size: state.size, note: state.note },
    };
  }

  // The compact range extended from `range` by the stored leaf hashes up to `size`.
  private async rebuild(
    range: CompactRange,
    size: number,
  ): Promise<{ rebuilt: CompactRange; hashes: NodeHash[] }> {
    const rebuilt = range.clone();
    const hashes: NodeHash[] = [];
    const visit = (level: number, index: number, hash: Uint8Array): void => {
      if (level % TILE_HEIGHT === 0) hashes.push({ level: level / TILE_HEIGHT, idx: index, hash });
    };
    while (rebuilt.size < size) {
      const leaves = await this.deps.sources.leafHashes(
        rebuilt.size - 1,
        Math.min(20_000, size - rebuilt.size),
      );
      if (leaves.length === 0 || leaves[0]!.seq !== rebuilt.size)
        throw new DomainError(
          ledgerErrors.LEDGER_HISTORY_TRUNCATED,
          `entry ${rebuilt.size} is missing, but this signer signed the log up to size ${size}`,
          { seq: rebuilt.size, stateSize: size },
        );
      for (const e of leaves) {
        if (e.seq !== rebuilt.size || rebuilt.size >= size) break;
        const h = Buffer.from(e.leafHash, 'hex');
        if (h.length !== 32)
          throw new DomainError(
            ledgerErrors.LEDGER_STATE_INCONSISTENT,
            `audit entry ${e.seq} has a malformed leaf hash`,
            { seq: e.seq, stateSize: size },
          );
        rebuilt.append(new Uint8Array(h.buffer, h.byteOffset, 32), visit);
      }
    }
    return { rebuilt, hashes };
  }

  // A checkpoint row counts only through its note: signed by the log key, for that size.
  private signed(row: CheckpointRow): Checkpoint {
    let cp: Checkpoint;
    try {
      cp = openCheckpoint(row.note, this.deps.verifier()).checkpoint;
    } catch (err) {
      throw new DomainError(
        ledgerErrors.LEDGER_STATE_INCONSISTENT,
        `the database's checkpoint of size ${row.size} is not signed by this log's key: ${(err as Error).message}`,
        { seq: row.size, checkpointSize: row.size },
      );
    }
    if (cp.size !== row.size || Buffer.from(cp.rootHash).toString('hex') !== row.root_hash)
      throw new DomainError(
        ledgerErrors.LEDGER_STATE_INCONSISTENT,
        `the database's checkpoint row of size ${row.size} does not match its signed note`,
        { seq: row.size, checkpointSize: row.size },
      );
    return cp;
  }
}
