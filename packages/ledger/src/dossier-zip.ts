// The dossier's zip container: a deterministic writer (fflate's zipSync, entries stored
// uncompressed, fixed mtimes, sorted by path) and a strict reader. Stored entries make the
// bytes independent of any compressor's version and leave no slack (deflate padding bits,
// alternative encodings) where a changed byte could go unnoticed; they also make zip bombs
// impossible. The reader parses the central directory itself, so it refuses what fflate's
// unzipSync would silently accept: duplicate names (the last would win), unsafe paths, CRC
// mismatches, sizes beyond the caps, data outside the entries.
import { zipSync, type Zippable } from 'fflate';
import { isWellFormedString } from './bytes.ts';

/** Caps on what a dossier may hold once unzipped. */
export interface DossierLimits {
  readonly maxEntries: number;
  readonly maxTotalBytes: number;
}

export const DEFAULT_DOSSIER_LIMITS: DossierLimits = {
  maxEntries: 10_000,
  maxTotalBytes: 512 * 1024 * 1024,
};

/** Thrown by the reader and writer; `path` names the zip entry concerned, when there is one. */
export class DossierArchiveError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** Why a path is unsafe, or undefined when it is a plain relative '/'-separated file path. */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'the path is empty';
  if (path.length > 1024) return 'the path is longer than 1024 characters';
  if (!isWellFormedString(path)) return 'the path is not well-formed Unicode';
  if (path.startsWith('/')) return 'the path is absolute';
  if (path.includes('\\')) return 'the path contains a backslash';
  if (/^[A-Za-z]:/.test(path)) return 'the path starts with a drive letter';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'the path contains a control character';
  for (const segment of path.split('/')) {
    if (segment === '..') return "the path contains '..'";
    if (segment === '.') return "the path contains a '.' segment";
    if (segment === '') return 'the path has an empty segment (a directory entry or //)';
  }
  return undefined;
}

// The DOS epoch, built from local fields because zip stores local time (fflate converts with
// the local getters), and built per call because the time zone can change at run time (TZ):
// every time zone writes the same bytes.
const fixedMtime = (): Date => new Date(1980, 0, 1, 0, 0, 0);

/** Zips the files in path order with fixed metadata: the same files give the same bytes. */
export function zipFiles(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const paths = [...files.keys()].sort(comparePaths);
  const data: Zippable = {};
  const mtime = fixedMtime();
  for (const p of paths) {
    const reason = unsafePathReason(p);
    if (reason) throw new DossierArchiveError(`refusing to zip '${p}': ${reason}`, p);
    data[p] = [files.get(p)!, { level: 0, mtime, os: 0, attrs: 0 }];
  }
  if (paths.length === 0) throw new DossierArchiveError('a dossier needs at least one file');
  return zipSync(data, { level: 0, mtime });
}

/** Byte order of the UTF-8 paths (= UTF-16 code unit order only for the BMP, so compare bytes). */
export function comparePaths(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  return ea.length - eb.length;
}

