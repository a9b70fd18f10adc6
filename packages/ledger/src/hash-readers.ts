// HashReader implementations over persisted data, so a server can create proofs without
// holding the tree in memory: from tlog-tiles (O(log n) tile reads per proof) or, for small
// trees, straight from stored leaf hashes.
import { LedgerError } from './errors.ts';
import { HASH_SIZE, rootFromLeafHashes } from './merkle.ts';
import { assertSize, type NodeId } from './nodes.ts';
import type { HashReader } from './proofs.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/**
 * Reads the tile at (tile level, tile index). `width` is the width the tree size in use
 * requires (256 for a full tile); returning a wider tile of the same index (e.g. the full
 * tile instead of a partial one) is fine, since tile hashes never change position.
 */
export type TileReader = (
  level: number,
  index: number,
  width: number,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/** Tile hashes at tile level L are tree nodes at level 8L; nodes in between are rehashed. */
export function tileHashReader(readTile: TileReader, treeSize: number): HashReader {
  assertSize(treeSize, 'tree size');
  return {
    async readNodes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
      const cache = new Map<string, Promise<Uint8Array | undefined>>();
      const fetch = (
        level: number,
        index: number,
        width: number,
      ): Promise<Uint8Array | undefined> => {
        const key = `${level}/${index}/${width}`;
        let p = cache.get(key);
        if (!p) {
          p = Promise.resolve(readTile(level, index, width));
          cache.set(key, p);
        }
        return p;
      };
      return Promise.all(
        nodes.map(async ({ level, index }) => {
          const tileLevel = Math.floor(level / TILE_HEIGHT);
          const count = 2 ** (level % TILE_HEIGHT);
          const first = index * count;
          const tileIndex = Math.floor(first / TILE_WIDTH);
          const offset = first % TILE_WIDTH;
          const available = Math.floor(treeSize / TILE_WIDTH ** tileLevel);
          const width = Math.min(TILE_WIDTH, available - tileIndex * TILE_WIDTH);
          if (offset + count > width) {
            throw new LedgerError(
              'LEDGER_RANGE_INVALID',
              `node ${level}/${index} is not complete at tree size ${treeSize}`,
            );
          }
          const tile = await fetch(tileLevel, tileIndex, width);
          if (!tile)
            throw new LedgerError(
              'LEDGER_TILE_INVALID',
              `tile ${tileLevel}/${tileIndex} (width ${width}) is not available`,
            );
          if (
            tile.length % HASH_SIZE !== 0 ||
            tile.length < width * HASH_SIZE ||
            tile.length > TILE_WIDTH * HASH_SIZE
          ) {
            throw new LedgerError(
              'LEDGER_TILE_INVALID',
              `tile ${tileLevel}/${tileIndex} has ${tile.length} bytes, need ${width} hashes`,
            );
          }
          const hashes: Uint8Array[] = [];
          for (let i = offset; i < offset + count; i++)
            hashes.push(tile.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
          return count === 1 ? hashes[0]! : rootFromLeafHashes(hashes);
        }),
      );
    },
  };
}

/** Stored leaf hashes [start, end), in order. */
export type LeafHashSource = (
  start: number,
  end: number,
) => readonly Uint8Array[] | Promise<readonly Uint8Array[]>;

/**
 * Rehashes each node from its leaf hashes: simple, but reads O(n) hashes for a proof about
 * an n-leaf tree. Fine for tests and small logs; use tiles for large ones.
 */
export function leafHashReader(getLeafHashes: LeafHashSource): HashReader {
  return {
    async readNodes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
      const out: Uint8Array[] = [];
      for (const { level, index } of nodes) {
        const width = 2 ** level;
        const leaves = await getLeafHashes(index * width, (index + 1) * width);
        if (leaves.length !== width)
          throw new LedgerError(
            'LEDGER_RANGE_INVALID',
            `expected ${width} leaf hashes for node ${level}/${index}, got ${leaves.length}`,
          );
        out.push(rootFromLeafHashes(leaves));
      }
      return out;
    },
  };
}
