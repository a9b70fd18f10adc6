import { definePermissions } from '../../platform/permissions.ts';

export const auditPermissions = definePermissions({
  'audit.entry.read': 'Read audit trail entries',
});
