// SHA-256 for Node: node:crypto is several times faster than pure JS, and the Merkle hot
// path (one leaf hash and about one node hash per entry) is dominated by per-call overhead,
// so the prefix byte is written into a reused scratch buffer and hashed in one shot.
// Selected through the "#sha256" import condition "node" in package.json.
import { hash } from 'node:crypto';

const leafScratchMin = 1024;
let leafScratch = Buffer.allocUnsafe(leafScratchMin);
const nodeScratch = Buffer.allocUnsafe(65);
nodeScratch[0] = 0x01;

// Plain Uint8Array views, so callers never see Buffer's different slice/toString semantics.
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function sha256(data: Uint8Array): Uint8Array {
  return view(hash('sha256', data, 'buffer'));
}

/** SHA-256(0x00 || data): an RFC 6962 leaf hash. */
export function sha256Leaf(data: Uint8Array): Uint8Array {
  const n = data.length + 1;
  if (n > leafScratch.length) leafScratch = Buffer.allocUnsafe(Math.max(n, leafScratch.length * 2));
  leafScratch[0] = 0x00;
  leafScratch.set(data, 1);
  return view(hash('sha256', leafScratch.subarray(0, n), 'buffer'));
}

/** SHA-256(0x01 || left || right): an RFC 6962 interior node hash (both 32 bytes). */
export function sha256Node(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 33);
  return view(hash('sha256', nodeScratch, 'buffer'));
}

export const sha256Implementation = 'node:crypto';
