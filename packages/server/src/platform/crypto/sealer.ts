import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DomainError } from '../errors.ts';
import { sealingErrors } from './errors.ts';

// The one sealer of the deployment (ADR 8): AES-256-GCM under keys from configuration, shared by
// every replica. A sealed value names the key it was sealed under and is bound to what it is
// (`context`, e.g. `secrets/payments/prod/DEPLOY_KEY`) as associated data, so a value copied
// into another row, or another store, does not open there.
//
//   v2.<key id>.<iv>.<tag>.<ciphertext>      (base64 parts; the key id is 16 hex digits)

const format = 'v2';

/** A key's id: a fingerprint of the key, so two replicas agree on it without coordination. */
export function sealingKeyId(key: Uint8Array): string {
  return createHash('sha256')
    .update('custody/sealing-key-id/v1\0')
    .update(key)
    .digest('hex')
    .slice(0, 16);
}

const aad = (context: string) => Buffer.from(`custody/sealed/${format}\0${context}`, 'utf8');

export class Sealer {
  private readonly keys = new Map<string, Buffer>();
  /** Every configured key id, oldest first; values are sealed under the last one. */
  readonly keyIds: readonly string[];
  readonly currentKeyId: string;

  /** `keys` oldest first: the newest seals, all of them open. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0)
      throw new DomainError(sealingErrors.SEALING_KEY_INVALID, 'no sealing key configured');
    const ids: string[] = [];
    for (const key of keys) {
      if (key.length !== 32)
        throw new DomainError(
          sealingErrors.SEALING_KEY_INVALID,
          `a sealing key is ${key.length} bytes, not 32`,
        );
      const id = sealingKeyId(key);
      if (this.keys.has(id)) continue;
      this.keys.set(id, Buffer.from(key));
      ids.push(id);
    }
    this.keyIds = ids;
    this.currentKeyId = ids[ids.length - 1]!;
  }

  holds(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** The raw keys, oldest first: only for opening values sealed before key ids existed. */
  legacyKeys(): Buffer[] {
    return [...this.keys.values()];
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(aad(context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [format, this.currentKeyId, ...[iv, cipher.getAuthTag(), data].map(b64)].join('.');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    const [version, keyId, iv, tag, data] = parts;
    if (parts.length !== 5 || version !== format || !keyId || !iv || !tag || data === undefined)
      throw new DomainError(
        sealingErrors.SEALING_VALUE_UNREADABLE,
        `${context}: not a sealed value of a known format`,
        { context },
      );
    const key = this.keys.get(keyId);
    if (!key)
      throw new DomainError(
        sealingErrors.SEALING_KEY_MISSING,
        `${context} is sealed under key ${keyId}, which is not configured`,
        { context, missing: [keyId], configured: this.keyIds },
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch (err) {
      throw new DomainError(
        sealingErrors.SEALING_VALUE_UNREADABLE,
        `${context} does not open with key ${keyId}`,
        { context, keyId },
        { cause: err },
      );
    }
  }

  /** The key id a value names, or null for a value in one of the formats before key ids. */
  keyIdOf(sealed: string): string | null {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === format ? parts[1]! : null;
  }

  isCurrent(sealed: string): boolean {
    return this.keyIdOf(sealed) === this.currentKeyId;
  }
}

function b64(b: Buffer): string {
  return b.toString('base64');
}
