// Offline verification of a change dossier: only the zip and the trusted ledger verifier key.
// The checks run in the documented order (docs/reference/dossier.md) and the first failure is
// returned with the path it concerns, so a person can see what was changed.
import { bytesEqual, fromBase64, fromHex, toBase64, toHex, utf8Decode } from './bytes.ts';
import { canonicalJson, isCanonicalJson } from './canonical-json.ts';
import { openCheckpoint, type Checkpoint } from './checkpoint.ts';
import {
  DOSSIER_CHECKPOINT_PATH,
  DOSSIER_ENTRIES_PATH,
  DOSSIER_MANIFEST_PATH,
  DOSSIER_MANIFEST_PAYLOAD_TYPE,
  DOSSIER_PROOFS_PATH,
  DOSSIER_SIGNATURE_PATH,
  parseManifest,
  type DossierManifest,
} from './dossier-manifest.ts';
import { DossierArchiveError, unzipFiles, type DossierLimits } from './dossier-zip.ts';
import { openEnvelope, type DsseEnvelope } from './dsse.ts';
import { leafHash } from './merkle.ts';
import { keyIdHex, parseVerifierKey, type NoteVerifier } from './note-keys.ts';
import { rootFromInclusionProof } from './proofs.ts';
import { sha256 } from '#sha256';

export type DossierFailureCode =
  | 'DOSSIER_ARCHIVE_INVALID'
  | 'DOSSIER_MANIFEST_INVALID'
  | 'DOSSIER_SIGNATURE_INVALID'
  | 'DOSSIER_FILE_MISSING'
  | 'DOSSIER_FILE_UNLISTED'
  | 'DOSSIER_FILE_HASH_MISMATCH'
  | 'DOSSIER_CHECKPOINT_INVALID'
  | 'DOSSIER_ENTRY_INVALID'
  | 'DOSSIER_PROOF_INVALID'
  | 'DOSSIER_KEY_INVALID';

export interface DossierFailure {
  readonly code: DossierFailureCode;
  readonly message: string;
  readonly path?: string;
}

export type DossierVerifyResult =
  | {
      ok: true;
      manifest: DossierManifest;
      checkpoint: { origin: string; size: number; rootHash: string };
      entries: number;
      files: number;
    }
  | { ok: false; failure: DossierFailure };

export interface VerifyDossierOptions {
  /** The trusted ledger verifier key, note format (`name+keyid+base64`). */
  readonly verifierKey: string;
  /** Caps on the unzipped archive (defaults: 10,000 entries, 512 MiB). */
  readonly limits?: DossierLimits;
}

class Failed extends Error {
  constructor(readonly failure: DossierFailure) {
    super(failure.message);
  }
}

function fail(code: DossierFailureCode, message: string, path?: string): never {
  throw new Failed(path === undefined ? { code, message } : { code, message, path });
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function text(bytes: Uint8Array, code: DossierFailureCode, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail(code, `${path} is not UTF-8 text`, path);
  }
}

function checkSignature(
  files: Map<string, Uint8Array>,
  manifestBytes: Uint8Array,
  manifest: DossierManifest,
  key: NoteVerifier,
): void {
  const path = DOSSIER_SIGNATURE_PATH;
  const raw = files.get(path);
  if (!raw) fail('DOSSIER_SIGNATURE_INVALID', 'the dossier has no manifest signature', path);
  let envelope: DsseEnvelope;
  try {
    envelope = JSON.parse(text(raw, 'DOSSIER_SIGNATURE_INVALID', path)) as DsseEnvelope;
  } catch (e) {
    if (e instanceof Failed) throw e;
    return fail(
      'DOSSIER_SIGNATURE_INVALID',
      'the manifest signature is not a JSON DSSE envelope',
      path,
    );
  }
  const keyid = keyIdHex(key.keyId);
  let payload: Uint8Array;
  try {
    ({ payload } = openEnvelope(envelope, [{ keyid, verify: (m, s) => key.verify(m, s) }]));
  } catch {
    return fail(
      'DOSSIER_SIGNATURE_INVALID',
      `the manifest is not signed by the trusted key ${key.name}+${keyid} (signed by another key, or changed after signing)`,
      path,
    );
  }
  if (!bytesEqual(payload, manifestBytes))
    fail(
      'DOSSIER_SIGNATURE_INVALID',
      'the signed manifest is not the manifest.json in the dossier',
      DOSSIER_MANIFEST_PATH,
    );
  // The envelope must be exactly the one the packer writes, so no byte of it is slack: one
  // signature, named by the trusted key ID, canonical base64, canonical JSON, one newline.
  const first: unknown = envelope.signatures[0]?.sig;
  let exact = '';
  try {
    exact =
      canonicalJson({
        payload: toBase64(manifestBytes),
        payloadType: DOSSIER_MANIFEST_PAYLOAD_TYPE,
        signatures: [{ keyid, sig: toBase64(fromBase64(String(first))) }],
      }) + '\n';
  } catch {
    exact = ''; // the first signature is not base64: not the canonical envelope
  }
  if (exact === '' || utf8Decode(raw) !== exact)
    fail(
      'DOSSIER_SIGNATURE_INVALID',
      `the envelope is not the canonical one (payload type ${DOSSIER_MANIFEST_PAYLOAD_TYPE}, one signature with keyid ${keyid}, canonical JSON)`,
      path,
    );
  if (manifest.ledger.keyId !== keyid)
    fail(
      'DOSSIER_SIGNATURE_INVALID',
      `the manifest names key ID ${manifest.ledger.keyId}, not the trusted ${keyid}`,
      DOSSIER_MANIFEST_PATH,
    );
}

