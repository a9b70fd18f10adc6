import { createDecipheriv } from 'node:crypto';

// The two formats sealed before the one sealer (ADR 8), both AES-256-GCM without associated
// data and without a key id: `iv.tag.data` (project secrets under the data directory's
// `secrets.key`; stream secrets under a key derived from the ledger key) and `v1.iv.tag.data`
// (connector credentials under `secrets.key`). They are only opened once, at start-up, to be
// sealed again in the current format.

export function isLegacySealed(sealed: string): boolean {
  const parts = sealed.split('.');
  return parts.length === 3 || (parts.length === 4 && parts[0] === 'v1');
}

/** Opens a legacy value with the first key that authenticates it, or returns undefined. */
export function openLegacy(sealed: string, keys: readonly Uint8Array[]): string | undefined {
  const parts = sealed.split('.');
  const [iv, tag, data] = parts.length === 4 ? parts.slice(1) : parts;
  if (!iv || !tag || data === undefined) return undefined;
  for (const key of keys) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      // not this key
    }
  }
  return undefined;
}
