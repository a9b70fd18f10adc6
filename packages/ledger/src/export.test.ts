import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCheckpoint } from './checkpoint.ts';
import { buildExport, readExport, verifyExport, type ExportFile } from './export.ts';
import { auditEntry, fixtureKeys, makeLog, ORIGIN, seqOf } from './ledger-fixture.ts';
import { MemoryTree } from './memory-tree.ts';
import { parseSignerKey } from './note-keys.ts';
import { repoRoot } from './test-support.ts';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  entryBundlePath,
  tilePath,
  tilesFromTree,
} from './tiles.ts';
import type { VerifyResult } from './verify.ts';

const N = 70_000 + 5; // full and partial tiles at levels 0, 1 and 2
const fx = makeLog(N, [N]);
const files = buildExport({
  entries: fx.entries,
  checkpoint: fx.checkpoints[0]!,
  verifierKey: fx.verifierKey,
  tree: fx.tree,
});

function reader(list: readonly ExportFile[]): (p: string) => Uint8Array | undefined {
  const m = new Map(list.map((f) => [f.path, f.bytes]));
  return (p) => m.get(p);
}

function withFile(p: string, change: (bytes: Uint8Array) => Uint8Array | undefined): ExportFile[] {
  const out: ExportFile[] = [];
  let found = false;
  for (const f of files) {
    if (f.path !== p) {
      out.push(f);
      continue;
    }
    found = true;
    const b = change(f.bytes);
    if (b) out.push({ path: p, bytes: b });
  }
  if (!found) throw new Error(`no file ${p}`);
  return out;
}

function editBundle(
  index: number,
  width: number,
  edit: (entries: Uint8Array[]) => Uint8Array[],
): ExportFile[] {
  return withFile(entryBundlePath(index, width), (b) =>
    encodeEntryBundle(edit(decodeEntryBundle(b).map((e) => e.slice()))),
  );
}

function expectFailure(r: VerifyResult, code: string, firstBadIndex?: number): void {
  if (r.ok) throw new Error(`expected ${code}, but the export verified`);
  expect(r.code, r.message).toBe(code);
  if (firstBadIndex !== undefined) expect(r.firstBadIndex, r.message).toBe(firstBadIndex);
}

