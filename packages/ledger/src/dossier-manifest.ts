// The dossier's manifest (manifest.json): its shape, the fixed paths of a dossier, and a strict
// parser. The format is documented in docs/reference/dossier.md; a change here is a new format.
import { isCanonicalJson } from './canonical-json.ts';
import { comparePaths, unsafePathReason } from './dossier-zip.ts';

export const DOSSIER_FORMAT = 'custody.dossier/v1';
export const DOSSIER_MANIFEST_PAYLOAD_TYPE = 'application/vnd.custody.dossier.manifest+json';

export const DOSSIER_MANIFEST_PATH = 'manifest.json';
export const DOSSIER_SIGNATURE_PATH = 'manifest.json.dsse';
export const DOSSIER_CHECKPOINT_PATH = 'ledger/checkpoint';
export const DOSSIER_ENTRIES_PATH = 'ledger/entries.jsonl';
export const DOSSIER_PROOFS_PATH = 'ledger/proofs.json';

export interface DossierManifestFile {
  readonly path: string;
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly size: number;
}

export interface DossierManifest {
  readonly format: typeof DOSSIER_FORMAT;
  /** The deployment the dossier is for, `<runId>/<stage>`. */
  readonly subject: string;
  /** ISO 8601 time the dossier was built. */
  readonly createdAt: string;
  readonly ledger: {
    /** The checkpoint's origin line. */
    readonly origin: string;
    /** The signing key's 8-hex-digit C2SP key ID (also the DSSE keyid). */
    readonly keyId: string;
    /** The checkpoint's tree size and root hash (lowercase hex). */
    readonly treeSize: number;
    readonly rootHash: string;
    /** How many entries ledger/entries.jsonl holds. */
    readonly entries: number;
  };
  /** Every file but manifest.json and manifest.json.dsse, sorted by the UTF-8 bytes of path. */
  readonly files: readonly DossierManifestFile[];
}

/** The paths every dossier's manifest lists. */
export const DOSSIER_LEDGER_PATHS: readonly string[] = [
  DOSSIER_CHECKPOINT_PATH,
  DOSSIER_ENTRIES_PATH,
  DOSSIER_PROOFS_PATH,
];

/** Why a content file path is not allowed, or undefined. */
export function contentPathReason(path: string): string | undefined {
  const unsafe = unsafePathReason(path);
  if (unsafe) return unsafe;
  if (path.startsWith('ledger/')) return "paths under 'ledger/' are the dossier's own";
  if (path.startsWith('manifest')) return "paths starting with 'manifest' are the dossier's own";
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function exactKeys(o: Record<string, unknown>, keys: readonly string[]): string | undefined {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0) return `unknown field '${extra[0]}'`;
  const missing = keys.filter((k) => !(k in o));
  if (missing.length > 0) return `missing field '${missing[0]}'`;
  return undefined;
}

/** Parses manifest.json's text; returns the manifest or why it is not well-formed. */
export function parseManifest(text: string): { manifest: DossierManifest } | { problem: string } {
  if (!isCanonicalJson(text)) return { problem: 'it is not RFC 8785 canonical JSON' };
  const m: unknown = JSON.parse(text);
  if (!isObject(m)) return { problem: 'it is not a JSON object' };
  const top = exactKeys(m, ['createdAt', 'files', 'format', 'ledger', 'subject']);
  if (top) return { problem: top };
  if (m.format !== DOSSIER_FORMAT)
    return {
      problem: `format is ${JSON.stringify(m.format)}, this verifier reads ${DOSSIER_FORMAT}`,
    };
  if (typeof m.subject !== 'string' || m.subject.length === 0)
    return { problem: 'subject must be a non-empty string' };
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt)))
    return { problem: 'createdAt must be an ISO 8601 time' };
  const l = m.ledger;
  if (!isObject(l)) return { problem: 'ledger must be an object' };
  const lk = exactKeys(l, ['entries', 'keyId', 'origin', 'rootHash', 'treeSize']);
  if (lk) return { problem: `ledger: ${lk}` };
  if (typeof l.origin !== 'string' || l.origin.length === 0)
    return { problem: 'ledger.origin must be a non-empty string' };
  if (typeof l.keyId !== 'string' || !/^[0-9a-f]{8}$/.test(l.keyId))
    return { problem: 'ledger.keyId must be 8 lowercase hex digits' };
  if (!isCount(l.treeSize)) return { problem: 'ledger.treeSize must be a non-negative integer' };
  if (typeof l.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(l.rootHash))
    return { problem: 'ledger.rootHash must be 64 lowercase hex digits' };
  if (!isCount(l.entries)) return { problem: 'ledger.entries must be a non-negative integer' };
  if (!Array.isArray(m.files)) return { problem: 'files must be an array' };
  let previous: string | undefined;
  for (const [i, f] of m.files.entries()) {
    if (!isObject(f)) return { problem: `files[${i}] is not an object` };
    const fk = exactKeys(f, ['path', 'sha256', 'size']);
    if (fk) return { problem: `files[${i}]: ${fk}` };
    if (typeof f.path !== 'string') return { problem: `files[${i}].path must be a string` };
    const reason = unsafePathReason(f.path);
    if (reason) return { problem: `files[${i}].path '${f.path}': ${reason}` };
    if (f.path === DOSSIER_MANIFEST_PATH || f.path === DOSSIER_SIGNATURE_PATH)
      return { problem: `files must not list ${f.path}` };
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
      return { problem: `files[${i}].sha256 must be 64 lowercase hex digits` };
    if (!isCount(f.size)) return { problem: `files[${i}].size must be a non-negative integer` };
    if (previous !== undefined && comparePaths(previous, f.path) >= 0)
      return { problem: `files are not sorted by path or list '${f.path}' twice` };
    previous = f.path;
  }
  const listed = new Set((m.files as DossierManifestFile[]).map((f) => f.path));
  for (const p of DOSSIER_LEDGER_PATHS)
    if (!listed.has(p)) return { problem: `files must list ${p}` };
  return { manifest: m as unknown as DossierManifest };
}
