// C2SP tlog-cosignature, Ed25519 form (signature type 0x04): a witness's timestamped
// statement that, at that time, the checkpoint is the largest consistent tree it has seen
// for the log. The note signature is base64(key ID || u64 timestamp || Ed25519 signature)
// over "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint's note text.
//   verifier key  <name>+<hex key ID>+base64(0x04 || 32-byte public key)
//   signer key    PRIVATE+KEY+<name>+<hex key ID>+base64(0x04 || 32-byte seed)
// Key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4].
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, fromBase64, toBase64, utf8Encode } from './bytes.ts';
import { openCheckpoint, type Checkpoint } from './checkpoint.ts';
import { LedgerError } from './errors.ts';
import {
  computeKeyId,
  isValidKeyName,
  keyIdHex,
  parseVerifierKey,
  type NoteVerifier,
} from './note-keys.ts';
import { parseNote, type NoteSignature } from './note.ts';

export const ALG_COSIGNATURE_V1 = 0x04;

/** A witness's key: cosigns checkpoint note texts at a given time. */
export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  /** The note signature over `text` (a checkpoint's note text) at `timestamp` (POSIX seconds). */
  cosign(text: string, timestamp: number): NoteSignature;
}

/** A verifier for cosignatures; also usable with openNote (verify gets the note text). */
export interface CosignatureVerifier extends NoteVerifier {
  /** The timestamp of a cosignature that verifies, else undefined. */
  verifyCosignature(text: Uint8Array, signature: Uint8Array): number | undefined;
}

function keyError(message: string): never {
  throw new LedgerError('LEDGER_KEY_INVALID', message);
}

/** The message an Ed25519 cosignature signs. */
export function cosignatureMessage(text: string | Uint8Array, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new LedgerError('LEDGER_COSIGNATURE_INVALID', 'timestamp must be a non-negative integer');
  const body = typeof text === 'string' ? utf8Encode(text) : text;
  return concatBytes(utf8Encode(`cosignature/v1\ntime ${timestamp}\n`), body);
}

function formatKey(name: string, keyId: number, material: Uint8Array): string {
  return `${name}+${keyIdHex(keyId)}+${toBase64(concatBytes(Uint8Array.of(ALG_COSIGNATURE_V1), material))}`;
}

function splitKey(text: string, fields: number): string[] {
  const out: string[] = [];
  let rest = text.trim();
  for (let i = 0; i < fields; i++) {
    const at = rest.indexOf('+');
    if (at < 0) keyError('cosigner key has too few fields');
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  return out;
}

function material(name: string, idText: string, b64: string): Uint8Array {
  if (!isValidKeyName(name)) keyError(`invalid key name '${name}'`);
  if (!/^[0-9a-f]{8}$/.test(idText)) keyError(`key ID must be 8 lowercase hex digits`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(b64);
  } catch {
    return keyError('key material is not valid base64');
  }
  if (bytes[0] !== ALG_COSIGNATURE_V1)
    keyError(
      `not a cosignature/v1 key (signature type ${bytes[0] ?? 'none'}, expected ${ALG_COSIGNATURE_V1})`,
    );
  if (bytes.length !== 33) keyError('Ed25519 cosigner keys hold 32 bytes');
  return bytes.subarray(1);
}

function makeVerifier(name: string, publicKey: Uint8Array): CosignatureVerifier {
  const pub = publicKey.slice();
  const keyId = computeKeyId(name, ALG_COSIGNATURE_V1, pub);
  const verifyCosignature = (text: Uint8Array, signature: Uint8Array): number | undefined => {
    if (signature.length !== 8 + 64) return undefined;
    const view = new DataView(signature.buffer, signature.byteOffset, 8);
    const timestamp = view.getBigUint64(0);
    if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const t = Number(timestamp);
    try {
      const ok = ed25519.verify(signature.subarray(8), cosignatureMessage(text, t), pub, {
        zip215: false,
      });
      return ok ? t : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    name,
    keyId,
    verifierKey: formatKey(name, keyId, pub),
    verify: (message, signature) => verifyCosignature(message, signature) !== undefined,
    verifyCosignature,
  };
}

/** Parses a cosigner (witness) verifier key: `name+keyid+base64(0x04 || public key)`. */
export function parseCosignerVerifierKey(text: string): CosignatureVerifier {
  const [name, idText, b64] = splitKey(text, 2) as [string, string, string];
  const pub = material(name, idText, b64);
  if (computeKeyId(name, ALG_COSIGNATURE_V1, pub) !== parseInt(idText, 16))
    keyError(`key ID ${idText} does not match the key`);
  try {
    ed25519.Point.fromBytes(pub, false);
  } catch {
    keyError('public key is not a valid Ed25519 point');
  }
  return makeVerifier(name, pub);
}

/** Parses a witness's private key: `PRIVATE+KEY+name+keyid+base64(0x04 || seed)`. */
export function parseCosignerKey(text: string): Cosigner {
  const parts = splitKey(text, 4);
  if (parts[0] !== 'PRIVATE' || parts[1] !== 'KEY')
    keyError('cosigner key must be PRIVATE+KEY+<name>+<key ID>+<base64 key>');
  const [, , name, idText, b64] = parts as [string, string, string, string, string];
  const seed = material(name, idText, b64).slice();
  const pub = ed25519.getPublicKey(seed);
  const keyId = computeKeyId(name, ALG_COSIGNATURE_V1, pub);
  if (keyId !== parseInt(idText, 16)) keyError(`key ID ${idText} does not match the key`);
  return {
    name,
    keyId,
    verifierKey: formatKey(name, keyId, pub),
    cosign(text, timestamp) {
      const sig = ed25519.sign(cosignatureMessage(text, timestamp), seed);
      const out = new Uint8Array(8 + sig.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
      out.set(sig, 8);
      return { name, keyId, signature: out };
    },
  };
}

/** A fresh witness key pair in text form. */
export function generateCosignerKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) keyError(`invalid key name '${name}'`);
  const seed = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(seed);
  const keyId = computeKeyId(name, ALG_COSIGNATURE_V1, pub);
  return {
    signerKey: `PRIVATE+KEY+${formatKey(name, keyId, seed)}`,
    verifierKey: formatKey(name, keyId, pub),
  };
}

export interface WitnessCosignature {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  /** When the witness cosigned (POSIX seconds). */
  readonly timestamp: number;
}

export type CosignedCheckpointResult =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      /** One per trusted witness whose cosignature verified. */
      readonly cosignatures: readonly WitnessCosignature[];
    }
  | {
      readonly ok: false;
      readonly code:
        | 'LEDGER_KEY_INVALID'
        | 'LEDGER_CHECKPOINT_INVALID'
        | 'LEDGER_CHECKPOINT_SIGNATURE_INVALID'
        | 'LEDGER_COSIGNATURE_INVALID'
        | 'LEDGER_WITNESS_QUORUM_NOT_MET';
      readonly message: string;
      readonly cosignatures?: readonly WitnessCosignature[];
    };

