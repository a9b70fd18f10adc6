// Offline verification throughput of @custody/ledger against its baseline: hashing the same
// entry bytes once each with plain node:crypto SHA-256, measured in the same run, on one
// core (everything runs synchronously on the main thread). Two baselines: the usual
// createHash().update().digest(), and the faster one-shot crypto.hash(). Verification does
// about two SHA-256 per entry (leaf + amortised one node) and can still beat a baseline of
// one hash per entry because the ledger takes digests as binary strings instead of
// allocating a Buffer per hash (see packages/ledger/src/sha256/node.ts).
// Run: node --import tsx bench/ledger/verify.ts [entries]
import { createHash, hash } from 'node:crypto';
import {
  buildExport,
  canonicalBytes,
  leafHash,
  MemoryTree,
  parseSignerKey,
  signCheckpoint,
  signerKeyFromSeed,
  verifyExport,
  verifyLog,
  type LogEntry,
} from '@custody/ledger';

const TARGET = 300_000;
const n = Number(process.argv[2] ?? 500_000);
const rounds = 5;

// ~300-byte canonical JSON audit entries, like the server writes.
function entry(seq: number): Uint8Array {
  return canonicalBytes({
    seq,
    time: new Date(Date.UTC(2025, 0, 1) + seq * 137).toISOString(),
    actor: { kind: 'user', id: `user-${seq % 97}`, ip: `10.1.${seq % 200}.${seq % 250}` },
    action: [
      'deployment.approved',
      'pipeline.run.started',
      'policy.evaluated',
      'environment.promoted',
    ][seq % 4]!,
    resource: { kind: 'pipeline', id: `pl-${(seq * 7919) % 100000}`, project: 'payments-core' },
    outcome: seq % 13 === 0 ? 'denied' : 'allowed',
    reason: `change ticket CHG-${100000 + seq} approved by release manager`,
    requestId: `req-${(seq * 2654435761) % 4294967296}`,
  });
}

function best(label: string, fn: () => void | Promise<void>): Promise<number> {
  return (async () => {
    let bestMs = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await fn();
      bestMs = Math.min(bestMs, performance.now() - t0);
    }
    const rate = n / (bestMs / 1000);
    console.log(
      `${label.padEnd(44)} ${(rate / 1000).toFixed(0).padStart(6)}k entries/s  (${bestMs.toFixed(0)} ms best of ${rounds})`,
    );
    return rate;
  })();
}

console.log(`preparing ${n} entries…`);
const entries = Array.from({ length: n }, (_, i) => entry(i));
const avg = entries.reduce((s, e) => s + e.length, 0) / n;
const stored = entries.map((e) => leafHash(e));
const tree = MemoryTree.fromLeafHashes(stored);
const key = signerKeyFromSeed('bench.custody.example/audit', new Uint8Array(32).fill(42));
const signer = parseSignerKey(key.signerKey);
const checkpoints = [Math.floor(n / 3), Math.floor((2 * n) / 3), n].map((s) =>
  signCheckpoint(
    { origin: 'bench.custody.example/audit', size: s, rootHash: tree.root(s) },
    signer,
  ),
);
const rows: LogEntry[] = entries.map((data, index) => ({ index, data, leafHash: stored[index]! }));
const files = new Map(
  buildExport({ entries, checkpoint: checkpoints[2]!, tree }).map((f) => [f.path, f.bytes]),
);
console.log(`entry size: ${avg.toFixed(0)} bytes average; node ${process.version}; one core\n`);

let sink = 0;
const baseline = await best('baseline: createHash SHA-256 of each entry', () => {
  for (const e of entries) sink ^= createHash('sha256').update(e).digest()[0]!;
});
const oneShot = await best('baseline: crypto.hash SHA-256 of each entry', () => {
  for (const e of entries) sink ^= hash('sha256', e, 'buffer')[0]!;
});
const plain = await best('verifyLog (entries only)', () => {
  const r = verifyLog({
    entries: rows.map(({ index, data }) => ({ index, data })),
    checkpoints,
    keys: key.verifierKey,
  });
  if (!r.ok) throw new Error(r.message);
});
const withHashes = await best('verifyLog (+ stored leaf hashes)', () => {
  const r = verifyLog({ entries: rows, checkpoints, keys: key.verifierKey });
  if (!r.ok) throw new Error(r.message);
});
const exported = await best('verifyExport (bundles + all tiles, in memory)', async () => {
  const r = await verifyExport((p) => files.get(p), key.verifierKey);
  if (!r.ok) throw new Error(r.message);
});

console.log('');
for (const [label, rate] of [
  ['verifyLog (entries only)', plain],
  ['verifyLog (+ stored leaf hashes)', withHashes],
  ['verifyExport', exported],
] as const) {
  console.log(
    `${label.padEnd(34)} ratio ${(rate / baseline).toFixed(2)} to createHash, ${(rate / oneShot).toFixed(2)} to crypto.hash;  target ${TARGET / 1000}k/s: ${rate >= TARGET ? 'met' : 'MISSED'}`,
  );
}
if (sink === 256) console.log('');
const worst = Math.min(plain, withHashes, exported);
process.exitCode = worst >= TARGET ? 0 : 1;
