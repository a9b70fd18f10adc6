import { definePermissions } from '../../platform/permissions.ts';

export const secretPermissions = definePermissions({
  'secrets.secret.write': 'Set a secret value (write-only: values are never returned)',
  'secrets.secret.read': 'List secret names, scopes and versions (never values)',
});