const u16 = (d: Uint8Array, o: number): number => d[o]! | (d[o + 1]! << 8);
const u32 = (d: Uint8Array, o: number): number =>
  (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;

// CRC-32 (IEEE), slicing by 4: the dossier's bytes pass through here once, so it matters.
let crcTables: Uint32Array[] | undefined;
function crc32(data: Uint8Array): number {
  if (!crcTables) {
    const t = Array.from({ length: 4 }, () => new Uint32Array(256));
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[0]![n] = c >>> 0;
    }
    for (let n = 0; n < 256; n++)
      for (let k = 1; k < 4; k++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t[0]![t[k - 1]![n]! & 0xff]!;
    crcTables = t;
  }
  const [t0, t1, t2, t3] = crcTables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = 0xffffffff;
  let i = 0;
  for (const end = data.length - 3; i < end; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!;
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function fail(message: string, path?: string): never {
  throw new DossierArchiveError(message, path);
}

const DOS_DATE_1980_01_01 = 0x21;
const VERSION_20 = 20;
const UTF8_FLAG = 0x800;

/**
 * Reads every file of a zip, strictly: the exact layout packDossier writes and nothing else.
 * One end-of-central-directory record without comment at the very end; no zip64, no
 * encryption, no data descriptors, no extra fields or comments; every entry stored
 * (uncompressed), dated 1980-01-01 00:00, attributes 0; local headers that repeat the central
 * ones byte for byte and follow each other without gaps; CRC-32 that matches; safe, unique
 * paths; within the limits. So every byte of a dossier is either checked framing or content.
 */
export function unzipFiles(
  zip: Uint8Array,
  limits: DossierLimits = DEFAULT_DOSSIER_LIMITS,
): Map<string, Uint8Array> {
  if (!(zip instanceof Uint8Array) || zip.length < 22) fail('the file is not a zip archive');
  const eocd = zip.length - 22;
  if (u32(zip, eocd) !== 0x06054b50)
    fail('the file is not a zip archive (no end of central directory at its end)');
  const count = u16(zip, eocd + 10);
  if (u16(zip, eocd + 4) !== 0 || u16(zip, eocd + 6) !== 0 || u16(zip, eocd + 8) !== count)
    fail('multi-disk zip archives are not supported');
  if (count === 0xffff) fail('zip64 archives are not supported');
  if (count > limits.maxEntries)
    fail(`the archive has ${count} entries, more than the ${limits.maxEntries} allowed`);
  if (u16(zip, eocd + 20) !== 0) fail('the archive has a comment (dossiers never do)');
  const cdSize = u32(zip, eocd + 12);
  const cdStart = u32(zip, eocd + 16);
  if (cdStart + cdSize !== eocd) fail('the central directory is not where the archive says');
  const files = new Map<string, Uint8Array>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let total = 0;
  let at = cdStart;
  let expectedLocal = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || u32(zip, at) !== 0x02014b50) fail('the central directory is damaged');
    const flags = u16(zip, at + 8);
    const method = u16(zip, at + 10);
    const crc = u32(zip, at + 16);
    const csize = u32(zip, at + 20);
    const usize = u32(zip, at + 24);
    const nameLen = u16(zip, at + 28);
    const local = u32(zip, at + 42);
    if (at + 46 + nameLen > eocd) fail('the central directory is damaged');
    const nameBytes = zip.subarray(at + 46, at + 46 + nameLen);
    let name: string;
    try {
      name = decoder.decode(nameBytes);
    } catch {
      return fail('an entry name is not valid UTF-8');
    }
    const reason = unsafePathReason(name);
    if (reason) fail(`unsafe path '${name}': ${reason}`, name);
    if (files.has(name)) fail(`'${name}' is in the archive twice`, name);
    if (method !== 0)
      fail(
        `'${name}' is compressed; dossier entries are stored (was the dossier re-zipped?)`,
        name,
      );
    const ascii = nameBytes.every((b) => b < 0x80);
    if (
      u16(zip, at + 4) !== VERSION_20 ||
      u16(zip, at + 6) !== VERSION_20 ||
      flags !== (ascii ? 0 : UTF8_FLAG) ||
      u16(zip, at + 12) !== 0 ||
      u16(zip, at + 14) !== DOS_DATE_1980_01_01 ||
      u16(zip, at + 30) !== 0 ||
      u16(zip, at + 32) !== 0 ||
      u16(zip, at + 34) !== 0 ||
      u16(zip, at + 36) !== 0 ||
      u32(zip, at + 38) !== 0
    )
      fail(
        `the zip header of '${name}' is not the one dossiers use (version, flags, time, attributes, extra fields)`,
        name,
      );
    if (csize !== usize) fail(`the sizes of '${name}' disagree`, name);
    if (usize === 0xffffffff || local === 0xffffffff)
      fail('zip64 archives are not supported', name);
    total += usize;
    if (total > limits.maxTotalBytes)
      fail(`the archive unpacks to more than the ${limits.maxTotalBytes} bytes allowed`, name);
    // Entries follow each other with nothing in between: no hidden data in gaps.
    if (local !== expectedLocal || local + 30 + nameLen > cdStart || u32(zip, local) !== 0x04034b50)
      fail(`the local header of '${name}' is missing or misplaced`, name);
    // The local header repeats the central one: version needed .. extra length, then the name.
    for (let k = 0; k < 26; k++)
      if (zip[local + 4 + k] !== zip[at + 6 + k])
        fail(`the local and central headers of '${name}' disagree`, name);
    for (let k = 0; k < nameLen; k++)
      if (zip[local + 30 + k] !== nameBytes[k])
        fail(`the local and central headers of '${name}' disagree`, name);
    const dataStart = local + 30 + nameLen;
    const dataEnd = dataStart + csize;
    if (dataEnd > cdStart) fail(`the data of '${name}' runs past the archive`, name);
    const bytes = zip.slice(dataStart, dataEnd);
    if (crc32(bytes) !== crc) fail(`the CRC-32 of '${name}' does not match its data`, name);
    files.set(name, bytes);
    expectedLocal = dataEnd;
    at += 46 + nameLen;
  }
  if (at !== eocd) fail('the central directory has trailing bytes');
  if (expectedLocal !== cdStart) fail('there are bytes between the last entry and the directory');
  return files;
}
