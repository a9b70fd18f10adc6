import { defineErrors } from '../../platform/errors.ts';

export const ledgerErrors = defineErrors({
  LEDGER_KEY_UNREADABLE: {
    category: 'invalid',
    message: 'The ledger signing key cannot be read',
    solve:
      'Check `ledgerKeyFile` (or `<dataDir>/ledger.key`): the file must exist, be readable by the server and hold a `PRIVATE+KEY+...` signer key.',
  },
  LEDGER_KEY_MISMATCH: {
    category: 'conflict',
    message: 'This replica holds another signing key than the one the log already uses',
    solve:
      'Give every replica the same key file through `ledgerKeyFile`; a log signed by two keys cannot be verified with one.',
  },
  LEDGER_CHECKPOINT_NOT_FOUND: {
    category: 'not_found',
    message: 'No signed checkpoint of that size exists',
    solve:
      'Ask for the latest checkpoint (`GET /api/v1/ledger/checkpoint`) or request one (`POST /api/v1/ledger/checkpoints`).',
  },
  LEDGER_SIZE_INVALID: {
    category: 'invalid',
    message: 'The tree size or sequence number is outside the signed log',
    solve:
      'Use sizes no larger than the latest checkpoint and sequence numbers below the tree size; request a new checkpoint if the entry is newer.',
  },
  LEDGER_TILE_NOT_FOUND: {
    category: 'not_found',
    message: 'No such tile or entry bundle',
    solve:
      'Tile paths follow c2sp.org/tlog-tiles (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`) and must lie within the integrated tree.',
  },
  LEDGER_CHECKPOINT_TIMEOUT: {
    category: 'unavailable',
    message: 'No checkpoint covering the current log was signed in time',
    solve:
      'The replica holding the ledger lock may be down or stalled; check the server logs (`ledger`) and retry.',
  },
  LEDGER_ENTRY_TAMPERED: {
    category: 'internal',
    message:
      'Stored ledger or audit data is malformed or does not match what was signed; the ledger stopped',
    solve:
      'Someone changed the audit trail in the database. Run `custody audit verify --server URL` to locate it and investigate; the ledger will not sign over a changed entry.',
  },
  LEDGER_STATE_INCONSISTENT: {
    category: 'conflict',
    message:
      "The database's ledger is not consistent with what this signer signed; nothing is signed",
    solve:
      "The signer keeps its own record of the last checkpoint it signed (`<ledger key file>.state`). The database's tree, tiles or checkpoints no longer extend it: someone rewrote history in the database, or the database was restored to another log. Investigate with `custody audit verify --since <saved checkpoint>` and the witnesses' checkpoints; restore the database from a backup that extends the signer's state. Never delete the state file to make this go away.",
  },
  LEDGER_HISTORY_TRUNCATED: {
    category: 'conflict',
    message:
      'The database holds less history than this signer has signed (entries or checkpoints were deleted); nothing is signed',
    solve:
      "The signer's state file records a larger signed log than the database now holds: the tail of the audit trail or signed checkpoints were deleted, or an older backup was restored. Restore the database from a backup that holds every entry up to the size in the state file, and run `custody audit verify`.",
  },
  LEDGER_STATE_INVALID: {
    category: 'internal',
    message:
      "The signer's state file cannot be read or written, or is not signed by this log's key",
    solve:
      'Check `ledgerStateFile` (default `<ledger key file>.state`): the directory must be writable by the server and the file must be the one this signer wrote. Restore it from the replica that wrote it; removing it makes this replica trust the database again at its next start (as at first start).',
  },
  LEDGER_ENTRY_UNAUTHENTICATED: {
    category: 'conflict',
    message:
      'An audit entry is not authenticated by the application (its MAC is missing or wrong); the ledger signs up to the entry before it and stops',
    solve:
      'A row was inserted or rewritten in `audit_entries` outside the application (`details.seq` names it). This is a control failure: preserve the database as evidence and investigate who had write access. The ledger will not sign the entry or anything after it.',
  },
  LEDGER_WITNESS_CONFIG_INVALID: {
    category: 'invalid',
    message: 'A configured witness is invalid',
    solve:
      'Each entry of `witnesses` needs `url` (the submission prefix, http:// or https://) and `verifierKey` (the witness verifier key `name+keyid+base64`, signature type 0x04, printed by `custody witness` at its first start).',
  },
  LEDGER_COSIGNED_CHECKPOINT_NOT_FOUND: {
    category: 'not_found',
    message: 'No checkpoint is cosigned by that many witnesses',
    solve:
      'Configure witnesses (`witnesses`) and check `GET /api/v1/ledger/status` for their last errors; the leader submits each new checkpoint to them about once a second.',
  },
});
