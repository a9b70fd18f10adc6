// c2sp.org/tlog-tiles layout: hash tiles at tile/<L>/<N>[.p/<W>] (256 hashes of tree level
// 8L each when full) and entry bundles at tile/entries/<N>[.p/<W>] (each entry a big-endian
// uint16 length and its bytes). <N> is written in 3-digit groups, all but the last with an
// "x" prefix (1234067 -> x001/x234/067), so a static file tree can serve it.
import { LedgerError } from './errors.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './hash-readers.ts';
import { HASH_SIZE } from './merkle.ts';
import type { MemoryTree } from './memory-tree.ts';
import { assertSize } from './nodes.ts';

export const MAX_ENTRY_SIZE = 0xffff;

export interface TileCoord {
  /** Tile level; 'entries' for entry bundles. */
  readonly level: number;
  readonly index: number;
  /** 1..256; 256 means a full tile. */
  readonly width: number;
}

export interface Tile extends TileCoord {
  readonly bytes: Uint8Array;
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_TILE_INVALID', message);
}

/** The <N> path element(s) for a tile index. */
export function encodeTileIndex(index: number): string {
  assertSize(index, 'tile index');
  let s = String(index % 1000).padStart(3, '0');
  for (let n = Math.floor(index / 1000); n > 0; n = Math.floor(n / 1000))
    s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
  return s;
}

function suffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH)
    invalid(`tile width ${width} is not in 1..256`);
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** Path of a hash tile (width 256 = full tile, no .p suffix). */
export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > 63)
    invalid(`tile level ${level} is not in 0..63`);
  return `tile/${level}/${encodeTileIndex(index)}${suffix(width)}`;
}

/** Path of an entry bundle (width 256 = full bundle). */
export function entryBundlePath(index: number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${suffix(width)}`;
}

export type ParsedTilePath =
  | {
      readonly kind: 'hashes';
      readonly level: number;
      readonly index: number;
      readonly width: number;
    }
  | { readonly kind: 'entries'; readonly index: number; readonly width: number };

/** Parses a tile or entry bundle path; undefined if it is not one (strictly, as written by tilePath). */
export function parseTilePath(path: string): ParsedTilePath | undefined {
  const m =
    /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(
      path,
    );
  if (!m) return undefined;
  const groups = m[2]!.split('/');
  if (groups.length > 1 && groups[0] === 'x000') return undefined; // no leading zero groups
  let index = 0;
  for (const g of groups) index = index * 1000 + Number(g.replace('x', ''));
  if (!Number.isSafeInteger(index)) return undefined;
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && width >= TILE_WIDTH) return undefined;
  if (m[1] === 'entries') return { kind: 'entries', index, width };
  const level = Number(m[1]);
  if (level > 63) return undefined;
  return { kind: 'hashes', level, index, width };
}

/** Every tile (full and partial) that a tree of the given size is published as, level by level. */
export function tileCoordsForSize(size: number): TileCoord[] {
  assertSize(size, 'tree size');
  const out: TileCoord[] = [];
  for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / TILE_WIDTH)) {
    // `count` hashes exist at tree level 8 * level.
    const full = Math.floor(count / TILE_WIDTH);
    for (let i = 0; i < full; i++) out.push({ level, index: i, width: TILE_WIDTH });
    if (count % TILE_WIDTH > 0) out.push({ level, index: full, width: count % TILE_WIDTH });
  }
  return out;
}

/** Entry bundles a tree of the given size is published as. */
export function entryBundleCoordsForSize(size: number): TileCoord[] {
  return tileCoordsForSize(size).filter((t) => t.level === 0);
}

/** Width of tile (level, index) in a tree of the given size; 0 if it has no hashes yet. */
export function tileWidthAt(level: number, index: number, size: number): number {
  const count = Math.floor(size / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, count - index * TILE_WIDTH));
}

function joinHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

/** Splits tile bytes into hashes; throws unless the length is a whole number (1..256) of hashes. */
export function splitTile(bytes: Uint8Array): Uint8Array[] {
  if (
    bytes.length === 0 ||
    bytes.length % HASH_SIZE !== 0 ||
    bytes.length > TILE_WIDTH * HASH_SIZE
  ) {
    invalid(`tile of ${bytes.length} bytes is not 1..256 hashes`);
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += HASH_SIZE) out.push(bytes.slice(i, i + HASH_SIZE));
  return out;
}

/** All tiles of a tree at the given size (default: the whole tree). */
export function tilesFromTree(tree: MemoryTree, size = tree.size): Tile[] {
  if (size > tree.size)
    throw new LedgerError('LEDGER_RANGE_INVALID', `size ${size} exceeds tree size ${tree.size}`);
  return tileCoordsForSize(size).map((c) => {
    const start = c.index * TILE_WIDTH;
    return {
      ...c,
      bytes: joinHashes(tree.levelHashes(c.level * TILE_HEIGHT, start, start + c.width)),
    };
  });
}

/** Concatenates entries as big-endian uint16 length-prefixed records. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE)
      throw new LedgerError(
        'LEDGER_ENTRY_TOO_LARGE',
        `entry of ${e.length} bytes exceeds the 65535-byte bundle limit`,
      );
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** Splits an entry bundle into entries (views into `bytes`); throws on a truncated record. */
export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) invalid('entry bundle ends inside a length prefix');
    const len = (bytes[o]! << 8) | bytes[o + 1]!;
    if (o + 2 + len > bytes.length) invalid('entry bundle ends inside an entry');
    out.push(bytes.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}
