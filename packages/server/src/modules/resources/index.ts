export { resourceMigrations } from './migrations.ts';
export { KyselyResourceStore } from './resource-store.ts';
export {
  ResourceService,
  contentHash,
  resourceId,
  type ApplyResult,
  type ResourceView,
} from './resource-service.ts';
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
} from './kind-handler.ts';
