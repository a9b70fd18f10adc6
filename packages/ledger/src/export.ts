// A log export is a static tlog-tiles tree: `checkpoint` (the signed note), hash tiles
// under tile/<L>/..., entry bundles under tile/entries/..., and optionally `vkey` (the
// log's verifier key, for reference only: verification always takes the trusted key from
// the auditor). Files are produced as { path, bytes } and read back through a callback,
// so the same code serves a directory, a zip, or HTTP.
import { bytesEqual, utf8Decode, utf8Encode } from './bytes.ts';
import { openCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { LedgerError } from './errors.ts';
import { TILE_WIDTH } from './hash-readers.ts';
import { MemoryTree } from './memory-tree.ts';
import { parseNote } from './note.ts';
import type { NoteVerifier } from './note-keys.ts';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  entryBundleCoordsForSize,
  entryBundlePath,
  tileCoordsForSize,
  tilePath,
  tilesFromTree,
} from './tiles.ts';
import { LogVerifier, type LogVerifierOptions, type VerifyResult } from './verify.ts';

export const CHECKPOINT_PATH = 'checkpoint';
export const VERIFIER_KEY_PATH = 'vkey';

export interface ExportFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface BuildExportOptions {
  /** Leaf bytes in index order; at least as many as the checkpoint's size (extra are left out). */
  readonly entries: readonly Uint8Array[];
  /** The signed checkpoint the export is for. */
  readonly checkpoint: string;
  /** If given, written to `vkey` and used to check the checkpoint's signature first. */
  readonly verifierKey?: string;
  /** A tree over (at least) the entries, if the caller has one already. */
  readonly tree?: MemoryTree;
}

/**
 * Builds every file of an export for the checkpoint's tree size. Throws if the entries do
 * not hash to the checkpoint's root, so an export is never internally inconsistent.
 */
export function buildExport(options: BuildExportOptions): ExportFile[] {
  const cp: Checkpoint =
    options.verifierKey !== undefined
      ? openCheckpoint(options.checkpoint, options.verifierKey).checkpoint
      : parseCheckpoint(parseNote(options.checkpoint).text);
  const size = cp.size;
  if (options.entries.length < size) {
    throw new LedgerError(
      'LEDGER_RANGE_INVALID',
      `checkpoint size ${size} exceeds the ${options.entries.length} entries given`,
    );
  }
  let tree = options.tree;
  if (!tree || tree.size < size) {
    tree = new MemoryTree();
    for (let i = 0; i < size; i++) tree.appendLeaf(options.entries[i]!);
  }
  if (!bytesEqual(tree.root(size), cp.rootHash)) {
    throw new LedgerError(
      'LEDGER_CHECKPOINT_INVALID',
      `the entries do not hash to the checkpoint's root at size ${size}`,
    );
  }
  const files: ExportFile[] = [{ path: CHECKPOINT_PATH, bytes: utf8Encode(options.checkpoint) }];
  if (options.verifierKey !== undefined)
    files.push({ path: VERIFIER_KEY_PATH, bytes: utf8Encode(options.verifierKey.trim() + '\n') });
  for (const t of tilesFromTree(tree, size))
    files.push({ path: tilePath(t.level, t.index, t.width), bytes: t.bytes });
  for (const b of entryBundleCoordsForSize(size)) {
    const start = b.index * TILE_WIDTH;
    files.push({
      path: entryBundlePath(b.index, b.width),
      bytes: encodeEntryBundle(options.entries.slice(start, start + b.width)),
    });
  }
  return files;
}

