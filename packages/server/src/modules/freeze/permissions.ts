import { definePermissions } from '../../platform/permissions.ts';

export const freezePermissions = definePermissions({
  'freeze.window.apply': 'Apply FreezeWindow resources',
  'freeze.window.read': 'Read freeze windows and evaluate whether one is in force',
  'freeze.window.override':
    'Override the freeze windows of an environment for a limited time, with a reason',
  'freeze.override.read': 'List freeze overrides (who, when, why)',
});
