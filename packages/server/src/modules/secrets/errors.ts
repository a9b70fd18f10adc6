import { defineErrors } from '../../platform/errors.ts';

export const secretErrors = defineErrors({
  SECRETS_NAME_INVALID: {
    category: 'invalid',
    message:
      'A secret name is an environment variable name: A-Z, 0-9 and _, not starting with a digit',
    solve: 'Rename the secret, e.g. `DEPLOY_TOKEN`.',
  },
  SECRETS_NAME_RESERVED: {
    category: 'invalid',
    message:
      'The name belongs to the platform: webhook secrets and CUSTODY_* variables are never job secrets',
    solve:
      'Set a webhook secret with `custody scm webhook-secret set --project P --provider github|gitlab`; give a job secret another name.',
  },
  SECRETS_PROJECT_NOT_FOUND: {
    category: 'invalid',
    message: 'The secret names a project or environment that does not exist',
    solve: 'Apply the Project (and Environment) first.',
  },
  SECRETS_POOL_OUTSIDE_ENVIRONMENT: {
    category: 'invalid',
    message:
      "An environment's secrets go only to the environment's own runner pool; the pools given exclude it",
    solve:
      'Leave `pools` out for an environment secret, or include the runnerPool the Environment names.',
  },
  // The three codes below are recorded on `secrets.secret.withheld` audit entries at lease time:
  // the job runs without the value, and the auditor sees who asked for what.
  SECRETS_NOT_IN_SCOPE: {
    category: 'forbidden',
    message: "A step names a secret that does not exist for its job's project and environment",
    solve:
      'Set the secret for the project (or the environment the stage deploys to), or remove it from the step.',
  },
  SECRETS_VERSION_PENDING: {
    category: 'forbidden',
    message:
      "A step names a secret whose only version waits for a second person's approval (it reaches production)",
    solve:
      'Ask someone other than its author to approve the request `custody secret list -p P` names (`custody approve apr_…`); the next job gets it.',
  },
  SECRETS_POOL_NOT_ALLOWED: {
    category: 'forbidden',
    message:
      "The job's runner pool may not hold the secret: an environment's secrets go only to its own runnerPool, and `pools` limits the others",
    solve:
      "Run the stage in the environment's runnerPool, or widen the secret's `pools` (project secrets only).",
  },
  SECRETS_CHANGE_NOT_PENDING: {
    category: 'conflict',
    message:
      'The approval does not belong to a secret version waiting for approval: it was withdrawn by a newer version, decided already, or the stored version no longer matches what the request was bound to',
    solve:
      'List the secret (`custody secret list -p P`) for the version in force and the one waiting, and decide the approval it names; set the secret again if it was altered.',
  },
});
