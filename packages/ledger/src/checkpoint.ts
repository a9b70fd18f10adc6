// C2SP checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is
//   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]...
import { fromBase64, toBase64 } from './bytes.ts';
import { LedgerError } from './errors.ts';
import { HASH_SIZE } from './merkle.ts';
import { openNote, signNote, type NoteSignature } from './note.ts';
import type { NoteSigner, NoteVerifier } from './note-keys.ts';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Optional extension lines (NOT RECOMMENDED by the spec; each non-empty). */
  readonly extensions?: readonly string[];
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The signed note exactly as given. */
  readonly note: string;
  readonly text: string;
  readonly verified: readonly NoteSignature[];
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_CHECKPOINT_INVALID', message);
}

/** The note text of a checkpoint (not yet signed). */
export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes('\n'))
    invalid('origin must be a non-empty single line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    invalid(`tree size must be a non-negative integer, got ${cp.size}`);
  if (cp.rootHash.length !== HASH_SIZE) invalid('root hash must be 32 bytes');
  const ext = cp.extensions ?? [];
  for (const line of ext)
    if (line.length === 0 || line.includes('\n'))
      invalid('extension lines must be non-empty single lines');
  return [cp.origin, String(cp.size), toBase64(cp.rootHash), ...ext].map((l) => l + '\n').join('');
}

/** Parses checkpoint note text (without signatures). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) invalid('checkpoint text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) invalid('checkpoint text needs origin, size and root hash lines');
  const [origin, sizeText, rootText, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  if (origin.length === 0) invalid('origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    invalid(`tree size '${sizeText}' is not a decimal without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) invalid(`tree size ${sizeText} is too large`);
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText);
  } catch {
    return invalid('root hash is not valid base64');
  }
  if (rootHash.length !== HASH_SIZE) invalid('root hash is not 32 bytes');
  if (extensions.some((l) => l.length === 0)) invalid('extension lines must be non-empty');
  return extensions.length > 0
    ? { origin, size, rootHash, extensions }
    : { origin, size, rootHash };
}

/** Formats and signs a checkpoint; the result is the signed note text. */
export function signCheckpoint(
  cp: Checkpoint,
  signers: NoteSigner | readonly NoteSigner[],
): string {
  return signNote(formatCheckpoint(cp), Array.isArray(signers) ? signers : [signers as NoteSigner]);
}

export interface OpenCheckpointOptions {
  /** Reject checkpoints whose origin differs. */
  readonly origin?: string;
}

/**
 * Verifies a signed checkpoint against trusted keys and parses it. Throws the note errors
 * (LEDGER_NOTE_INVALID, LEDGER_NOTE_BAD_SIGNATURE, LEDGER_NOTE_UNVERIFIED) or
 * LEDGER_CHECKPOINT_INVALID.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  keys: NoteVerifier | string | readonly (NoteVerifier | string)[],
  options: OpenCheckpointOptions = {},
): OpenedCheckpoint {
  const opened = openNote(note, Array.isArray(keys) ? keys : [keys as NoteVerifier | string]);
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    invalid(`checkpoint origin '${checkpoint.origin}' is not the expected '${options.origin}'`);
  }
  const noteText = typeof note === 'string' ? note : new TextDecoder().decode(note);
  return { checkpoint, note: noteText, text: opened.text, verified: opened.verified };
}
