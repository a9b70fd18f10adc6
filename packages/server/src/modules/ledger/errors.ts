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
});
