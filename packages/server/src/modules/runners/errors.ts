import { defineErrors } from '../../platform/errors.ts';

export const runnerErrors = defineErrors({
  RUNNERS_POOL_FORBIDDEN: {
    category: 'forbidden',
    message: 'The runner token does not allow serving that pool',
    solve: 'Create a runner token for the pool: `custody runner token create NAME --pools POOL`.',
  },
  RUNNERS_RUNNER_NOT_FOUND: {
    category: 'not_found',
    message: 'No such runner registered by this token',
    solve: 'Register again (the runner agent does this at start).',
  },
});
