import { describe, expect, it } from 'vitest';
import { toBase64 } from './bytes.ts';
import { signCheckpoint } from './checkpoint.ts';
import { emptyRoot } from './merkle.ts';
import { MemoryTree } from './memory-tree.ts';
import { generateSignerKey, parseSignerKey, parseVerifierKey } from './note-keys.ts';
import {
  addCosignatureLines,
  checkAddCheckpoint,
  formatAddCheckpointRequest,
  originHash,
  parseAddCheckpointRequest,
  type WitnessedState,
} from './witness.ts';

const key = generateSignerKey('custody.example/ledger/1234');
const signer = parseSignerKey(key.signerKey);
const verifier = parseVerifierKey(key.verifierKey);

function tree(n: number, tag = 'e'): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < n; i++) t.appendLeaf(new TextEncoder().encode(`${tag}${i}`));
  return t;
}

function note(t: MemoryTree, s = signer): string {
  return signCheckpoint({ origin: signer.name, size: t.size, rootHash: t.root() }, s);
}

function request(oldTree: MemoryTree | undefined, t: MemoryTree): string {
  const oldSize = oldTree?.size ?? 0;
  const proof = oldSize > 0 ? t.consistencyProof(oldSize) : [];
  return formatAddCheckpointRequest({ oldSize, proof, checkpoint: note(t) });
}

function witness(state: WitnessedState | undefined) {
  return {
    logKeys: (origin: string) => (origin === signer.name ? [verifier] : undefined),
    latest: () => state,
  };
}

describe('tlog-witness add-checkpoint', () => {
  it('formats and parses the request body of the spec', async () => {
    const t = tree(10);
    const body = request(tree(4), t);
    const lines = body.split('\n');
    expect(lines[0]).toBe('old 4');
    const parsed = parseAddCheckpointRequest(body);
    expect(parsed.oldSize).toBe(4);
    expect(parsed.proof.map((p) => toBase64(p))).toEqual(lines.slice(1, 1 + parsed.proof.length));
    expect(parsed.checkpoint).toBe(note(t));
    for (const bad of ['', 'old 01\n\nx', 'old 1\nnot base64!\n\nx', 'new 1\n\nx', 'old 1\nx']) {
      expect(() => parseAddCheckpointRequest(bad)).toThrow(/.+/);
    }
  });

  it('accepts a consistent checkpoint and answers the spec status codes otherwise', async () => {
    const t4 = tree(4);
    const t10 = tree(10);
    const state = { size: 4, rootHash: t4.root() };
    expect(checkAddCheckpoint(request(t4, t10), witness(state))).toMatchObject({
      status: 200,
      checkpoint: { size: 10 },
    });
    // First contact: old 0, no proof.
    expect(checkAddCheckpoint(request(undefined, t10), witness(undefined)).status).toBe(200);
    // Stale old size: 409 with the size the witness holds.
    expect(checkAddCheckpoint(request(undefined, t10), witness(state))).toMatchObject({
      status: 409,
      latestSize: 4,
    });
    // An older checkpoint than the one cosigned: old size beyond the checkpoint size.
    const older = formatAddCheckpointRequest({ oldSize: 4, proof: [], checkpoint: note(tree(3)) });
    expect(checkAddCheckpoint(older, witness(state)).status).toBe(400);
    // A fork: a tree of the same log with other entries, signed with the real key.
    const fork = tree(10, 'forged');
    const forkBody = formatAddCheckpointRequest({
      oldSize: 4,
      proof: t10.consistencyProof(4),
      checkpoint: note(fork),
    });
    expect(checkAddCheckpoint(forkBody, witness(state))).toMatchObject({ status: 422 });
    // The same size with another root.
    const same = formatAddCheckpointRequest({
      oldSize: 4,
      proof: [],
      checkpoint: note(tree(4, 'x')),
    });
    expect(checkAddCheckpoint(same, witness(state)).status).toBe(422);
    // A proof from 0 must be empty; size 0 must have the empty root.
    const proofFrom0 = formatAddCheckpointRequest({
      oldSize: 0,
      proof: [t4.root()],
      checkpoint: note(t10),
    });
    expect(checkAddCheckpoint(proofFrom0, witness(undefined)).status).toBe(422);
    const zero = signCheckpoint({ origin: signer.name, size: 0, rootHash: t4.root() }, signer);
    expect(
      checkAddCheckpoint(
        formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: zero }),
        witness(undefined),
      ).status,
    ).toBe(422);
    const empty = signCheckpoint({ origin: signer.name, size: 0, rootHash: emptyRoot() }, signer);
    expect(
      checkAddCheckpoint(
        formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: empty }),
        witness(undefined),
      ).status,
    ).toBe(200);
  });

  it('refuses unknown logs (404) and checkpoints not signed by the log key (403)', async () => {
    const t = tree(5);
    const other = parseSignerKey(generateSignerKey('other.example/log').signerKey);
    const otherNote = signCheckpoint({ origin: other.name, size: 5, rootHash: t.root() }, other);
    expect(
      checkAddCheckpoint(
        formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: otherNote }),
        witness(undefined),
      ).status,
    ).toBe(404);
    const stolenName = parseSignerKey(generateSignerKey(signer.name).signerKey);
    expect(
      checkAddCheckpoint(
        formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: note(t, stolenName) }),
        witness(undefined),
      ).status,
    ).toBe(403);
    expect(checkAddCheckpoint('garbage', witness(undefined)).status).toBe(400);
  });

  it('merges cosignature lines and names the monitoring path', () => {
    const n = note(tree(2));
    expect(() => addCosignatureLines(n, 'not a line\n')).toThrow(/non-signature/);
    expect(originHash('example.com/behind-the-sofa')).toMatch(/^[0-9a-f]{64}$/);
  });
});
