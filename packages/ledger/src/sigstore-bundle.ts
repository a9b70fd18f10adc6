// Sigstore bundles v0.3 (github.com/sigstore/protobuf-specs, protos/sigstore_bundle.proto,
// in its protobuf-JSON form) carrying one DSSE-signed in-toto statement, verified with a
// public key: no certificate, no transparency log entry, no timestamp. This is what
// `cosign verify-blob-attestation --key K --bundle B --insecure-ignore-tlog` and
// @sigstore/verify (public-key trust material, thresholds 0) accept.
//
//   {
//     "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
//     "verificationMaterial": { "publicKey": { "hint": "<key id>" }, "tlogEntries": [] },
//     "dsseEnvelope": {
//       "payload": "<base64 statement>", "payloadType": "application/vnd.in-toto+json",
//       "signatures": [{ "sig": "<base64 DER ECDSA P-256/SHA-256 over PAE>", "keyid": "<key id>" }]
//     }
//   }
//
// The key id (the hint, and the signature's keyid) is the lowercase hex SHA-256 of the public
// key's DER SubjectPublicKeyInfo: `openssl pkey -pubin -in attest.pub -outform DER | sha256sum`.
import { sha256 } from '#sha256';
import { fromBase64, toHex } from './bytes.ts';
import { pae, verifierFromPem, type DsseEnvelope, type DsseSigner } from './dsse.ts';
import { LedgerError, type LedgerErrorCode } from './errors.ts';
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseStatement,
  signStatement,
  type InTotoStatement,
  type InTotoSubject,
} from './in-toto.ts';

export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface SigstoreBundle {
  readonly mediaType: typeof SIGSTORE_BUNDLE_V03_MEDIA_TYPE;
  readonly verificationMaterial: {
    readonly publicKey: { readonly hint: string };
    readonly tlogEntries: readonly unknown[];
    readonly timestampVerificationData?: { readonly rfc3161Timestamps?: readonly unknown[] };
  };
  readonly dsseEnvelope: {
    readonly payload: string;
    readonly payloadType: string;
    readonly signatures: readonly [{ readonly sig: string; readonly keyid: string }];
  };
}

export interface VerifiedAttestation {
  readonly statement: InTotoStatement;
  /** The statement's subject whose SHA-256 is the artifact's. */
  readonly subject: InTotoSubject;
  /** Key id of the public key that verified the signature. */
  readonly keyId: string;
}

function fail(code: LedgerErrorCode, message: string): never {
  throw new LedgerError(code, message);
}

function bad(message: string): never {
  return fail('LEDGER_BUNDLE_INVALID', `sigstore bundle: ${message}`);
}

const pemPattern = /^\s*-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/;

/** The DER SubjectPublicKeyInfo in a PEM public key. Throws LEDGER_KEY_INVALID. */
export function publicKeyDerFromPem(pem: string): Uint8Array {
  const m = pemPattern.exec(pem);
  if (!m) fail('LEDGER_KEY_INVALID', 'not a PEM public key (-----BEGIN PUBLIC KEY-----)');
  try {
    return fromBase64(m[1]!.replace(/\s+/g, ''));
  } catch {
    return fail('LEDGER_KEY_INVALID', 'the PEM public key is not base64');
  }
}

/** Key id of a PEM public key: lowercase hex SHA-256 of its DER SubjectPublicKeyInfo. */
export function publicKeyId(pem: string): string {
  return toHex(sha256(publicKeyDerFromPem(pem)));
}

/** Wraps a DSSE envelope with exactly one signature into a v0.3 bundle. */
export function makeSigstoreBundle(envelope: DsseEnvelope, hint: string): SigstoreBundle {
  if (envelope.signatures.length !== 1) bad('a bundle carries exactly one DSSE signature');
  const [signature] = envelope.signatures;
  return {
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint }, tlogEntries: [] },
    dsseEnvelope: {
      payload: envelope.payload,
      payloadType: envelope.payloadType,
      signatures: [{ sig: signature!.sig, keyid: signature!.keyid ?? hint }],
    },
  };
}

