// Domain errors carry a stable code (LEDGER_*), never an HTTP status.

export type LedgerErrorCode =
  | 'LEDGER_CANONICAL_JSON_INVALID'
  | 'LEDGER_HASH_INVALID'
  | 'LEDGER_PROOF_INVALID'
  | 'LEDGER_RANGE_INVALID'
  | 'LEDGER_STATE_INVALID'
  | 'LEDGER_NOTE_INVALID'
  | 'LEDGER_NOTE_UNVERIFIED'
  | 'LEDGER_NOTE_BAD_SIGNATURE'
  | 'LEDGER_KEY_INVALID'
  | 'LEDGER_CHECKPOINT_INVALID'
  | 'LEDGER_TILE_INVALID'
  | 'LEDGER_ENTRY_TOO_LARGE'
  | 'LEDGER_ENVELOPE_INVALID'
  | 'LEDGER_COSIGNATURE_INVALID'
  | 'LEDGER_WITNESS_REQUEST_INVALID'
  // Attestations (sigstore-bundle.ts and the predicate builders).
  | 'LEDGER_PREDICATE_INVALID'
  | 'LEDGER_BUNDLE_INVALID'
  | 'LEDGER_SIGNATURE_INVALID'
  | 'LEDGER_PREDICATE_TYPE_MISMATCH'
  | 'LEDGER_SUBJECT_MISMATCH'
  // Change dossiers (dossier.ts): inputs packDossier refuses.
  | 'LEDGER_DOSSIER_INVALID';

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
  }
}
