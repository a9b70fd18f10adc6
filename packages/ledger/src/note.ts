// C2SP signed notes (c2sp.org/signed-note): text ending in a newline, a blank line, then
// one or more lines "— <name> base64(key ID || signature)". Verification follows the spec:
// signatures from unknown keys are ignored, a known key's bad signature rejects the note,
// and a note with no verified signature is rejected.
import {
  bytesEqual,
  fromBase64,
  isWellFormedString,
  toBase64,
  utf8Decode,
  utf8Encode,
} from './bytes.ts';
import { LedgerError } from './errors.ts';
import {
  isValidKeyName,
  keyIdHex,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
} from './note-keys.ts';

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature proper, without the 4-byte key ID prefix. */
  readonly signature: Uint8Array;
}

export interface Note {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface OpenedNote extends Note {
  /** Signatures that verified with one of the given keys. */
  readonly verified: readonly NoteSignature[];
  /** Signatures from keys that were not given (ignored, as the spec requires). */
  readonly unknown: readonly NoteSignature[];
}

/** More than the 16 the spec requires us to accept, far fewer than an abuse would need. */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 ';

function invalid(message: string): never {
  throw new LedgerError('LEDGER_NOTE_INVALID', message);
}

function checkText(text: string, what: string): void {
  // Only newline is allowed among the ASCII control characters.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) invalid(`${what} contains a control character`);
  if (!isWellFormedString(text)) invalid(`${what} is not valid Unicode`);
}

function toText(message: string | Uint8Array): string {
  if (typeof message === 'string') return message;
  try {
    return utf8Decode(message);
  } catch {
    return invalid('note is not valid UTF-8');
  }
}

/** Splits a signed note into text and signatures. Checks the format only, not signatures. */
export function parseNote(message: string | Uint8Array): Note {
  const msg = toText(message);
  checkText(msg, 'note');
  if (!msg.endsWith('\n')) invalid('note does not end in a newline');
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) invalid('note has no signature block');
  const text = msg.slice(0, split + 1);
  const lines = msg.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    invalid(`note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) invalid('malformed signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) invalid('malformed signature line');
    const name = rest.slice(0, space);
    const b64 = rest.slice(space + 1);
    if (!isValidKeyName(name)) invalid(`invalid key name '${name}' in signature line`);
    let raw: Uint8Array;
    try {
      raw = fromBase64(b64);
    } catch {
      return invalid('signature is not valid base64');
    }
    if (raw.length < 5) invalid('signature is too short');
    const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
    signatures.push({ name, keyId, signature: raw.slice(4) });
  }
  return { text, signatures };
}

/** One signature line of a note: `— <name> base64(key ID || signature)` and a newline. */
export function signatureLine(s: NoteSignature): string {
  const raw = new Uint8Array(4 + s.signature.length);
  new DataView(raw.buffer).setUint32(0, s.keyId);
  raw.set(s.signature, 4);
  return `${SIG_PREFIX}${s.name} ${toBase64(raw)}\n`;
}

/** Formats a note; the text must be a valid note text ending in a newline. */
export function formatNote(note: Note): string {
  checkNoteText(note.text);
  if (note.signatures.length === 0) invalid('a signed note needs at least one signature');
  return note.text + '\n' + note.signatures.map(signatureLine).join('');
}

function checkNoteText(text: string): void {
  checkText(text, 'note text');
  if (!text.endsWith('\n')) invalid('note text must end in a newline');
}

/**
 * Signs text with each signer and returns the signed note. Existing signatures (for
 * example a log's own, when a witness cosigns) can be passed to keep them first.
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  checkNoteText(text);
  const bytes = utf8Encode(text);
  const signatures = [
    ...existing,
    ...signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) })),
  ];
  return formatNote({ text, signatures });
}

function toVerifiers(keys: readonly (NoteVerifier | string)[]): NoteVerifier[] {
  return keys.map((k) => (typeof k === 'string' ? parseVerifierKey(k) : k));
}

/**
 * Parses and verifies a signed note against trusted keys (verifier objects or key texts).
 * Throws LEDGER_NOTE_INVALID (malformed), LEDGER_NOTE_BAD_SIGNATURE (a trusted key's
 * signature does not verify) or LEDGER_NOTE_UNVERIFIED (no signature by a trusted key).
 */
export function openNote(
  message: string | Uint8Array,
  keys: readonly (NoteVerifier | string)[],
): OpenedNote {
  const note = parseNote(message);
  const verifiers = toVerifiers(keys);
  const bytes = utf8Encode(note.text);
  const verified: NoteSignature[] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of note.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v) {
      unknown.push(sig);
      continue;
    }
    if (!v.verify(bytes, sig.signature)) {
      throw new LedgerError(
        'LEDGER_NOTE_BAD_SIGNATURE',
        `signature by ${sig.name}+${keyIdHex(sig.keyId)} does not verify`,
      );
    }
    if (
      !verified.some(
        (s) =>
          s.name === sig.name && s.keyId === sig.keyId && bytesEqual(s.signature, sig.signature),
      )
    )
      verified.push(sig);
  }
  if (verified.length === 0) {
    const by = note.signatures.map((s) => `${s.name}+${keyIdHex(s.keyId)}`).join(', ');
    const want = verifiers.map((v) => `${v.name}+${keyIdHex(v.keyId)}`).join(', ');
    throw new LedgerError(
      'LEDGER_NOTE_UNVERIFIED',
      `note is not signed by a trusted key (signed by ${by}; trusted: ${want || 'none'})`,
    );
  }
  return { ...note, verified, unknown };
}

/** Boolean form of openNote. */
export function verifyNote(
  message: string | Uint8Array,
  keys: readonly (NoteVerifier | string)[],
): boolean {
  try {
    openNote(message, keys);
    return true;
  } catch (e) {
    if (e instanceof LedgerError) return false;
    throw e;
  }
}
