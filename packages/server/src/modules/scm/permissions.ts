import { definePermissions } from '../../platform/permissions.ts';

export const scmPermissions = definePermissions({
  'scm.change.read': 'Read recorded pull/merge requests, their reviews and pushed commits',
});
