// Test fixture (not exported from the package): a signed log of realistic audit entries.
import { canonicalBytes } from './canonical-json.ts';
import { signCheckpoint } from './checkpoint.ts';
import { leafHash } from './merkle.ts';
import { MemoryTree } from './memory-tree.ts';
import { signerKeyFromSeed, parseSignerKey } from './note-keys.ts';

export const ORIGIN = 'custody.example/audit';

/** ~300-byte canonical JSON audit entry, recording its own sequence number. */
export function auditEntry(seq: number): Uint8Array {
  return canonicalBytes({
    seq,
    time: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(),
    actor: { kind: 'user', id: `user-${seq % 17}`, ip: `10.0.${seq % 200}.${seq % 250}` },
    action: [
      'deployment.approved',
      'pipeline.run.started',
      'policy.evaluated',
      'environment.promoted',
    ][seq % 4]!,
    resource: { kind: 'pipeline', id: `pl-${(seq * 7919) % 100000}`, project: 'payments-core' },
    outcome: seq % 13 === 0 ? 'denied' : 'allowed',
    reason: 'change ticket CHG-' + String(100000 + seq) + ' approved by release manager',
    requestId: `req-${(seq * 2654435761) % 4294967296}`,
  });
}

export const seqOf = (data: Uint8Array): number | undefined =>
  (JSON.parse(new TextDecoder().decode(data)) as { seq?: number }).seq;

export function fixtureKeys(seedByte = 1): { signerKey: string; verifierKey: string } {
  return signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(seedByte));
}

export interface Fixture {
  entries: Uint8Array[];
  leafHashes: Uint8Array[];
  tree: MemoryTree;
  checkpoints: string[];
  signerKey: string;
  verifierKey: string;
}

export function makeLog(size: number, checkpointSizes: readonly number[]): Fixture {
  const { signerKey, verifierKey } = fixtureKeys();
  const signer = parseSignerKey(signerKey);
  const entries = Array.from({ length: size }, (_, i) => auditEntry(i));
  const tree = MemoryTree.fromLeaves(entries);
  const checkpoints = checkpointSizes.map((s) =>
    signCheckpoint({ origin: ORIGIN, size: s, rootHash: tree.root(s) }, signer),
  );
  return {
    entries,
    leafHashes: entries.map((e) => leafHash(e)),
    tree,
    checkpoints,
    signerKey,
    verifierKey,
  };
}
