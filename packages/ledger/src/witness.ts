// The C2SP tlog-witness protocol, without HTTP: the add-checkpoint request body a log sends,
// and the checks a witness makes before it cosigns (c2sp.org/tlog-witness). The log side
// formats requests and merges the returned cosignature lines; a witness runs
// checkAddCheckpoint under a lock that also covers persisting the new state.
import { fromBase64, toBase64, toHex, utf8Decode, utf8Encode } from './bytes.ts';
import { openCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { LedgerError } from './errors.ts';
import { emptyRoot, HASH_SIZE } from './merkle.ts';
import type { NoteVerifier } from './note-keys.ts';
import { parseNote, type NoteSignature } from './note.ts';
import { assertConsistency } from './proofs.ts';
import { sha256 } from '#sha256';

/** The spec's limit on consistency proof lines. */
export const MAX_WITNESS_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_WITNESS_REQUEST_INVALID', message);
}

/** The body of `POST <submission prefix>/add-checkpoint`. */
export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(request.oldSize) || request.oldSize < 0)
    invalid('old size must be a non-negative integer');
  if (request.proof.length > MAX_WITNESS_PROOF_LINES) invalid('consistency proof is too long');
  const lines = [`old ${request.oldSize}`, ...request.proof.map((h) => toBase64(h))];
  return lines.map((l) => l + '\n').join('') + '\n' + request.checkpoint;
}

/** Parses an add-checkpoint body; throws LEDGER_WITNESS_REQUEST_INVALID (HTTP 400). */
export function parseAddCheckpointRequest(body: string | Uint8Array): AddCheckpointRequest {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8Decode(body);
  } catch {
    return invalid('body is not UTF-8');
  }
  const blank = text.indexOf('\n\n');
  if (blank < 0) invalid('no empty line before the checkpoint');
  const head = text.slice(0, blank).split('\n');
  const m = /^old (0|[1-9][0-9]*)$/.exec(head[0] ?? '');
  if (!m) invalid('the first line must be "old <size>"');
  const oldSize = Number(m[1]);
  if (!Number.isSafeInteger(oldSize)) invalid('old size is too large');
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_WITNESS_PROOF_LINES) invalid('more than 63 consistency proof lines');
  const proof = proofLines.map((line) => {
    let h: Uint8Array;
    try {
      h = fromBase64(line);
    } catch {
      return invalid('a consistency proof line is not base64');
    }
    if (h.length !== HASH_SIZE || toBase64(h) !== line)
      invalid('a consistency proof line is not one base64 hash');
    return h;
  });
  return { oldSize, proof, checkpoint: text.slice(blank + 2) };
}

/** What a witness has recorded for one log: its latest cosigned checkpoint. */
export interface WitnessedState {
  readonly size: number;
  readonly rootHash: Uint8Array;
}

export type AddCheckpointDecision =
  | {
      readonly status: 200;
      readonly checkpoint: Checkpoint;
      readonly text: string;
      /** The log signatures the witness verified (what it serves back with its own). */
      readonly verified: readonly NoteSignature[];
    }
  | { readonly status: 400 | 403 | 404 | 422; readonly message: string }
  | { readonly status: 409; readonly message: string; readonly latestSize: number };

/**
 * The witness's checks, in the spec's order: a well-formed body (400), a known origin (404),
 * a valid signature by a trusted log key (403), old size not beyond the checkpoint (400), old
 * size equal to the latest cosigned size (409, with that size), the empty root at size 0, an
 * empty proof from 0, and a consistency proof that verifies (422). A 200 means: cosign
 * `text` and persist `checkpoint` as the new state, atomically with this check.
 */
export function checkAddCheckpoint(
  body: string | Uint8Array,
  options: {
    /** Trusted keys for an origin, or undefined if the witness does not know the log. */
    readonly logKeys: (origin: string) => readonly NoteVerifier[] | undefined;
    readonly latest: (origin: string) => WitnessedState | undefined;
  },
): AddCheckpointDecision {
  let request: AddCheckpointRequest;
  let origin: string;
  try {
    request = parseAddCheckpointRequest(body);
    origin = parseCheckpoint(parseNote(request.checkpoint).text).origin;
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    return { status: 400, message: e.message };
  }
  const keys = options.logKeys(origin);
  if (!keys || keys.length === 0) return { status: 404, message: `unknown log '${origin}'` };
  let opened;
  try {
    opened = openCheckpoint(request.checkpoint, keys);
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    return { status: 403, message: e.message };
  }
  const cp = opened.checkpoint;
  if (request.oldSize > cp.size)
    return { status: 400, message: `old size ${request.oldSize} exceeds size ${cp.size}` };
  const latest = options.latest(origin);
  const latestSize = latest?.size ?? 0;
  if (request.oldSize !== latestSize)
    return {
      status: 409,
      latestSize,
      message: `old size ${request.oldSize} is not the latest cosigned size ${latestSize}`,
    };
  if (cp.size === 0 && !equal(cp.rootHash, emptyRoot()))
    return { status: 422, message: 'a checkpoint of size 0 must have the empty root' };
  if (request.oldSize === 0) {
    if (request.proof.length > 0)
      return { status: 422, message: 'a proof from size 0 must be empty' };
  } else {
    try {
      assertConsistency(request.oldSize, cp.size, request.proof, latest!.rootHash, cp.rootHash);
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      return {
        status: 422,
        message: `not consistent with the cosigned checkpoint of size ${latestSize}: ${e.message}`,
      };
    }
  }
  return { status: 200, checkpoint: cp, text: opened.text, verified: opened.verified };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The monitoring path element for a log: lowercase hex SHA-256 of its origin. */
export function originHash(origin: string): string {
  return toHex(sha256(utf8Encode(origin)));
}

/**
 * Merges the signature lines an add-checkpoint call returned into the checkpoint note (the
 * spec lets a client concatenate them). Throws LEDGER_NOTE_INVALID if they are malformed.
 */
export function addCosignatureLines(note: string, response: string): string {
  if (response.length === 0 || !response.endsWith('\n'))
    throw new LedgerError('LEDGER_NOTE_INVALID', 'cosignature response must end in a newline');
  for (const line of response.slice(0, -1).split('\n'))
    if (!line.startsWith('\u2014 '))
      throw new LedgerError('LEDGER_NOTE_INVALID', 'cosignature response has a non-signature line');
  const merged = note + response;
  parseNote(merged);
  return merged;
}
