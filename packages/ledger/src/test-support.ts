// Helpers shared by the tests (not exported from the package).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** /work/main-style repository root, found from this file's location. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const vectorsDir = path.resolve(repoRoot, '../shared/vectors');

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