/**
 * Signs a statement (DSSE, payloadType application/vnd.in-toto+json) and wraps it in a
 * bundle. `keyId` names the signer's public key (publicKeyId of its PEM).
 */
export function signAttestationBundle(
  statement: InTotoStatement,
  signer: DsseSigner,
  keyId: string,
): SigstoreBundle {
  const named: DsseSigner = { keyid: keyId, sign: (m) => signer.sign(m) };
  return makeSigstoreBundle(signStatement(statement, [named]), keyId);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) bad(`${where} has unexpected fields ${extra.join(', ')}`);
}

function base64Field(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) bad(`${where} must be non-empty base64`);
  try {
    fromBase64(value);
  } catch {
    bad(`${where} is not standard base64`);
  }
  return value;
}

/**
 * Parses a bundle (JSON text or a parsed value) strictly: media type v0.3, a public-key hint
 * (certificates are refused: these bundles are verified with a key), a DSSE envelope with
 * exactly one signature, and no fields outside the protobuf-JSON schema. Transparency log
 * entries and timestamps may be present but are not verified. Throws LEDGER_BUNDLE_INVALID.
 */
export function parseSigstoreBundle(json: unknown): SigstoreBundle {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json) as unknown;
    } catch {
      bad('not JSON');
    }
  }
  if (!isObject(value)) bad('not an object');
  onlyKeys(value, ['mediaType', 'verificationMaterial', 'dsseEnvelope'], 'the bundle');
  if (value.mediaType !== SIGSTORE_BUNDLE_V03_MEDIA_TYPE)
    bad(`mediaType must be ${SIGSTORE_BUNDLE_V03_MEDIA_TYPE}`);
  const vm = value.verificationMaterial;
  if (!isObject(vm)) bad('verificationMaterial is missing');
  onlyKeys(
    vm,
    ['publicKey', 'tlogEntries', 'timestampVerificationData'],
    'verificationMaterial (only publicKey material is accepted)',
  );
  const pk = vm.publicKey;
  if (!isObject(pk)) bad('verificationMaterial.publicKey is missing');
  onlyKeys(pk, ['hint'], 'verificationMaterial.publicKey');
  if (typeof pk.hint !== 'string' || pk.hint.length === 0)
    bad('verificationMaterial.publicKey.hint must be a non-empty string');
  // protobuf JSON may leave an empty repeated field out.
  const tlogEntries = vm.tlogEntries ?? [];
  if (!Array.isArray(tlogEntries) || !tlogEntries.every(isObject))
    bad('verificationMaterial.tlogEntries must be a list of objects');
  const tsv = vm.timestampVerificationData;
  if (tsv !== undefined) {
    if (!isObject(tsv)) bad('verificationMaterial.timestampVerificationData must be an object');
    onlyKeys(tsv, ['rfc3161Timestamps'], 'verificationMaterial.timestampVerificationData');
    if (tsv.rfc3161Timestamps !== undefined && !Array.isArray(tsv.rfc3161Timestamps))
      bad('timestampVerificationData.rfc3161Timestamps must be a list');
  }
  const env = value.dsseEnvelope;
  if (!isObject(env)) bad('dsseEnvelope is missing (message signatures are not supported)');
  onlyKeys(env, ['payload', 'payloadType', 'signatures'], 'dsseEnvelope');
  const payload = base64Field(env.payload, 'dsseEnvelope.payload');
  if (typeof env.payloadType !== 'string' || env.payloadType.length === 0)
    bad('dsseEnvelope.payloadType must be a non-empty string');
  if (!Array.isArray(env.signatures) || env.signatures.length !== 1)
    bad('dsseEnvelope.signatures must hold exactly one signature');
  const sig0: unknown = env.signatures[0];
  if (!isObject(sig0)) bad('dsseEnvelope.signatures[0] must be an object');
  onlyKeys(sig0, ['sig', 'keyid'], 'dsseEnvelope.signatures[0]');
  const sig = base64Field(sig0.sig, 'dsseEnvelope.signatures[0].sig');
  if (sig0.keyid !== undefined && typeof sig0.keyid !== 'string')
    bad('dsseEnvelope.signatures[0].keyid must be a string');
  return {
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: pk.hint },
      tlogEntries: tlogEntries as unknown[],
      ...(tsv !== undefined
        ? {
            timestampVerificationData:
              tsv as SigstoreBundle['verificationMaterial']['timestampVerificationData'],
          }
        : {}),
    },
    dsseEnvelope: {
      payload,
      payloadType: env.payloadType,
      signatures: [{ sig, keyid: typeof sig0.keyid === 'string' ? sig0.keyid : '' }],
    },
  };
}

