// SHA-256 for browsers and other runtimes without node:crypto: pure JS from @noble/hashes
// (synchronous, unlike WebCrypto, so the Merkle code stays synchronous everywhere).
// Selected through the "#sha256" import conditions "browser" and "default" in package.json.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8Encode } from '../bytes.ts';

const leafPrefix = Uint8Array.of(0x00);
const nodePrefix = Uint8Array.of(0x01);

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** SHA-256(0x00 || data): an RFC 6962 leaf hash. */
export function sha256Leaf(data: Uint8Array): Uint8Array {
  return nobleSha256.create().update(leafPrefix).update(data).digest();
}

/** SHA-256(0x00 || UTF-8 of text) in hex: the leaf hash of a text. */
export function sha256LeafTextHex(text: string): string {
  return toHex(sha256Leaf(utf8Encode(text)));
}

/** SHA-256(0x01 || left || right): an RFC 6962 interior node hash (both 32 bytes). */
export function sha256Node(left: Uint8Array, right: Uint8Array): Uint8Array {
  return nobleSha256.create().update(nodePrefix).update(left).update(right).digest();
}

function toBinary(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function fromBinary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Leaf hash as a 32-char binary string (char code = byte). */
export function sha256LeafBinary(data: Uint8Array): string {
  return toBinary(sha256Leaf(data));
}

/** Node hash of two 32-char binary strings, as a binary string. */
export function sha256NodeBinary(left: string, right: string): string {
  return toBinary(sha256Node(fromBinary(left), fromBinary(right)));
}

export const sha256Implementation = '@noble/hashes';
