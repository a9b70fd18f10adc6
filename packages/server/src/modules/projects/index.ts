export { projectMigrations } from './migrations.ts';
export { projectPermissions } from './permissions.ts';
export { projectErrors } from './errors.ts';
export { KyselyProjectStore } from './project-store.ts';
export { projectKinds, type ProjectRetention } from './project-kinds.ts';
export { environmentKind } from './environment-kind.ts';
export { ProductionScope, type EnvironmentSelector } from './production-scope.ts';
export { ProjectService, type EnvironmentView } from './project-service.ts';
export {
  environmentSpecSchema,
  type EnvironmentSpec,
  type QualityGates,
} from './environment-spec.ts';
