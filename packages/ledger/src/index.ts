// Public surface of @custody/ledger. Named exports only; everything here runs in Node and
// in browsers (SHA-256 is picked by the "#sha256" import conditions in package.json).
export { LedgerError, type LedgerErrorCode } from './errors.ts';
export {
  bytesEqual,
  concatBytes,
  fromBase64,
  fromHex,
  isWellFormedString,
  toBase64,
  toHex,
  utf8Decode,
  utf8Encode,
} from './bytes.ts';
export {
  canonicalBytes,
  canonicalJson,
  isCanonicalJson,
  type JsonValue,
} from './canonical-json.ts';
export {
  emptyRoot,
  HASH_SIZE,
  leafHash,
  leafHashHexOfText,
  nodeHash,
  rootFromLeafHashes,
  rootFromLeaves,
} from './merkle.ts';
export { foldRange, rangeNodes, type NodeId } from './nodes.ts';
export { CompactRange, type CompactRangeState, type NodeVisitor } from './compact-range.ts';
export {
  assertConsistency,
  assertInclusion,
  consistencyProofPlan,
  createConsistencyProof,
  createInclusionProof,
  inclusionProofPlan,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type HashReader,
  type ProofPlan,
} from './proofs.ts';
export {
  leafHashReader,
  tileHashReader,
  TILE_HEIGHT,
  TILE_WIDTH,
  type LeafHashSource,
  type TileReader,
} from './hash-readers.ts';
export { MemoryTree } from './memory-tree.ts';
export {
  ALG_ED25519,
  computeKeyId,
  generateSignerKey,
  isValidKeyName,
  keyIdHex,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
  type GeneratedKey,
  type NoteSigner,
  type NoteVerifier,
} from './note-keys.ts';
export {
  formatNote,
  MAX_NOTE_SIGNATURES,
  openNote,
  parseNote,
  signatureLine,
  signNote,
  verifyNote,
  type Note,
  type NoteSignature,
  type OpenedNote,
} from './note.ts';
export {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  type Checkpoint,
  type OpenCheckpointOptions,
  type OpenedCheckpoint,
} from './checkpoint.ts';
export {
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  entryBundleCoordsForSize,
  entryBundlePath,
  MAX_ENTRY_SIZE,
  parseTilePath,
  splitTile,
  tileCoordsForSize,
  tilePath,
  tilesFromTree,
  tileWidthAt,
  type ParsedTilePath,
  type Tile,
  type TileCoord,
} from './tiles.ts';
export {
  LogVerifier,
  verifyConsistencyBetween,
  verifyLog,
  verifyLogAsync,
  type LogEntry,
  type LogVerifierOptions,
  type SyncTileReader,
  type VerifyFailure,
  type VerifyFailureCode,
  type VerifyLogOptions,
  type VerifyResult,
} from './verify.ts';
export {
  buildExport,
  CHECKPOINT_PATH,
  readExport,
  VERIFIER_KEY_PATH,
  verifyExport,
  type BuildExportOptions,
  type ExportFile,
  type ExportReader,
  type ReadExportResult,
  type VerifyExportOptions,
} from './export.ts';
export {
  ed25519PublicKeyToPem,
  ed25519Signer,
  ed25519Verifier,
  generateEd25519Key,
  generateP256Key,
  openEnvelope,
  p256PublicKeyToPem,
  p256Signer,
  p256Verifier,
  pae,
  signEnvelope,
  verifierFromPem,
  verifyEnvelope,
  type DsseEnvelope,
  type DsseSignature,
  type DsseSigner,
  type DsseVerifier,
  type KeyPair,
  type OpenedEnvelope,
} from './dsse.ts';
export {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  makeStatement,
  openStatement,
  parseStatement,
  signStatement,
  statementBytes,
  type InTotoStatement,
  type InTotoSubject,
} from './in-toto.ts';
export {
  ALG_COSIGNATURE_V1,
  cosignatureMessage,
  generateCosignerKey,
  parseCosignerKey,
  parseCosignerVerifierKey,
  verifyCosignedCheckpoint,
  type CosignatureVerifier,
  type CosignedCheckpointResult,
  type Cosigner,
  type WitnessCosignature,
} from './cosignature.ts';
export {
  addCosignatureLines,
  checkAddCheckpoint,
  formatAddCheckpointRequest,
  MAX_WITNESS_PROOF_LINES,
  originHash,
  parseAddCheckpointRequest,
  type AddCheckpointDecision,
  type AddCheckpointRequest,
  type WitnessedState,
} from './witness.ts';
export {
  formatTlogProof,
  parseTlogProof,
  TLOG_PROOF_HEADER,
  verifyTlogProof,
  type TlogProof,
} from './tlog-proof.ts';
export {
  CUSTODY_PIPELINE_BUILD_TYPE,
  makeSlsaProvenance,
  SLSA_PROVENANCE_V1,
  type SlsaProvenanceInput,
} from './slsa-provenance.ts';
export {
  makeTestResultStatement,
  TEST_RESULT_V01,
  testResultOf,
  type TestReportDescriptor,
  type TestResult,
  type TestResultInput,
} from './test-result-predicate.ts';
export {
  CYCLONEDX_BOM,
  makeSbomStatement,
  sbomMediaTypes,
  sbomPredicateType,
  SPDX_DOCUMENT,
  type SbomEncoding,
  type SbomFormat,
  type SbomInput,
} from './sbom-predicate.ts';
export { predicateTypeAliases, resolvePredicateType } from './predicate-types.ts';
export {
  makeSigstoreBundle,
  parseSigstoreBundle,
  publicKeyDerFromPem,
  publicKeyId,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  signAttestationBundle,
  verifyAttestationBundle,
  type SigstoreBundle,
  type VerifiedAttestation,
  type VerifyAttestationBundleOptions,
} from './sigstore-bundle.ts';
export {
  dossierSigner,
  entriesFileBytes,
  packDossier,
  proofsFileBytes,
  readDossier,
  type DossierFile,
  type DossierLedgerSection,
  type PackDossierOptions,
} from './dossier.ts';
export {
  dossierEntries,
  verifyDossier,
  type DossierFailure,
  type DossierFailureCode,
  type DossierVerifyResult,
  type VerifyDossierOptions,
} from './dossier-verify.ts';
export {
  contentPathReason,
  DOSSIER_CHECKPOINT_PATH,
  DOSSIER_ENTRIES_PATH,
  DOSSIER_FORMAT,
  DOSSIER_LEDGER_PATHS,
  DOSSIER_MANIFEST_PATH,
  DOSSIER_MANIFEST_PAYLOAD_TYPE,
  DOSSIER_PROOFS_PATH,
  DOSSIER_SIGNATURE_PATH,
  parseManifest,
  type DossierManifest,
  type DossierManifestFile,
} from './dossier-manifest.ts';
export {
  DEFAULT_DOSSIER_LIMITS,
  unsafePathReason,
  zipFiles,
  type DossierLimits,
} from './dossier-zip.ts';
