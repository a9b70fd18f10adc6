// Change dossiers: one signed zip per deployment (docs/reference/dossier.md). This file packs
// them; dossier-verify.ts verifies them offline; dossier-manifest.ts holds the manifest's shape.
import { toHex, utf8Decode, utf8Encode } from './bytes.ts';
import { canonicalBytes, canonicalJson, isCanonicalJson } from './canonical-json.ts';
import { parseCheckpoint } from './checkpoint.ts';
import {
  contentPathReason,
  DOSSIER_CHECKPOINT_PATH,
  DOSSIER_ENTRIES_PATH,
  DOSSIER_FORMAT,
  DOSSIER_MANIFEST_PATH,
  DOSSIER_MANIFEST_PAYLOAD_TYPE,
  DOSSIER_PROOFS_PATH,
  DOSSIER_SIGNATURE_PATH,
  type DossierManifest,
} from './dossier-manifest.ts';
import {
  comparePaths,
  DossierArchiveError,
  unzipFiles,
  zipFiles,
  type DossierLimits,
} from './dossier-zip.ts';
import { signEnvelope, type DsseSigner } from './dsse.ts';
import { LedgerError } from './errors.ts';
import { HASH_SIZE } from './merkle.ts';
import { keyIdHex, type NoteSigner } from './note-keys.ts';
import { parseNote } from './note.ts';
import { sha256 } from '#sha256';

export interface DossierFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface DossierLedgerSection {
  /** The signed checkpoint (C2SP signed note text) every proof below leads to. */
  readonly checkpoint: string;
  /** Each entry's leaf bytes exactly as the tree commits to them (the audit entry's
   *  canonical JSON, `leafBytes(entry)` on the server), with its leaf index, in index order. */
  readonly entries: readonly { readonly index: number; readonly leaf: Uint8Array }[];
  /** One RFC 6962 inclusion proof per entry, same order, for the checkpoint's tree size. */
  readonly proofs: readonly (readonly Uint8Array[])[];
}

export interface PackDossierOptions {
  /** Content files (change.json, commits.json, index.html, …); paths are relative, '/'-separated,
   *  no '..', no leading '/', not starting with 'ledger/' or 'manifest'. */
  readonly files: readonly DossierFile[];
  readonly ledger: DossierLedgerSection;
  /** Signs the manifest (a DSSE signer; on the server built from the ledger's note signer).
   *  Its keyid must be the ledger key's 8-hex-digit key ID (dossierSigner sets it). */
  readonly signer: DsseSigner;
  /** The deployment the dossier is for (`<runId>/<stage>`), and when it was built (ISO). */
  readonly subject: string;
  readonly createdAt: string;
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_DOSSIER_INVALID', message);
}

/** ledger/proofs.json: which leaf each entry line is, and its proof (hex hashes). */
export function proofsFileBytes(
  treeSize: number,
  entries: DossierLedgerSection['entries'],
  proofs: DossierLedgerSection['proofs'],
): Uint8Array {
  return canonicalBytes({
    proofs: entries.map((e, i) => ({ hashes: proofs[i]!.map((h) => toHex(h)), index: e.index })),
    treeSize,
  });
}

/** ledger/entries.jsonl: each leaf's bytes verbatim, one per line. */
export function entriesFileBytes(entries: DossierLedgerSection['entries']): Uint8Array {
  return utf8Encode(entries.map((e) => utf8Decode(e.leaf) + '\n').join(''));
}

/**
 * A deterministic zip: same inputs, same bytes. Checks the inputs' shape (paths, canonical
 * leaves, one proof per entry, indexes in order) but not that the proofs lead to the root:
 * that is verifyDossier's job, and a caller that wants a guarantee runs it on the result.
 */
