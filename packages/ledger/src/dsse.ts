// DSSE v1 envelopes (github.com/secure-systems-lab/dsse): signatures are over
// PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body (lengths in bytes,
// ASCII decimal), never over the raw payload. ECDSA P-256 (SHA-256, ASN.1 DER signatures,
// as cosign expects) and Ed25519, both via @noble/curves so this also runs in browsers.
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { bytesEqual, concatBytes, fromBase64, toBase64, utf8Encode } from './bytes.ts';
import { LedgerError } from './errors.ts';

export interface DsseSignature {
  readonly keyid?: string;
  /** Standard base64 (with padding) of the signature. */
  readonly sig: string;
}

export interface DsseEnvelope {
  /** Standard base64 (with padding) of the payload bytes. */
  readonly payload: string;
  readonly payloadType: string;
  readonly signatures: readonly DsseSignature[];
}

export interface DsseSigner {
  readonly keyid?: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface DsseVerifier {
  readonly keyid?: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface OpenedEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  /** keyids (or '' when unnamed) of the verifiers whose signatures verified. */
  readonly verifiedBy: readonly string[];
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_ENVELOPE_INVALID', message);
}

/** DSSE v1 pre-authentication encoding. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8Encode(payloadType);
  return concatBytes(
    utf8Encode(`DSSEv1 ${type.length} `),
    type,
    utf8Encode(` ${payload.length} `),
    payload,
  );
}

export function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signers: readonly DsseSigner[],
): DsseEnvelope {
  if (signers.length === 0) invalid('at least one signer is required');
  const message = pae(payloadType, payload);
  return {
    payload: toBase64(payload),
    payloadType,
    signatures: signers.map((s) => ({
      ...(s.keyid ? { keyid: s.keyid } : {}),
      sig: toBase64(s.sign(message)),
    })),
  };
}

/**
 * Verifies an envelope: at least one signature must verify with one of the verifiers
 * (matched by keyid when both name one). Throws LEDGER_ENVELOPE_INVALID otherwise.
 */
export function openEnvelope(
  envelope: DsseEnvelope,
  verifiers: readonly DsseVerifier[],
): OpenedEnvelope {
  if (typeof envelope !== 'object' || envelope === null) invalid('envelope is not an object');
  if (
    typeof envelope.payloadType !== 'string' ||
    typeof envelope.payload !== 'string' ||
    !Array.isArray(envelope.signatures)
  ) {
    invalid('envelope needs payload, payloadType and signatures');
  }
  let payload: Uint8Array;
  try {
    payload = fromBase64(envelope.payload);
  } catch {
    return invalid('payload is not standard base64');
  }
  const message = pae(envelope.payloadType, payload);
  const verifiedBy: string[] = [];
  for (const s of envelope.signatures) {
    if (typeof s?.sig !== 'string') continue;
    let sig: Uint8Array;
    try {
      sig = fromBase64(s.sig);
    } catch {
      continue;
    }
    for (const v of verifiers) {
      if (s.keyid && v.keyid && s.keyid !== v.keyid) continue;
      if (v.verify(message, sig)) {
        verifiedBy.push(v.keyid ?? '');
        break;
      }
    }
  }
  if (verifiedBy.length === 0) invalid('no signature verifies with a trusted key');
  return { payloadType: envelope.payloadType, payload, verifiedBy };
}

export function verifyEnvelope(
  envelope: DsseEnvelope,
  verifiers: readonly DsseVerifier[],
): boolean {
  try {
    openEnvelope(envelope, verifiers);
    return true;
  } catch (e) {
    if (e instanceof LedgerError) return false;
    throw e;
  }
}

export interface KeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A new P-256 key pair; publicKey is the 65-byte uncompressed SEC1 point. */
export function generateP256Key(): KeyPair {
  const secretKey = p256.utils.randomSecretKey();
  return { secretKey, publicKey: p256.getPublicKey(secretKey, false) };
}

/** A new Ed25519 key pair (32-byte seed and public key). */
export function generateEd25519Key(): KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function p256Signer(secretKey: Uint8Array, keyid?: string): DsseSigner {
  const sk = secretKey.slice();
  return {
    ...(keyid ? { keyid } : {}),
    sign: (m) => p256.sign(m, sk, { format: 'der', lowS: true }),
  };
}

/** Accepts DER signatures, high or low S (Go and OpenSSL produce both). */
export function p256Verifier(publicKey: Uint8Array, keyid?: string): DsseVerifier {
  const pk = publicKey.slice();
  return {
    ...(keyid ? { keyid } : {}),
    verify(m, sig) {
      try {
        return p256.verify(sig, m, pk, { format: 'der', lowS: false });
      } catch {
        return false;
      }
    },
  };
}

export function ed25519Signer(secretKey: Uint8Array, keyid?: string): DsseSigner {
  const sk = secretKey.slice();
  return { ...(keyid ? { keyid } : {}), sign: (m) => ed25519.sign(m, sk) };
}

export function ed25519Verifier(publicKey: Uint8Array, keyid?: string): DsseVerifier {
  const pk = publicKey.slice();
  return {
    ...(keyid ? { keyid } : {}),
    verify(m, sig) {
      try {
        return sig.length === 64 && ed25519.verify(sig, m, pk, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

// SubjectPublicKeyInfo DER prefixes for the two key types (fixed-length keys, so a prefix
// plus the raw key is the whole structure).
const P256_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
  0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
]);
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

function pem(der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** PEM SubjectPublicKeyInfo of a P-256 public key (compressed or not), e.g. for cosign --key. */
export function p256PublicKeyToPem(publicKey: Uint8Array): string {
  const point = p256.Point.fromBytes(publicKey).toBytes(false);
  return pem(concatBytes(P256_SPKI_PREFIX, point));
}

export function ed25519PublicKeyToPem(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) invalid('Ed25519 public keys are 32 bytes');
  return pem(concatBytes(ED25519_SPKI_PREFIX, publicKey));
}

/** Parses a PEM public key (P-256 or Ed25519 SPKI) into a verifier. */
export function verifierFromPem(
  text: string,
  keyid?: string,
): DsseVerifier & { readonly algorithm: 'ecdsa-p256' | 'ed25519' } {
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(text);
  if (!m) invalid('not a PEM public key');
  let der: Uint8Array;
  try {
    der = fromBase64(m[1]!.replace(/\s+/g, ''));
  } catch {
    return invalid('PEM body is not base64');
  }
  if (
    der.length === P256_SPKI_PREFIX.length + 65 &&
    bytesEqual(der.subarray(0, P256_SPKI_PREFIX.length), P256_SPKI_PREFIX)
  ) {
    const key = der.subarray(P256_SPKI_PREFIX.length);
    try {
      p256.Point.fromBytes(key);
    } catch {
      invalid('P-256 public key is not a curve point');
    }
    return { ...p256Verifier(key, keyid), algorithm: 'ecdsa-p256' };
  }
  if (
    der.length === ED25519_SPKI_PREFIX.length + 32 &&
    bytesEqual(der.subarray(0, ED25519_SPKI_PREFIX.length), ED25519_SPKI_PREFIX)
  ) {
    return {
      ...ed25519Verifier(der.subarray(ED25519_SPKI_PREFIX.length), keyid),
      algorithm: 'ed25519',
    };
  }
  return invalid('unsupported public key type (only P-256 and Ed25519)');
}