describe('export', () => {
  it('lays out checkpoint, vkey, tiles and entry bundles', () => {
    const paths = files.map((f) => f.path);
    expect(paths.slice(0, 2)).toEqual(['checkpoint', 'vkey']);
    expect(paths).toContain(tilePath(0, 272));
    expect(paths).not.toContain(tilePath(0, 273));
    expect(paths).toContain(tilePath(0, 273, 117));
    expect(paths).toContain(tilePath(1, 1, 17));
    expect(paths).toContain(tilePath(2, 0, 1));
    expect(paths).toContain(entryBundlePath(273, 117));
    expect(paths.filter((p) => p.startsWith('tile/entries/'))).toHaveLength(274);
    expect(new TextDecoder().decode(files[1]!.bytes)).toBe(fx.verifierKey + '\n');
  });

  it('reads back the entries', async () => {
    const back = await readExport(reader(files));
    expect(back.size).toBe(N);
    expect(back.checkpoint).toBe(fx.checkpoints[0]);
    expect(back.entries).toHaveLength(N);
    expect(back.entries[12345]).toEqual(fx.entries[12345]);
  });

  it('verifies an untouched export', async () => {
    const r = await verifyExport(reader(files), fx.verifierKey, {
      origin: ORIGIN,
      entryIndex: seqOf,
    });
    expect(r).toMatchObject({ ok: true, size: N });
  });

  it('refuses to build an export whose entries do not match the checkpoint', () => {
    const entries = fx.entries.slice();
    entries[7] = auditEntry(99_999_999);
    expect(() => buildExport({ entries, checkpoint: fx.checkpoints[0]! })).toThrow(/root/);
    expect(() =>
      buildExport({ entries: fx.entries.slice(0, 10), checkpoint: fx.checkpoints[0]! }),
    ).toThrow(/exceeds/);
    expect(() =>
      buildExport({
        entries: fx.entries,
        checkpoint: fx.checkpoints[0]!,
        verifierKey: fixtureKeys(3).verifierKey,
      }),
    ).toThrow();
  });

  it('names a changed entry', async () => {
    const bad = editBundle(40, 256, (es) => {
      es[17]![30] = es[17]![30]! ^ 1;
      return es;
    });
    expectFailure(
      await verifyExport(reader(bad), fx.verifierKey),
      'LEDGER_LEAF_HASH_MISMATCH',
      40 * 256 + 17,
    );
  });

  it('names a deleted entry', async () => {
    const bad = editBundle(3, 256, (es) => es.filter((_, i) => i !== 100));
    expectFailure(
      await verifyExport(reader(bad), fx.verifierKey),
      'LEDGER_LEAF_HASH_MISMATCH',
      3 * 256 + 100,
    );
    const last = editBundle(273, 117, (es) => es.slice(0, -1));
    expectFailure(await verifyExport(reader(last), fx.verifierKey), 'LEDGER_ENTRY_MISSING', N - 1);
  });

  it('names an inserted entry', async () => {
    const bad = editBundle(5, 256, (es) => [...es.slice(0, 9), auditEntry(123456), ...es.slice(9)]);
    expectFailure(
      await verifyExport(reader(bad), fx.verifierKey),
      'LEDGER_LEAF_HASH_MISMATCH',
      5 * 256 + 9,
    );
    const atEnd = editBundle(5, 256, (es) => [...es, auditEntry(123456)]);
    expectFailure(await verifyExport(reader(atEnd), fx.verifierKey), 'LEDGER_ENTRY_EXTRA', 6 * 256);
  });

  it('names two swapped entries', async () => {
    const bad = editBundle(9, 256, (es) => {
      [es[200], es[201]] = [es[201]!, es[200]!];
      return es;
    });
    expectFailure(
      await verifyExport(reader(bad), fx.verifierKey),
      'LEDGER_LEAF_HASH_MISMATCH',
      9 * 256 + 200,
    );
  });

  it('names a cut tail', async () => {
    const bad = withFile(entryBundlePath(273, 117), () => undefined);
    expectFailure(
      await verifyExport(reader(bad), fx.verifierKey),
      'LEDGER_ENTRY_MISSING',
      273 * 256,
    );
  });

  it('rejects a checkpoint re-signed with another key, even over a consistently rewritten export', async () => {
    const entries = fx.entries.slice();
    entries[777] = auditEntry(5_000_000);
    const tree = MemoryTree.fromLeaves(entries);
    const other = fixtureKeys(9);
    const forged = buildExport({
      entries,
      checkpoint: signCheckpoint(
        { origin: ORIGIN, size: N, rootHash: tree.root() },
        parseSignerKey(other.signerKey),
      ),
      tree,
    });
    expect((await verifyExport(reader(forged), other.verifierKey)).ok).toBe(true);
    const r = await verifyExport(reader(forged), fx.verifierKey);
    expectFailure(r, 'LEDGER_CHECKPOINT_SIGNATURE_INVALID');
  });

  it('brackets a change when entries and all tiles were rewritten', async () => {
    const entries = fx.entries.slice();
    entries[60_000] = auditEntry(5_000_000);
    const tree = MemoryTree.fromLeaves(entries);
    const newTiles = new Map(
      tilesFromTree(tree).map((t) => [tilePath(t.level, t.index, t.width), t.bytes]),
    );
    const rewritten = files.map((f) => {
      const t = newTiles.get(f.path);
      if (t) return { path: f.path, bytes: t };
      if (f.path === entryBundlePath(234))
        return { path: f.path, bytes: encodeEntryBundle(entries.slice(234 * 256, 235 * 256)) };
      return f;
    });
    const r = await verifyExport(reader(rewritten), fx.verifierKey);
    expectFailure(r, 'LEDGER_ROOT_MISMATCH', 0);
    // An older checkpoint the auditor kept narrows it down.
    const kept = signCheckpoint(
      { origin: ORIGIN, size: 50_000, rootHash: fx.tree.root(50_000) },
      parseSignerKey(fx.signerKey),
    );
    const narrowed = await verifyExport(reader(rewritten), fx.verifierKey, {
      moreCheckpoints: [kept],
    });
    expectFailure(narrowed, 'LEDGER_ROOT_MISMATCH', 50_000);
  });

  it('reports a missing checkpoint or tile', async () => {
    expectFailure(
      await verifyExport(reader(withFile('checkpoint', () => undefined)), fx.verifierKey),
      'LEDGER_EXPORT_INVALID',
    );
    expectFailure(
      await verifyExport(reader(withFile(tilePath(0, 2), () => undefined)), fx.verifierKey),
      'LEDGER_TILE_MISSING',
      512,
    );
    expectFailure(
      await verifyExport(reader(withFile(tilePath(1, 0), () => undefined)), fx.verifierKey),
      'LEDGER_TILE_MISSING',
      0,
    );
  });

  it('accepts full tiles and bundles in place of partial ones', async () => {
    const small = makeLog(300, [300]);
    const bigger = makeLog(600, [600]);
    const a = buildExport({ entries: small.entries, checkpoint: small.checkpoints[0]! });
    const b = buildExport({ entries: bigger.entries, checkpoint: bigger.checkpoints[0]! });
    // The partial files of size 300 replaced by the full files of a later size.
    const replaced = [tilePath(0, 1, 44), entryBundlePath(1, 44)];
    expect(a.map((f) => f.path)).toEqual(expect.arrayContaining(replaced));
    const mixed = [
      ...a.filter((f) => !replaced.includes(f.path)),
      ...b.filter((f) => f.path === tilePath(0, 1) || f.path === entryBundlePath(1)),
    ];
    expect(await verifyExport(reader(mixed), small.verifierKey)).toMatchObject({
      ok: true,
      size: 300,
    });
  });
});

