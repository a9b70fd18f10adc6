export { executionMigrations } from './migrations.ts';
export { executionPermissions } from './permissions.ts';
export { executionErrors } from './errors.ts';
export { KyselyExecutionStore, type FileRow } from './execution-store.ts';
export {
  ExecutionEngine,
  defaultEngineOptions,
  type EngineOptions,
  type JobPayload,
  type SecretSource,
  type StepResult,
  type DeploymentGatePort,
  type GateRun,
} from './execution-engine.ts';
export { executionRoutes } from './execution-routes.ts';
export { rollbackTargetOf, type RollbackTarget } from './rollback-plan.ts';
export type { RunView, RunDetail } from './execution-views.ts';
export * from './execution-state.ts';
