// Offline verification throughput of change dossiers (verifyDossier from @custody/ledger):
// a dossier with 20 evidence files of 50 KiB of JSON each and 200 ledger entries with their
// inclusion proofs over a tree of 100,000 leaves. The baseline, in the same run, is the
// irreducible work of any verifier: one SHA-256 over every file's bytes plus the two Ed25519
// verifications (manifest and checkpoint) with the same library. Everything runs on one core.
// Run: node --import tsx bench/reports/dossier-verify.ts [seconds per measurement]
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  canonicalBytes,
  dossierSigner,
  MemoryTree,
  packDossier,
  pae,
  parseSignerKey,
  readDossier,
  signCheckpoint,
  signerKeyFromSeed,
  verifyDossier,
} from '@custody/ledger';

const TARGET = 20; // dossiers/s (issue 15)
const seconds = Number(process.argv[2] ?? 2);
const ORIGIN = 'bench.custody.example/audit';
const TREE = 100_000;
const ENTRIES = 200;
const FILES = 20;
const FILE_BYTES = 50 * 1024;

function entry(seq: number): Uint8Array {
  return canonicalBytes({
    v: 1,
    seq,
    time: new Date(Date.UTC(2026, 0, 1) + seq * 137).toISOString(),
    actor: {
      type: 'user',
      name: `user-${seq % 97}`,
      authMethod: 'session',
      ip: `10.1.${seq % 200}.${seq % 250}`,
    },
    action: ['deployment.approved', 'run.started', 'gate.decided', 'deployment.succeeded'][
      seq % 4
    ]!,
    resource: { type: 'run', id: `run-${(seq * 7919) % 100000}` },
    outcome: seq % 13 === 0 ? 'denied' : 'succeeded',
    requestId: `req-${(seq * 2654435761) % 4294967296}`,
    details: { reason: `change ticket CHG-${100000 + seq} approved by release manager` },
  });
}

function evidence(i: number): Uint8Array {
  const rows: unknown[] = [];
  let size = 2;
  for (let r = 0; size < FILE_BYTES; r++) {
    const row = {
      test: `suite-${i}/case-${r}`,
      outcome: r % 17 === 0 ? 'skipped' : 'passed',
      ms: (r * 37) % 900,
      sha: (i * 1_000_003 + r).toString(16).padStart(40, '0'),
    };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return canonicalBytes(rows);
}

function measure(label: string, fn: () => void): number {
  fn(); // warm up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    fn();
    n++;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  console.log(
    `${label.padEnd(58)} ${rate.toFixed(1).padStart(7)} dossiers/s  (${(1000 / rate).toFixed(2)} ms each)`,
  );
  return rate;
}

console.log(
  `preparing a tree of ${TREE} leaves, ${ENTRIES} entries, ${FILES} × ${FILE_BYTES / 1024} KiB files…`,
);
const tree = MemoryTree.fromLeaves(Array.from({ length: TREE }, (_, i) => entry(i)));
const keys = signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(42));
const noteSigner = parseSignerKey(keys.signerKey);
const indexes = Array.from(
  { length: ENTRIES },
  (_, i) => Math.floor((i * TREE) / ENTRIES) + (i % 7),
);
const zip = packDossier({
  files: Array.from({ length: FILES }, (_, i) => ({
    path: `evidence/file-${String(i).padStart(2, '0')}.json`,
    bytes: evidence(i),
  })),
  ledger: {
    checkpoint: signCheckpoint({ origin: ORIGIN, size: TREE, rootHash: tree.root() }, noteSigner),
    entries: indexes.map((index) => ({ index, leaf: entry(index) })),
    proofs: indexes.map((index) => tree.inclusionProof(index)),
  },
  signer: dossierSigner(noteSigner),
  subject: 'run-1/production',
  createdAt: '2026-12-04T05:00:00.000Z',
});
const check = verifyDossier(zip, { verifierKey: keys.verifierKey });
if (!check.ok) throw new Error(`${check.failure.code}: ${check.failure.message}`);
const files = [...readDossier(zip).values()];
const proofHashes = indexes.reduce((s, i) => s + tree.inclusionProof(i).length, 0);
console.log(
  `dossier: ${(zip.length / 1024).toFixed(0)} KiB, ${files.length} files, ${ENTRIES} entries with ${proofHashes} proof hashes; node ${process.version}; one core\n`,
);

// Two real signatures over real messages, verified the way the baseline's verifier must.
const pub = ed25519.getPublicKey(new Uint8Array(32).fill(42));
const msgA = pae('application/vnd.custody.dossier.manifest+json', files[0]!.subarray(0, 2048));
const msgB = files[1]!.subarray(0, 100);
const seed = new Uint8Array(32).fill(42);
const sigA = ed25519.sign(msgA, seed);
const sigB = ed25519.sign(msgB, seed);

let sink = 0;
const baseline = measure('baseline: SHA-256 of every file + 2 Ed25519 verifications', () => {
  for (const f of files) sink ^= createHash('sha256').update(f).digest()[0]!;
  if (!ed25519.verify(sigA, msgA, pub) || !ed25519.verify(sigB, msgB, pub)) throw new Error('bad');
});
const unzipOnly = measure('baseline: read the zip (strict reader) alone', () => {
  sink ^= readDossier(zip).size;
});
const verified = measure('verifyDossier (everything, in order)', () => {
  const r = verifyDossier(zip, { verifierKey: keys.verifierKey });
  if (!r.ok) throw new Error(r.failure.message);
});
if (sink === -1) console.log('');
console.log(
  `\nverifyDossier: ${verified.toFixed(1)} dossiers/s, ratio ${(verified / baseline).toFixed(2)} to the hash+signature baseline, ${(verified / unzipOnly).toFixed(2)} to reading alone; target ${TARGET}/s: ${verified >= TARGET ? 'met' : 'MISSED'}`,
);
process.exitCode = verified >= TARGET ? 0 : 1;
