export { retentionMigrations } from './migrations.ts';
export { retentionPermissions } from './permissions.ts';
export { retentionErrors } from './errors.ts';
export { KyselyRetentionStore } from './retention-store.ts';
export {
  RetentionPeriods,
  defaultRetentionYears,
  type RetentionReader,
} from './retention-periods.ts';
export { HoldService, type HoldView, type HoldRequest, type ChangeRuns } from './hold-service.ts';
export { FixityCheck, type FixityResult, type FixityMismatch } from './fixity.ts';
export { retentionRoutes } from './retention-routes.ts';
export { expectedTriggers, type GuardState } from './guard-check.ts';
export { assembleRetention, retentionPeriods } from './retention-assembly.ts';