describe('export in a separate process', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ledger-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies from a directory with nothing but the ledger package', () => {
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      writeFileSync(path.join(dir, f.path), f.bytes);
    }
    const script = `
      import { readFileSync } from 'node:fs';
      import path from 'node:path';
      import { verifyExport } from '@custody/ledger';
      const [dir, key] = process.argv.slice(-2);
      const read = (p) => { try { return new Uint8Array(readFileSync(path.join(dir, p))); } catch { return undefined; } };
      const r = await verifyExport(read, key);
      console.log(JSON.stringify(r.ok ? { ok: true, size: r.size } : r));
      process.exit(r.ok ? 0 : 1);
    `;
    const run = (): ReturnType<typeof spawnSync> =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script, dir, fx.verifierKey],
        { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
      );
    const ok = run();
    expect(ok.status, String(ok.stderr)).toBe(0);
    expect(JSON.parse(String(ok.stdout))).toEqual({ ok: true, size: N });
    // Tamper on disk: flip a byte inside entry 1000.
    const p = path.join(dir, entryBundlePath(3));
    const bytes = readFileSync(p);
    const entries = decodeEntryBundle(new Uint8Array(bytes));
    const entry = entries[1000 - 768]!;
    entry[50] = entry[50]! ^ 1;
    writeFileSync(p, encodeEntryBundle(entries));
    const bad = run();
    expect(bad.status).toBe(1);
    expect(JSON.parse(String(bad.stdout))).toMatchObject({
      ok: false,
      code: 'LEDGER_LEAF_HASH_MISMATCH',
      firstBadIndex: 1000,
    });
  });
});
