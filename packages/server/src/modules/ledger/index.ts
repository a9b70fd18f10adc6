export { ledgerMigrations } from './migrations.ts';
export { ledgerPermissions } from './permissions.ts';
export { ledgerErrors } from './errors.ts';
export { Ledger, type LedgerOptions } from './ledger.ts';
export { LeaderElection, type LeaderDuty } from './leader-election.ts';
export {
  LedgerService,
  leafBytes,
  toCheckpointView,
  type AuditSource,
  type CheckpointView,
} from './ledger-service.ts';
export { KyselyLedgerStore, type CheckpointRow } from './ledger-store.ts';
export { ledgerRoutes } from './ledger-routes.ts';
export { ledgerKeyPath, loadOrCreateSigner, newLogOrigin } from './ledger-key.ts';
