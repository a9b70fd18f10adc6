export { resourceMigrations } from './migrations.ts';
export { KyselyResourceStore } from './resource-store.ts';
export {
  ResourceService,
  contentHash,
  resourceId,
  type ApplyResult,
  type InForceListener,
  type InForceVersion,
} from './resource-service.ts';
export type { ResourceView, VersionView, VersionState, ApprovalRef } from './resource-views.ts';
export { governedSubjectType, governedSubjectId } from './governed-changes.ts';
export { resourceRoutes } from './resource-routes.ts';
export { resourcePermissions } from './permissions.ts';
export { resourceErrors } from './errors.ts';
export { namePattern, formatPath } from './manifest-parser.ts';
export type {
  KindHandler,
  AnyKindHandler,
  MaterializeOutcome,
  ResourceDocument,
  AppliedResource,
  Governance,
  GovernanceInput,
  GovernanceReader,
} from './kind-handler.ts';
