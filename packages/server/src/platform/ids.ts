import { randomBytes } from 'node:crypto';

/** A random identifier with a kind prefix, e.g. `apr_3f9c0a1b2c3d4e5f` (64 random bits). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}
