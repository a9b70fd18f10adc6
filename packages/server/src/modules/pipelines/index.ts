export { pipelineMigrations } from './migrations.ts';
export { pipelinePermissions } from './permissions.ts';
export { pipelineErrors } from './errors.ts';
export { KyselyPipelineStore } from './pipeline-store.ts';
export { pipelineKind } from './pipeline-kind.ts';
export {
  PipelineGovernance,
  governedSubjectType,
  pipelineSubjectId,
} from './pipeline-governance.ts';
export { PipelineService, type PipelineVersion } from './pipeline-service.ts';
export { pipelineRoutes } from './pipeline-routes.ts';
export {
  pipelineSpecSchema,
  pipelineJsonSchema,
  stageNeeds,
  artifactEnvName,
  type PipelineSpec,
  type StageSpec,
  type StepSpec,
} from './pipeline-spec.ts';
