import { defineErrors } from '../../platform/errors.ts';

export const pipelineErrors = defineErrors({
  PIPELINES_PROJECT_NOT_FOUND: {
    category: 'invalid',
    message: 'The pipeline names a project that does not exist',
    solve: 'Apply the Project first (it may come earlier in the same manifest).',
  },
  PIPELINES_ENVIRONMENT_NOT_FOUND: {
    category: 'invalid',
    message: 'A deploy stage names an environment that does not exist in the project',
    solve: 'Apply the Environment first, or fix `spec.stages[].environment`.',
  },
  PIPELINES_STAGE_POOL_CONFLICT: {
    category: 'invalid',
    message: "A deploy stage names a runner pool other than its environment's",
    solve:
      "Remove `runnerPool` from the deploy stage: it always runs in the environment's `spec.runnerPool` (or `default`).",
  },
  PIPELINES_PIPELINE_NOT_FOUND: {
    category: 'not_found',
    message: 'The pipeline (or that version of it) does not exist',
    solve:
      'Check `custody get Pipeline --project P` and `custody pipeline history NAME --project P`.',
  },
});
