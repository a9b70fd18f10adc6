export { projectMigrations } from './migrations.ts';
export { projectPermissions } from './permissions.ts';
export { projectErrors } from './errors.ts';
export { KyselyProjectStore } from './project-store.ts';
export { projectKinds } from './project-kinds.ts';
export {
  environmentKind,
  registerEnvironmentApprovals,
  environmentChangeSubject,
} from './environment-kind.ts';
export { ProjectService, type EnvironmentView } from './project-service.ts';
export { environmentSpecSchema, type EnvironmentSpec } from './environment-spec.ts';
