import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromBase64, p256Signer, publicKeyId, type DsseSigner } from '@custody/ledger';
import { DomainError } from '../../platform/errors.ts';
import { attestationErrors } from './errors.ts';

// The attestation signing key: ECDSA P-256, PKCS#8 PEM, mode 0600. Like the ledger key it is
// created in the data directory at first start unless a file is configured; a configured file
// must exist, since replicas sharing a database must sign with one key.

export interface AttestationKeyOptions {
  readonly dataDir: string;
  readonly attestKeyFile?: string | undefined;
}

export interface AttestationKey {
  readonly signer: DsseSigner;
  /** The public key as PEM SubjectPublicKeyInfo (`attest.pub`, for cosign --key). */
  readonly publicKeyPem: string;
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo: the bundles' hint and keyid. */
  readonly keyId: string;
}

/** Where the key lives: the configured file, else `<dataDir>/attest.key`. */
export function attestationKeyPath(options: AttestationKeyOptions): string {
  return path.resolve(options.attestKeyFile ?? path.join(options.dataDir, 'attest.key'));
}

function unreadable(message: string): never {
  throw new DomainError(attestationErrors.ATTESTATIONS_KEY_UNREADABLE, message);
}

function base64UrlToBytes(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
}

/** Signs with @custody/ledger's P-256 signer (RFC 6979, low-S, DER), as cosign verifies. */
function keyFrom(privateKey: KeyObject, file: string): AttestationKey {
  if (
    privateKey.asymmetricKeyType !== 'ec' ||
    privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  )
    unreadable(`attestation key file ${file} does not hold an ECDSA P-256 key`);
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') unreadable(`attestation key file ${file} holds no private key`);
  const publicKeyPem = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    signer: p256Signer(base64UrlToBytes(jwk.d)),
    publicKeyPem,
    keyId: publicKeyId(publicKeyPem),
  };
}

/** Loads the key, creating it (mode 0600) at first start when no file is configured. */
export function loadOrCreateAttestationKey(options: AttestationKeyOptions): AttestationKey {
  const file = attestationKeyPath(options);
  if (!existsSync(file)) {
    if (options.attestKeyFile) unreadable(`attestation key file ${file} does not exist`);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process sharing the data directory created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(file, 0o600);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return unreadable(`cannot read attestation key file ${file}: ${(err as Error).message}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    // Never echo the file's content: it is the private key.
    return unreadable(
      `attestation key file ${file} does not hold a PEM private key: ${(err as Error).message}`,
    );
  }
  return keyFrom(privateKey, file);
}