function checkFiles(files: Map<string, Uint8Array>, manifest: DossierManifest): void {
  for (const f of manifest.files) {
    const bytes = files.get(f.path);
    if (!bytes)
      fail(
        'DOSSIER_FILE_MISSING',
        `${f.path} is listed in the manifest but not in the dossier`,
        f.path,
      );
    if (bytes.length !== f.size)
      fail(
        'DOSSIER_FILE_HASH_MISMATCH',
        `${f.path} has ${bytes.length} bytes, the manifest says ${f.size}`,
        f.path,
      );
    if (toHex(sha256(bytes)) !== f.sha256)
      fail(
        'DOSSIER_FILE_HASH_MISMATCH',
        `${f.path} does not have the SHA-256 the manifest lists (it was changed)`,
        f.path,
      );
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const p of files.keys())
    if (p !== DOSSIER_MANIFEST_PATH && p !== DOSSIER_SIGNATURE_PATH && !listed.has(p))
      fail(
        'DOSSIER_FILE_UNLISTED',
        `${p} is in the dossier but not listed in the manifest (it was added)`,
        p,
      );
}

function checkCheckpoint(
  files: Map<string, Uint8Array>,
  manifest: DossierManifest,
  key: NoteVerifier,
): Checkpoint {
  const path = DOSSIER_CHECKPOINT_PATH;
  let cp: Checkpoint;
  try {
    cp = openCheckpoint(text(files.get(path)!, 'DOSSIER_CHECKPOINT_INVALID', path), key).checkpoint;
  } catch (e) {
    if (e instanceof Failed) throw e;
    return fail(
      'DOSSIER_CHECKPOINT_INVALID',
      `the checkpoint is not signed by the trusted key: ${(e as Error).message}`,
      path,
    );
  }
  const l = manifest.ledger;
  if (cp.origin !== l.origin || cp.size !== l.treeSize || toHex(cp.rootHash) !== l.rootHash)
    fail(
      'DOSSIER_CHECKPOINT_INVALID',
      `the checkpoint (${cp.origin}, size ${cp.size}) is not the one the manifest names (${l.origin}, size ${l.treeSize})`,
      path,
    );
  return cp;
}

interface ProofLine {
  index: number;
  hashes: Uint8Array[];
}

function readProofs(files: Map<string, Uint8Array>, cp: Checkpoint): ProofLine[] {
  const path = DOSSIER_PROOFS_PATH;
  const body = text(files.get(path)!, 'DOSSIER_PROOF_INVALID', path);
  if (!isCanonicalJson(body))
    fail('DOSSIER_PROOF_INVALID', 'the proofs file is not canonical JSON', path);
  const p: unknown = JSON.parse(body);
  if (!isObject(p) || !Array.isArray(p.proofs) || !Number.isSafeInteger(p.treeSize))
    fail('DOSSIER_PROOF_INVALID', 'the proofs file needs {proofs: [...], treeSize}', path);
  if (p.treeSize !== cp.size)
    fail(
      'DOSSIER_PROOF_INVALID',
      `the proofs are for tree size ${String(p.treeSize)}, the checkpoint is of size ${cp.size}`,
      path,
    );
  return p.proofs.map((q: unknown, i) => {
    if (
      !isObject(q) ||
      !Number.isSafeInteger(q.index) ||
      !Array.isArray(q.hashes) ||
      !q.hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
    )
      fail(
        'DOSSIER_PROOF_INVALID',
        `proof ${i} needs an integer index and 64-hex-digit hashes`,
        path,
      );
    return { index: q.index as number, hashes: (q.hashes as string[]).map((h) => fromHex(h)) };
  });
}

