import { definePermissions } from '../../platform/permissions.ts';

export const scmPermissions = definePermissions({
  'scm.change.read': 'Read recorded pull/merge requests, their reviews and pushed commits',
  'scm.webhook-secret.write':
    "Set a project's GitHub or GitLab webhook secret (a platform secret: never given to jobs)",
  'scm.webhook-secret.read':
    'See which webhook secrets are set, with version and author (never values)',
});
