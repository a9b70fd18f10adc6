export { ledgerMigrations } from './migrations.ts';
export { ledgerPermissions } from './permissions.ts';
export { ledgerErrors } from './errors.ts';
export { Ledger, type LedgerOptions, type CosignedCheckpoint } from './ledger.ts';
export { LeaderElection, type LeaderDuty } from './leader-election.ts';
export {
  LedgerService,
  leafBytes,
  toCheckpointView,
  type AuditSource,
  type CheckpointView,
  type ControlFailure,
} from './ledger-service.ts';
export { type WitnessConfig, type WitnessStatus } from './witness-publisher.ts';
export { KyselyLedgerStore, type CheckpointRow } from './ledger-store.ts';
export { ledgerRoutes } from './ledger-routes.ts';
export {
  ledgerEntryKey,
  ledgerKeyPath,
  ledgerStatePath,
  loadOrCreateSigner,
  newLogOrigin,
} from './ledger-key.ts';
