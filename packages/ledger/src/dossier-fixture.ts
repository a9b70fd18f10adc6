// Test fixture (not exported from the package): a real dossier over a real tree.
import { utf8Encode } from './bytes.ts';
import { canonicalBytes } from './canonical-json.ts';
import { signCheckpoint } from './checkpoint.ts';
import { dossierSigner, type DossierFile, type PackDossierOptions } from './dossier.ts';
import { auditEntry, fixtureKeys, ORIGIN } from './ledger-fixture.ts';
import { MemoryTree } from './memory-tree.ts';
import { parseSignerKey } from './note-keys.ts';

export interface DossierFixture {
  readonly options: PackDossierOptions;
  readonly tree: MemoryTree;
  readonly treeSize: number;
  readonly signerKey: string;
  readonly verifierKey: string;
}

export interface DossierFixtureOptions {
  /** Number of content files (default 20), each about `fileBytes` long (default 600). */
  readonly files?: number;
  readonly fileBytes?: number;
  /** Leaf indexes of the change's entries (default 10 spread over the tree). */
  readonly indexes?: readonly number[];
  readonly treeSize?: number;
  /** Seed byte of the ledger key (another byte, another key). */
  readonly seedByte?: number;
  /** A tree to reuse (the benchmark's is large). */
  readonly tree?: MemoryTree;
}

function contentFile(i: number, size: number): DossierFile {
  const rows = [];
  for (let r = 0; JSON.stringify(rows).length < size; r++)
    rows.push({
      step: `step-${i}-${r}`,
      outcome: r % 5 === 0 ? 'failed' : 'succeeded',
      sha: `${(i * 7919 + r).toString(16).padStart(40, '0')}`,
    });
  const path =
    i === 0 ? 'index.html' : i % 3 === 0 ? `evidence/report-${i}.json` : `change/part-${i}.json`;
  return {
    path,
    bytes:
      i === 0
        ? utf8Encode(`<!doctype html><title>Dossier</title><pre>${JSON.stringify(rows)}</pre>\n`)
        : canonicalBytes(rows),
  };
}

export function dossierFixture(o: DossierFixtureOptions = {}): DossierFixture {
  const treeSize = o.treeSize ?? o.tree?.size ?? 1000;
  const tree =
    o.tree ?? MemoryTree.fromLeaves(Array.from({ length: treeSize }, (_, i) => auditEntry(i)));
  const keys = fixtureKeys(o.seedByte ?? 1);
  const noteSigner = parseSignerKey(keys.signerKey);
  const checkpoint = signCheckpoint(
    { origin: ORIGIN, size: treeSize, rootHash: tree.root(treeSize) },
    noteSigner,
  );
  const indexes =
    o.indexes ?? Array.from({ length: 10 }, (_, i) => Math.floor(((i + 0.5) * treeSize) / 10));
  const entries = indexes.map((index) => ({ index, leaf: auditEntry(index) }));
  const proofs = indexes.map((index) => tree.inclusionProof(index, treeSize));
  return {
    options: {
      files: Array.from({ length: o.files ?? 20 }, (_, i) => contentFile(i, o.fileBytes ?? 600)),
      ledger: { checkpoint, entries, proofs },
      signer: dossierSigner(noteSigner),
      subject: 'run-42/production',
      createdAt: '2026-12-04T05:00:00.000Z',
    },
    tree,
    treeSize,
    signerKey: keys.signerKey,
    verifierKey: keys.verifierKey,
  };
}
