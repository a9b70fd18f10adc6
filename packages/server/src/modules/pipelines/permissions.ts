import { definePermissions } from '../../platform/permissions.ts';

export const pipelinePermissions = definePermissions({
  'pipelines.pipeline.apply': 'Apply Pipeline resources (a new version of a pipeline)',
  'pipelines.pipeline.read': 'Read pipelines and their versions',
});
