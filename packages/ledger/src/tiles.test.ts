import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { MemoryTree } from './memory-tree.ts';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  entryBundlePath,
  parseTilePath,
  splitTile,
  tileCoordsForSize,
  tilePath,
  tilesFromTree,
  tileWidthAt,
} from './tiles.ts';

describe('tile paths', () => {
  it('encodes indexes in x-prefixed 3-digit groups', () => {
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(7)).toBe('007');
    expect(encodeTileIndex(999)).toBe('999');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067');
    expect(tilePath(2, 5, 17)).toBe('tile/2/005.p/17');
    expect(entryBundlePath(1000, 255)).toBe('tile/entries/x001/000.p/255');
    expect(entryBundlePath(3)).toBe('tile/entries/003');
    expect(() => tilePath(64, 0)).toThrow(LedgerError);
    expect(() => tilePath(0, 0, 0)).toThrow(LedgerError);
    expect(() => tilePath(0, 0, 257)).toThrow(LedgerError);
  });

  it('parses what it writes and nothing else', () => {
    for (const [level, index, width] of [
      [0, 0, 256],
      [0, 1234067, 5],
      [63, 999, 255],
      [1, 1000, 1],
    ] as const) {
      expect(parseTilePath(tilePath(level, index, width))).toEqual({
        kind: 'hashes',
        level,
        index,
        width,
      });
      expect(parseTilePath(entryBundlePath(index, width))).toEqual({
        kind: 'entries',
        index,
        width,
      });
    }
    for (const bad of [
      'tile/0/1',
      'tile/00/000',
      'tile/64/000',
      'tile/0/x000/001',
      'tile/0/001/002',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/0/000.p/07',
      'checkpoint',
      'tile/entries/x1/000',
    ]) {
      expect(parseTilePath(bad), bad).toBeUndefined();
    }
  });

  it('lists the tiles of a tree size as the spec describes', () => {
    // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    // tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    // partial level 2 tile of width 1."
    const coords = tileCoordsForSize(70000);
    const level0 = coords.filter((c) => c.level === 0);
    expect(level0.filter((c) => c.width === 256)).toHaveLength(273);
    expect(level0.filter((c) => c.width < 256)).toEqual([{ level: 0, index: 273, width: 112 }]);
    expect(coords.filter((c) => c.level === 1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(coords.filter((c) => c.level === 2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    expect(tileCoordsForSize(256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(tileCoordsForSize(0)).toEqual([]);
    expect(tileWidthAt(1, 1, 70000)).toBe(17);
    expect(tileWidthAt(0, 274, 70000)).toBe(0);
  });

  it('computes tiles whose hashes are the tree nodes at levels 0, 8, 16', () => {
    const tree = new MemoryTree();
    for (let i = 0; i < 256 * 3 + 5; i++) tree.appendLeaf(new Uint8Array([i & 255, i >> 8]));
    const tiles = tilesFromTree(tree);
    expect(tiles.map((t) => `${t.level}/${t.index}/${t.width}`)).toEqual([
      '0/0/256',
      '0/1/256',
      '0/2/256',
      '0/3/5',
      '1/0/3',
    ]);
    const level1 = splitTile(tiles[4]!.bytes);
    expect(level1[1]).toEqual(tree.node(8, 1));
    expect(splitTile(tiles[3]!.bytes)[4]).toEqual(tree.leafHashes(256 * 3 + 4, 256 * 3 + 5)[0]);
    expect(() => splitTile(new Uint8Array(33))).toThrow(LedgerError);
  });
});

describe('entry bundles', () => {
  it('round-trips length-prefixed entries', () => {
    const entries = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      new Uint8Array(300).fill(9),
      new Uint8Array(65535),
    ];
    const bundle = encodeEntryBundle(entries);
    expect(bundle.subarray(0, 2)).toEqual(new Uint8Array([0, 0]));
    expect(bundle.subarray(2, 4)).toEqual(new Uint8Array([0, 3]));
    expect(bundle.subarray(7, 9)).toEqual(new Uint8Array([0x01, 0x2c]));
    expect(decodeEntryBundle(bundle)).toEqual(entries);
    expect(decodeEntryBundle(new Uint8Array(0))).toEqual([]);
  });

  it('rejects oversized entries and truncated bundles', () => {
    expect(() => encodeEntryBundle([new Uint8Array(65536)])).toThrow(/65535/);
    expect(() => decodeEntryBundle(new Uint8Array([0]))).toThrow(LedgerError);
    expect(() => decodeEntryBundle(new Uint8Array([0, 3, 1, 2]))).toThrow(LedgerError);
  });
});