function checkEntries(
  files: Map<string, Uint8Array>,
  manifest: DossierManifest,
  cp: Checkpoint,
): number {
  const proofs = readProofs(files, cp);
  const path = DOSSIER_ENTRIES_PATH;
  const body = text(files.get(path)!, 'DOSSIER_ENTRY_INVALID', path);
  if (body.length > 0 && !body.endsWith('\n'))
    fail('DOSSIER_ENTRY_INVALID', 'the last entry line does not end in a newline', path);
  const lines = body.length === 0 ? [] : body.slice(0, -1).split('\n');
  if (lines.length !== manifest.ledger.entries)
    fail(
      'DOSSIER_ENTRY_INVALID',
      `${lines.length} entry lines, the manifest says ${manifest.ledger.entries}`,
      path,
    );
  if (proofs.length !== lines.length)
    fail(
      'DOSSIER_PROOF_INVALID',
      `${proofs.length} proofs for ${lines.length} entries`,
      DOSSIER_PROOFS_PATH,
    );
  const encoder = new TextEncoder();
  let last = -1;
  for (const [i, line] of lines.entries()) {
    const { index } = proofs[i]!;
    const where = `entry line ${i + 1} (leaf ${index})`;
    if (!isCanonicalJson(line))
      fail('DOSSIER_ENTRY_INVALID', `${where} is not canonical JSON`, path);
    if (index < 0 || index >= cp.size)
      fail(
        'DOSSIER_ENTRY_INVALID',
        `${where}: the index is not below the tree size ${cp.size}`,
        path,
      );
    if (index <= last) fail('DOSSIER_ENTRY_INVALID', `${where}: indexes are not increasing`, path);
    last = index;
    // Audit entries record their leaf index as `seq`: a swapped or renumbered entry fails here.
    const seq: unknown = (JSON.parse(line) as { seq?: unknown } | null)?.seq;
    if (seq !== undefined && seq !== index)
      fail(
        'DOSSIER_ENTRY_INVALID',
        `${where} records seq ${String(seq)}, not its leaf index`,
        path,
      );
    let root: Uint8Array;
    try {
      root = rootFromInclusionProof(
        leafHash(encoder.encode(line)),
        index,
        cp.size,
        proofs[i]!.hashes,
      );
    } catch (e) {
      return fail(
        'DOSSIER_PROOF_INVALID',
        `the proof for ${where} is malformed: ${(e as Error).message}`,
        DOSSIER_PROOFS_PATH,
      );
    }
    if (!bytesEqual(root, cp.rootHash))
      fail(
        'DOSSIER_PROOF_INVALID',
        `the proof for ${where} does not lead to the checkpoint's root`,
        DOSSIER_PROOFS_PATH,
      );
  }
  return lines.length;
}

/** Offline: only the bytes and the trusted ledger verifier key (note format, as
 *  `GET /api/v1/ledger/key` returns it). Names the FIRST thing that fails. */
export function verifyDossier(zip: Uint8Array, options: VerifyDossierOptions): DossierVerifyResult {
  try {
    let key: NoteVerifier;
    try {
      key = parseVerifierKey(options.verifierKey);
    } catch (e) {
      return fail('DOSSIER_KEY_INVALID', `the verifier key is not usable: ${(e as Error).message}`);
    }
    let files: Map<string, Uint8Array>;
    try {
      files = unzipFiles(zip, options.limits);
    } catch (e) {
      if (!(e instanceof DossierArchiveError)) throw e;
      return fail(
        'DOSSIER_ARCHIVE_INVALID',
        `the archive cannot be read safely: ${e.message}`,
        e.path,
      );
    }
    const manifestBytes = files.get(DOSSIER_MANIFEST_PATH);
    if (!manifestBytes)
      fail('DOSSIER_MANIFEST_INVALID', 'the dossier has no manifest.json', DOSSIER_MANIFEST_PATH);
    const parsed = parseManifest(
      text(manifestBytes, 'DOSSIER_MANIFEST_INVALID', DOSSIER_MANIFEST_PATH),
    );
    if ('problem' in parsed)
      fail(
        'DOSSIER_MANIFEST_INVALID',
        `manifest.json is not a valid manifest: ${parsed.problem}`,
        DOSSIER_MANIFEST_PATH,
      );
    const { manifest } = parsed;
    checkSignature(files, manifestBytes, manifest, key);
    checkFiles(files, manifest);
    const cp = checkCheckpoint(files, manifest, key);
    const entries = checkEntries(files, manifest, cp);
    return {
      ok: true,
      manifest,
      checkpoint: { origin: cp.origin, size: cp.size, rootHash: toHex(cp.rootHash) },
      entries,
      files: manifest.files.length,
    };
  } catch (e) {
    if (e instanceof Failed) return { ok: false, failure: e.failure };
    throw e;
  }
}

/** The entry lines of a verified dossier's ledger section, parsed (for summaries). */
export function dossierEntries(files: Map<string, Uint8Array>): unknown[] {
  const body = utf8Decode(files.get(DOSSIER_ENTRIES_PATH) ?? new Uint8Array());
  return body.length === 0
    ? []
    : body
        .slice(0, -1)
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
}