export function packDossier(options: PackDossierOptions): Uint8Array {
  const { ledger, signer } = options;
  if (!signer.keyid || !/^[0-9a-f]{8}$/.test(signer.keyid))
    invalid('the signer needs the ledger key ID as its keyid (use dossierSigner)');
  if (options.subject.length === 0) invalid('the subject is empty');
  if (Number.isNaN(Date.parse(options.createdAt))) invalid('createdAt is not an ISO 8601 time');
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(ledger.checkpoint).text);
  } catch (e) {
    return invalid(`the checkpoint is not a signed checkpoint: ${(e as Error).message}`);
  }
  if (ledger.proofs.length !== ledger.entries.length)
    invalid(`${ledger.entries.length} entries but ${ledger.proofs.length} proofs`);
  let last = -1;
  for (const [i, e] of ledger.entries.entries()) {
    if (!Number.isSafeInteger(e.index) || e.index <= last)
      invalid(`entry ${i}: indexes must be integers in increasing order`);
    if (e.index >= checkpoint.size)
      invalid(`entry ${i}: index ${e.index} is not below the checkpoint's size ${checkpoint.size}`);
    last = e.index;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(e.leaf);
    } catch {
      return invalid(`entry ${i} (index ${e.index}) is not UTF-8`);
    }
    if (!isCanonicalJson(text)) invalid(`entry ${i} (index ${e.index}) is not canonical JSON`);
    if (ledger.proofs[i]!.some((h) => h.length !== HASH_SIZE))
      invalid(`proof ${i} holds a hash that is not 32 bytes`);
  }
  const files = new Map<string, Uint8Array>();
  for (const f of options.files) {
    const reason = contentPathReason(f.path);
    if (reason) invalid(`file '${f.path}': ${reason}`);
    if (files.has(f.path)) invalid(`file '${f.path}' is given twice`);
    files.set(f.path, f.bytes);
  }
  files.set(DOSSIER_CHECKPOINT_PATH, utf8Encode(ledger.checkpoint));
  files.set(DOSSIER_ENTRIES_PATH, entriesFileBytes(ledger.entries));
  files.set(DOSSIER_PROOFS_PATH, proofsFileBytes(checkpoint.size, ledger.entries, ledger.proofs));
  const manifest: DossierManifest = {
    format: DOSSIER_FORMAT,
    subject: options.subject,
    createdAt: options.createdAt,
    ledger: {
      origin: checkpoint.origin,
      keyId: signer.keyid,
      treeSize: checkpoint.size,
      rootHash: toHex(checkpoint.rootHash),
      entries: ledger.entries.length,
    },
    files: [...files.keys()].sort(comparePaths).map((path) => ({
      path,
      sha256: toHex(sha256(files.get(path)!)),
      size: files.get(path)!.length,
    })),
  };
  const manifestBytes = canonicalBytes(manifest);
  const envelope = signEnvelope(DOSSIER_MANIFEST_PAYLOAD_TYPE, manifestBytes, [signer]);
  files.set(DOSSIER_MANIFEST_PATH, manifestBytes);
  files.set(DOSSIER_SIGNATURE_PATH, utf8Encode(canonicalJson(envelope) + '\n'));
  try {
    return zipFiles(files);
  } catch (e) {
    if (e instanceof DossierArchiveError) invalid(e.message);
    throw e;
  }
}

/** A DSSE signer from the ledger's C2SP note signer (same Ed25519 key, DSSE keyid = key id hex).
 *  A note signer signs the raw message with Ed25519, so the PAE bytes get a plain Ed25519
 *  signature that any Ed25519 library verifies with the public key in the verifier key. */
export function dossierSigner(noteSigner: NoteSigner): DsseSigner {
  return { keyid: keyIdHex(noteSigner.keyId), sign: (message) => noteSigner.sign(message) };
}

/** The files of a dossier (for tools and tests), without verifying. Throws
 *  LEDGER_DOSSIER_INVALID when the zip is unreadable, unsafe, or beyond the limits. */
export function readDossier(zip: Uint8Array, limits?: DossierLimits): Map<string, Uint8Array> {
  try {
    return unzipFiles(zip, limits);
  } catch (e) {
    if (e instanceof DossierArchiveError) invalid(e.message);
    throw e;
  }
}
