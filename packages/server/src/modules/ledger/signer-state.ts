import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { fromBase64, openCheckpoint, toBase64, type NoteVerifier } from '@custody/ledger';
import { DomainError } from '../../platform/errors.ts';
import { ledgerErrors } from './errors.ts';

/**
 * What the signer itself remembers of the log, outside the database: the last checkpoint it
 * signed (or accepted as consistent), so that a database rewritten, wiped or cut behind its
 * back is refused instead of re-signed.
 */
export interface SignerState {
  readonly version: 1;
  readonly origin: string;
  readonly size: number;
  /** Base64 root hash, as in the checkpoint. */
  readonly rootHash: string;
  /** The signed checkpoint note. */
  readonly note: string;
  /** The database's latest checkpoint when this one was signed (known to be committed). */
  readonly previousSize: number;
  /** The first seq whose entries must carry an entry MAC (fixed at this state's creation). */
  readonly macsFrom: number;
  readonly updatedAt: string;
}

export interface OpenedSignerState extends SignerState {
  readonly root: Uint8Array;
}

function invalid(file: string, why: string): DomainError {
  return new DomainError(ledgerErrors.LEDGER_STATE_INVALID, `signer state ${file}: ${why}`);
}

const fsyncAsync = promisify(fsync);

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

// The state file, next to the key (mode 0600). Written atomically: a temp file, fsync, then
// rename, so a crash leaves the old state or the new one, never a torn one. (A rename lost
// in a crash leaves the state one checkpoint behind, which the guard accepts through a
// consistency proof; so the directory is not fsynced.) Synchronous but for the fsync: a few
// small calls per checkpoint, where awaiting each behind a busy event loop cost tens of ms,
// while the fsync itself would block the event loop for as long as the disk takes.
export class SignerStateFile {
  private cache: { text: string; state: OpenedSignerState } | undefined;

  constructor(
    readonly file: string,
    private readonly verifier: () => NoteVerifier,
  ) {}

  /** The state, or undefined when there is none yet (first start of this replica's signer). */
  async read(): Promise<OpenedSignerState | undefined> {
    return this.readSync();
  }

  private readSync(): OpenedSignerState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw invalid(this.file, `cannot read it: ${(err as Error).message}`);
    }
    if (this.cache?.text === text) return this.cache.state;
    const state = this.parse(text);
    this.cache = { text, state };
    return state;
  }

  private parse(text: string): OpenedSignerState {
    let v: Partial<SignerState>;
    try {
      v = JSON.parse(text) as Partial<SignerState>;
    } catch {
      throw invalid(this.file, 'not JSON');
    }
    if (
      v.version !== 1 ||
      typeof v.origin !== 'string' ||
      !isCount(v.size) ||
      typeof v.rootHash !== 'string' ||
      typeof v.note !== 'string' ||
      !isCount(v.previousSize) ||
      !isCount(v.macsFrom) ||
      typeof v.updatedAt !== 'string'
    )
      throw invalid(this.file, 'malformed');
    // The note must be this log's own signature over exactly the recorded size and root.
    let opened;
    try {
      opened = openCheckpoint(v.note, this.verifier()).checkpoint;
    } catch (err) {
      throw invalid(
        this.file,
        `its checkpoint is not signed by this log's key: ${(err as Error).message}`,
      );
    }
    if (
      opened.origin !== v.origin ||
      opened.size !== v.size ||
      toBase64(opened.rootHash) !== v.rootHash ||
      v.previousSize > v.size
    )
      throw invalid(this.file, 'its fields do not match its signed checkpoint');
    return { ...(v as SignerState), root: fromBase64(v.rootHash) };
  }

  /**
   * Replaces the state durably. Replicas on one machine that share a key file share this
   * file: a state smaller than the one on disk (a slower replica) does not overwrite it.
   */
  async write(state: Omit<SignerState, 'version'>): Promise<void> {
    let current: OpenedSignerState | undefined;
    try {
      current = this.readSync();
    } catch {
      current = undefined; // unreadable: replaced
    }
    if (current && current.origin === state.origin && current.size > state.size) return;
    const text = JSON.stringify({ version: 1, ...state }, null, 2) + '\n';
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, text);
        await fsyncAsync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
      this.cache = { text, state: { version: 1, ...state, root: fromBase64(state.rootHash) } };
    } catch (err) {
      rmSync(tmp, { force: true });
      throw invalid(this.file, `cannot write it: ${(err as Error).message}`);
    }
  }
}
