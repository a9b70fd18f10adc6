import { defineErrors } from '../../platform/errors.ts';

export const projectErrors = defineErrors({
  PROJECTS_PROJECT_NOT_FOUND: {
    category: 'invalid',
    message: 'The project does not exist',
    solve: 'Apply the Project first (it may come earlier in the same manifest).',
  },
  PROJECTS_ENVIRONMENT_NOT_FOUND: {
    category: 'not_found',
    message: 'The environment does not exist',
    solve: 'Check `custody get Environment --project P`.',
  },
});