/**
 * Checks a checkpoint carrying witness cosignatures: signed by the log key, and cosigned by
 * at least `quorum` distinct trusted witnesses. Lines from keys not given are ignored (as
 * the spec requires); a trusted witness's line that does not verify fails the check.
 */
export function verifyCosignedCheckpoint(
  note: string,
  options: {
    readonly logKeys: string | NoteVerifier | readonly (string | NoteVerifier)[];
    readonly witnessKeys: readonly (string | CosignatureVerifier)[];
    readonly quorum: number;
  },
): CosignedCheckpointResult {
  let witnesses: CosignatureVerifier[];
  let logKeys: NoteVerifier[];
  try {
    const keys = Array.isArray(options.logKeys) ? options.logKeys : [options.logKeys];
    logKeys = (keys as (string | NoteVerifier)[]).map((k) =>
      typeof k === 'string' ? parseVerifierKey(k) : k,
    );
    witnesses = options.witnessKeys.map((k) =>
      typeof k === 'string' ? parseCosignerVerifierKey(k) : k,
    );
  } catch (e) {
    return { ok: false, code: 'LEDGER_KEY_INVALID', message: (e as Error).message };
  }
  let checkpoint: Checkpoint;
  let text: Uint8Array;
  try {
    const opened = openCheckpoint(note, logKeys);
    checkpoint = opened.checkpoint;
    text = utf8Encode(opened.text);
  } catch (e) {
    if (!(e instanceof LedgerError)) throw e;
    const signature = e.code === 'LEDGER_NOTE_UNVERIFIED' || e.code === 'LEDGER_NOTE_BAD_SIGNATURE';
    return {
      ok: false,
      code: signature ? 'LEDGER_CHECKPOINT_SIGNATURE_INVALID' : 'LEDGER_CHECKPOINT_INVALID',
      message: e.message,
    };
  }
  const found = new Map<string, WitnessCosignature>();
  for (const sig of parseNote(note).signatures) {
    const w = witnesses.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!w) continue;
    const timestamp = w.verifyCosignature(text, sig.signature);
    if (timestamp === undefined)
      return {
        ok: false,
        code: 'LEDGER_COSIGNATURE_INVALID',
        message: `the cosignature by witness ${w.name}+${keyIdHex(w.keyId)} does not verify`,
      };
    const prev = found.get(w.verifierKey);
    if (!prev || prev.timestamp < timestamp)
      found.set(w.verifierKey, {
        name: w.name,
        keyId: w.keyId,
        verifierKey: w.verifierKey,
        timestamp,
      });
  }
  const cosignatures = [...found.values()];
  if (cosignatures.length < options.quorum)
    return {
      ok: false,
      code: 'LEDGER_WITNESS_QUORUM_NOT_MET',
      message: `the checkpoint of size ${checkpoint.size} is cosigned by ${cosignatures.length} of the ${witnesses.length} trusted witness(es); ${options.quorum} required`,
      cosignatures,
    };
  return { ok: true, checkpoint, cosignatures };
}
