export { executionMigrations } from './migrations.ts';
export { executionPermissions } from './permissions.ts';
export { executionErrors } from './errors.ts';
export { KyselyExecutionStore, type FileRow } from './execution-store.ts';
export { ExecutionEngine, type ExecutionEngineDeps } from './execution-engine.ts';
export { defaultEngineOptions, type EngineOptions } from './engine-options.ts';
export type { JobPayload, SecretSource } from './job-payload.ts';
export type { CommitRangeReport } from './commit-ranges.ts';
export type { StepResult } from './job-lifecycle.ts';
export type {
  AttestationPort,
  AttestationRequest,
  EvidenceOrigin,
  EvidencePort,
  JobEvidence,
  ParsedEvidence,
} from './evidence-port.ts';
export type { DeploymentGatePort, GateRun, GateStage, GateVerdict } from './gate-port.ts';
export {
  ExecutionReads,
  type RunRecord,
  type StageRecord,
  type JobRecord,
  type ReleaseRecord,
  type CommitRecord,
  type CommitRangeRecord,
  type DeploymentRecord,
  type DeploymentFilter,
  type BlobRecord,
  type BlobUse,
  deploymentId,
  parseDeploymentId,
} from './execution-reads.ts';
export { executionRoutes } from './execution-routes.ts';
export { rollbackTargetOf, type RollbackTarget } from './rollback-plan.ts';
export type { RunView, RunDetail } from './execution-views.ts';
export * from './execution-state.ts';
export type { RunPolicyHook } from './run-policy-port.ts';
