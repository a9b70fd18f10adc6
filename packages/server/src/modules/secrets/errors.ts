import { defineErrors } from '../../platform/errors.ts';

export const secretErrors = defineErrors({
  SECRETS_NAME_INVALID: {
    category: 'invalid',
    message:
      'A secret name is an environment variable name: A-Z, 0-9 and _, not starting with a digit',
    solve: 'Rename the secret, e.g. `DEPLOY_TOKEN`.',
  },
  SECRETS_PROJECT_NOT_FOUND: {
    category: 'invalid',
    message: 'The secret names a project or environment that does not exist',
    solve: 'Apply the Project (and Environment) first.',
  },
});