const sha256Hex = /^[0-9a-f]{64}$/;

function artifactDigest(artifact: Uint8Array | { readonly sha256: string }): string {
  if (artifact instanceof Uint8Array) return toHex(sha256(artifact));
  const hex = artifact?.sha256?.toLowerCase();
  if (typeof hex !== 'string' || !sha256Hex.test(hex))
    fail('LEDGER_HASH_INVALID', 'artifact sha256 must be 64 hex digits');
  return hex;
}

export interface VerifyAttestationBundleOptions {
  /** The bundle: JSON text or a parsed value. */
  readonly bundle: unknown;
  /** The trusted public key (PEM SubjectPublicKeyInfo, P-256 or Ed25519). */
  readonly publicKeyPem: string;
  /** The artifact's bytes, or its SHA-256 (hex). */
  readonly artifact: Uint8Array | { readonly sha256: string };
  /** The predicate type the statement must have (a URI). */
  readonly expectedPredicateType?: string;
}

/**
 * Verifies an attestation bundle offline, in this order, each failure with its own code:
 * the bundle's form (LEDGER_BUNDLE_INVALID), the key (LEDGER_KEY_INVALID), the DSSE signature
 * over PAE(payloadType, payload) (LEDGER_SIGNATURE_INVALID), the payload being an in-toto
 * Statement v1 (LEDGER_BUNDLE_INVALID), its predicate type (LEDGER_PREDICATE_TYPE_MISMATCH),
 * and a subject with the artifact's SHA-256 (LEDGER_SUBJECT_MISMATCH).
 */
export function verifyAttestationBundle(
  options: VerifyAttestationBundleOptions,
): VerifiedAttestation {
  const bundle = parseSigstoreBundle(options.bundle);
  const keyId = publicKeyId(options.publicKeyPem);
  let verifier: ReturnType<typeof verifierFromPem>;
  try {
    verifier = verifierFromPem(options.publicKeyPem);
  } catch (err) {
    return fail('LEDGER_KEY_INVALID', (err as Error).message);
  }
  const env = bundle.dsseEnvelope;
  const payload = fromBase64(env.payload);
  const signature = fromBase64(env.signatures[0].sig);
  if (!verifier.verify(pae(env.payloadType, payload), signature)) {
    const hint = bundle.verificationMaterial.publicKey.hint;
    fail(
      'LEDGER_SIGNATURE_INVALID',
      hint === keyId
        ? 'the signature does not verify with the given key: the bundle was changed'
        : `the signature does not verify with the given key ${keyId} (the bundle names key ${hint})`,
    );
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    bad(`dsseEnvelope.payloadType must be ${IN_TOTO_PAYLOAD_TYPE}`);
  let statement: InTotoStatement;
  try {
    statement = parseStatement(payload);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (
    options.expectedPredicateType !== undefined &&
    statement.predicateType !== options.expectedPredicateType
  )
    fail(
      'LEDGER_PREDICATE_TYPE_MISMATCH',
      `the statement's predicate type is ${statement.predicateType}, not ${options.expectedPredicateType}`,
    );
  const digest = artifactDigest(options.artifact);
  const subject = statement.subject.find((s) => s.digest.sha256 === digest);
  if (!subject)
    fail(
      'LEDGER_SUBJECT_MISMATCH',
      `no subject of the statement has the artifact's sha256 ${digest} (subjects: ${statement.subject
        .map((s) => `${s.name} sha256:${s.digest.sha256 ?? '?'}`)
        .join(', ')})`,
    );
  return { statement, subject, keyId };
}
