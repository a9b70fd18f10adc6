// C2SP signed-note keys (Ed25519, signature type 0x01) in the text forms used by
// golang.org/x/mod/sumdb/note:
//   verifier key  <name>+<hex key ID>+base64(0x01 || 32-byte public key)
//   signer key    PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || 32-byte seed)
// Key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '#sha256';
import { concatBytes, fromBase64, isWellFormedString, toBase64, utf8Encode } from './bytes.ts';
import { LedgerError } from './errors.ts';

export const ALG_ED25519 = 0x01;

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The verifier key text this verifier was made from. */
  readonly verifierKey: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface GeneratedKey {
  readonly signerKey: string;
  readonly verifierKey: string;
}

function keyError(message: string): never {
  throw new LedgerError('LEDGER_KEY_INVALID', message);
}

/** Key names: non-empty, no Unicode spaces, no '+', no control characters. */
export function isValidKeyName(name: string): boolean {
  if (name.length === 0 || !isWellFormedString(name) || /[\s+\u0085]/u.test(name)) return false;
  for (let i = 0; i < name.length; i++)
    if (name.charCodeAt(i) < 0x20 || name.charCodeAt(i) === 0x7f) return false;
  return true;
}

export function computeKeyId(name: string, algorithm: number, publicKey: Uint8Array): number {
  const h = sha256(concatBytes(utf8Encode(name), Uint8Array.of(0x0a, algorithm), publicKey));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

function parseKeyId(text: string): number {
  if (!/^[0-9a-f]{8}$/.test(text)) keyError(`key ID must be 8 lowercase hex digits, got '${text}'`);
  return parseInt(text, 16);
}

function decodeKeyMaterial(text: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch {
    return keyError('key material is not valid base64');
  }
}

// Splits off `count` '+'-terminated fields; the rest (base64, which may contain '+') is last.
function chop(text: string, count: number): string[] | undefined {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return undefined;
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  return out;
}

function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const id = computeKeyId(name, ALG_ED25519, publicKey);
  return `${name}+${keyIdHex(id)}+${toBase64(concatBytes(Uint8Array.of(ALG_ED25519), publicKey))}`;
}

function makeVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const pub = publicKey.slice();
  return {
    name,
    keyId: computeKeyId(name, ALG_ED25519, pub),
    verifierKey: formatVerifierKey(name, pub),
    verify(message, signature) {
      if (signature.length !== 64) return false;
      try {
        // Strict RFC 8032 verification (no ZIP-215 leniency), like Go's crypto/ed25519.
        return ed25519.verify(signature, message, pub, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

/** Parses a verifier key text; checks the name and that the key ID matches the key. */
export function parseVerifierKey(text: string): NoteVerifier {
  const parts = chop(text.trim(), 2);
  if (!parts) keyError('verifier key must be <name>+<key ID>+<base64 key>');
  const [name, idText, material] = parts as [string, string, string];
  if (!isValidKeyName(name)) keyError(`invalid key name '${name}'`);
  const keyId = parseKeyId(idText);
  const bytes = decodeKeyMaterial(material);
  if (bytes[0] !== ALG_ED25519)
    keyError(`unsupported signature type ${bytes[0] ?? 'none'} (only Ed25519, 0x01)`);
  if (bytes.length !== 33) keyError('Ed25519 verifier keys hold 32 bytes of public key');
  const publicKey = bytes.subarray(1);
  if (computeKeyId(name, ALG_ED25519, publicKey) !== keyId)
    keyError(`key ID ${idText} does not match the key`);
  try {
    ed25519.Point.fromBytes(publicKey, false);
  } catch {
    keyError('public key is not a valid Ed25519 point');
  }
  return makeVerifier(name, publicKey);
}

/** Parses a signer key text (PRIVATE+KEY+...); checks the key ID against the derived public key. */
export function parseSignerKey(text: string): NoteSigner {
  const parts = chop(text.trim(), 4);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
    keyError('signer key must be PRIVATE+KEY+<name>+<key ID>+<base64 key>');
  }
  const [, , name, idText, material] = parts as [string, string, string, string, string];
  if (!isValidKeyName(name)) keyError(`invalid key name '${name}'`);
  const keyId = parseKeyId(idText);
  const bytes = decodeKeyMaterial(material);
  if (bytes[0] !== ALG_ED25519)
    keyError(`unsupported signature type ${bytes[0] ?? 'none'} (only Ed25519, 0x01)`);
  if (bytes.length !== 33) keyError('Ed25519 signer keys hold a 32-byte seed');
  const seed = bytes.slice(1);
  const publicKey = ed25519.getPublicKey(seed);
  if (computeKeyId(name, ALG_ED25519, publicKey) !== keyId)
    keyError(`key ID ${idText} does not match the key`);
  return {
    name,
    keyId,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (message) => ed25519.sign(message, seed),
  };
}

/** A fresh Ed25519 key pair in text form (uses the platform's secure random source). */
export function generateSignerKey(name: string): GeneratedKey {
  if (!isValidKeyName(name)) keyError(`invalid key name '${name}'`);
  const seed = ed25519.utils.randomSecretKey();
  return signerKeyFromSeed(name, seed);
}

/** Signer and verifier key texts for a given 32-byte Ed25519 seed. */
export function signerKeyFromSeed(name: string, seed: Uint8Array): GeneratedKey {
  if (!isValidKeyName(name)) keyError(`invalid key name '${name}'`);
  if (seed.length !== 32) keyError('Ed25519 seeds are 32 bytes');
  const publicKey = ed25519.getPublicKey(seed);
  const id = keyIdHex(computeKeyId(name, ALG_ED25519, publicKey));
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${toBase64(concatBytes(Uint8Array.of(ALG_ED25519), seed))}`,
    verifierKey: formatVerifierKey(name, publicKey),
  };
}
