import { definePermissions } from '../../platform/permissions.ts';

export const streamPermissions = definePermissions({
  'streams.destination.apply': 'Apply AuditStream resources (SIEM destinations)',
  'streams.destination.read': 'Read SIEM destinations and their delivery state (never secrets)',
  'streams.secret.write':
    'Set the secret of a SIEM destination (HMAC key or token; write-only, never returned)',
});
