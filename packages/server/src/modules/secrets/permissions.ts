import { definePermissions } from '../../platform/permissions.ts';

export const secretPermissions = definePermissions({
  'secrets.secret.write': 'Set a secret value (write-only: values are never returned)',
  'secrets.secret.read': 'List secret names, scopes and versions (never values)',
  'secrets.release.read':
    'List which jobs, runners and pools received which secret versions (never values)',
  'secrets.sealing.read': 'Read the sealing keys in use (key ids and counts, never keys)',
  'secrets.sealing.reseal':
    'Seal every stored secret, webhook secret, connector credential and stream secret again under the newest key',
});