/** Reads one file of an export; undefined when it does not exist. */
export type ExportReader = (
  path: string,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

export interface ReadExportResult {
  /** The signed checkpoint note, unverified. */
  readonly checkpoint: string;
  readonly size: number;
  readonly entries: Uint8Array[];
}

// Partial tiles/bundles of the export's size, falling back to the full one (tlog-tiles
// lets a log replace a partial tile by the full tile once it exists).
async function readSized(
  readFile: ExportReader,
  path: (width: number) => string,
  width: number,
): Promise<Uint8Array | undefined> {
  const exact = await readFile(path(width));
  if (exact !== undefined || width === TILE_WIDTH) return exact;
  return readFile(path(TILE_WIDTH));
}

/** Reads the checkpoint and all entries of an export (no verification). Throws on missing files. */
export async function readExport(readFile: ExportReader): Promise<ReadExportResult> {
  const raw = await readFile(CHECKPOINT_PATH);
  if (!raw) throw new LedgerError('LEDGER_TILE_INVALID', 'export has no checkpoint');
  const checkpoint = utf8Decode(raw);
  const { size } = parseCheckpoint(parseNote(checkpoint).text);
  const entries: Uint8Array[] = [];
  for (const b of entryBundleCoordsForSize(size)) {
    const bytes = await readSized(readFile, (w) => entryBundlePath(b.index, w), b.width);
    if (!bytes)
      throw new LedgerError(
        'LEDGER_TILE_INVALID',
        `export lacks entry bundle ${entryBundlePath(b.index, b.width)}`,
      );
    const got = decodeEntryBundle(bytes);
    if (got.length < b.width)
      throw new LedgerError(
        'LEDGER_TILE_INVALID',
        `entry bundle ${entryBundlePath(b.index, b.width)} holds ${got.length} entries, not ${b.width}`,
      );
    entries.push(...got.slice(0, b.width));
  }
  return { checkpoint, size, entries };
}

export interface VerifyExportOptions {
  readonly origin?: string;
  /** See LogVerifierOptions.entryIndex. */
  readonly entryIndex?: LogVerifierOptions['entryIndex'];
  /** Extra signed checkpoints (e.g. ones the auditor kept) whose sizes bracket a bad root. */
  readonly moreCheckpoints?: readonly string[];
}

/**
 * Verifies an export against the trusted key: the checkpoint signature, every entry against
 * the level-0 tiles, every higher tile against the recomputed tree, and the root. Names the
 * first bad entry. Entry bundles are read one at a time.
 */
export async function verifyExport(
  readFile: ExportReader,
  keys: string | NoteVerifier | readonly (string | NoteVerifier)[],
  options: VerifyExportOptions = {},
): Promise<VerifyResult> {
  const raw = await readFile(CHECKPOINT_PATH);
  if (!raw)
    return {
      ok: false,
      code: 'LEDGER_EXPORT_INVALID',
      message: `export has no '${CHECKPOINT_PATH}' file`,
    };
  let checkpoint: string;
  try {
    checkpoint = utf8Decode(raw);
  } catch {
    return {
      ok: false,
      code: 'LEDGER_CHECKPOINT_INVALID',
      message: 'checkpoint is not valid UTF-8',
    };
  }
  // Tiles are claims to check, read on demand: level 0 per bundle, higher levels up front.
  const tiles = new Map<string, Uint8Array | undefined>();
  const verifier = new LogVerifier({
    checkpoints: [checkpoint, ...(options.moreCheckpoints ?? [])],
    keys,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.entryIndex ? { entryIndex: options.entryIndex } : {}),
    tiles: (level, index, width) => tiles.get(`${level}/${index}/${width}`),
  });
  if (verifier.failed) return verifier.finish();
  const size = verifier.checkpointSize;
  for (const t of tileCoordsForSize(size)) {
    if (t.level === 0) continue;
    tiles.set(
      `${t.level}/${t.index}/${t.width}`,
      await readSized(readFile, (w) => tilePath(t.level, t.index, w), t.width),
    );
  }
  for (const b of entryBundleCoordsForSize(size)) {
    const start = b.index * TILE_WIDTH;
    const path = entryBundlePath(b.index, b.width);
    tiles.set(
      `0/${b.index}/${b.width}`,
      await readSized(readFile, (w) => tilePath(0, b.index, w), b.width),
    );
    let bytes = await readFile(path);
    let fallback = false;
    if (bytes === undefined && b.width < TILE_WIDTH) {
      bytes = await readFile(entryBundlePath(b.index));
      fallback = true;
    }
    if (!bytes) {
      verifier.reportFailure(
        'LEDGER_ENTRY_MISSING',
        `entry bundle ${path} is missing: entries from ${start} on cannot be read`,
        start,
      );
      break;
    }
    let entries: Uint8Array[];
    try {
      entries = decodeEntryBundle(bytes);
    } catch (e) {
      verifier.reportFailure(
        'LEDGER_EXPORT_INVALID',
        `entry bundle ${path} is malformed: ${(e as Error).message}`,
        start,
      );
      break;
    }
    // A full bundle read in place of a missing partial one rightly holds more entries.
    if (fallback) entries = entries.slice(0, b.width);
    let ok = true;
    for (let i = 0; i < Math.min(entries.length, b.width) && ok; i++)
      ok = verifier.add(start + i, entries[i]!);
    if (!ok) break;
    if (entries.length < b.width) {
      verifier.reportFailure(
        'LEDGER_ENTRY_MISSING',
        `entry bundle ${path} holds ${entries.length} entries, not ${b.width}: entry ${start + entries.length} is missing`,
        start + entries.length,
      );
      break;
    }
    if (entries.length > b.width) {
      verifier.reportFailure(
        'LEDGER_ENTRY_EXTRA',
        `entry bundle ${path} holds ${entries.length} entries, not ${b.width}: an entry was inserted`,
        start + b.width,
      );
      break;
    }
    tiles.delete(`0/${b.index}/${b.width}`);
  }
  return verifier.finish();
}
