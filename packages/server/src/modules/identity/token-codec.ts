import { createHash, randomBytes } from 'node:crypto';

// Bearer secrets: high-entropy random strings with a prefix that tells what they are (and
// lets secret scanners find them). Only their SHA-256 hash is stored; a password-style
// slow hash is unnecessary for 256-bit random values.
export type SecretKind = 'token' | 'session';
const prefixes: Record<SecretKind, string> = { token: 'cst_', session: 'css_' };

export function newSecret(kind: SecretKind): string {
  return prefixes[kind] + randomBytes(32).toString('base64url');
}

export function secretKind(secret: string): SecretKind | undefined {
  if (secret.startsWith(prefixes.token)) return 'token';
  if (secret.startsWith(prefixes.session)) return 'session';
  return undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
