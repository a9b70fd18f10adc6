// c2sp.org/tlog-proof@v1: an offline-verifiable inclusion proof, i.e. the entry index, the
// RFC 6962 inclusion path and the signed checkpoint in one text file (.tlog-proof). This is
// what `custody audit proof SEQ` can hand to an auditor.
import { fromBase64, toBase64 } from './bytes.ts';
import { openCheckpoint, type Checkpoint } from './checkpoint.ts';
import { LedgerError } from './errors.ts';
import { HASH_SIZE, leafHash } from './merkle.ts';
import type { NoteVerifier } from './note-keys.ts';
import { assertInclusion } from './proofs.ts';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  readonly index: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
  /** Opaque, unauthenticated extra data. */
  readonly extra?: Uint8Array;
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_PROOF_INVALID', `tlog-proof: ${message}`);
}

export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0)
    invalid('index must be a non-negative integer');
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`);
  for (const h of p.proof) {
    if (h.length !== HASH_SIZE) invalid('proof hashes must be 32 bytes');
    lines.push(toBase64(h));
  }
  return lines.join('\n') + '\n\n' + p.checkpoint;
}

export function parseTlogProof(text: string): TlogProof {
  const lines = text.split('\n');
  let i = 0;
  if (lines[i++] !== TLOG_PROOF_HEADER) invalid(`first line must be ${TLOG_PROOF_HEADER}`);
  let extra: Uint8Array | undefined;
  if (lines[i]?.startsWith('extra ')) {
    try {
      extra = fromBase64(lines[i]!.slice(6));
    } catch {
      invalid('extra is not base64');
    }
    i++;
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[i++] ?? '');
  if (!m) invalid('missing or malformed index line');
  const index = Number(m[1]);
  if (!Number.isSafeInteger(index)) invalid('index is too large');
  const proof: Uint8Array[] = [];
  for (; i < lines.length && lines[i] !== ''; i++) {
    let h: Uint8Array;
    try {
      h = fromBase64(lines[i]!);
    } catch {
      return invalid(`proof line ${proof.length + 1} is not base64`);
    }
    if (h.length !== HASH_SIZE) invalid(`proof line ${proof.length + 1} is not a 32-byte hash`);
    proof.push(h);
  }
  if (i >= lines.length) invalid('missing empty line before the checkpoint');
  const checkpoint = lines.slice(i + 1).join('\n');
  if (checkpoint.length === 0) invalid('missing checkpoint');
  return { index, proof, checkpoint, ...(extra ? { extra } : {}) };
}

/**
 * Verifies a tlog-proof for the given entry bytes: checkpoint signature by a trusted key
 * (and origin, if given), then the inclusion path to its root. Returns the checkpoint.
 * Throws LedgerError (note, checkpoint or LEDGER_PROOF_INVALID codes).
 */
export function verifyTlogProof(
  text: string,
  entry: Uint8Array,
  keys: string | NoteVerifier | readonly (string | NoteVerifier)[],
  options: { readonly origin?: string } = {},
): Checkpoint {
  const p = parseTlogProof(text);
  const { checkpoint } = openCheckpoint(p.checkpoint, keys, options);
  assertInclusion(leafHash(entry), p.index, checkpoint.size, p.proof, checkpoint.rootHash);
  return checkpoint;
}
