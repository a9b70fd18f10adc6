import { definePermissions } from '../../platform/permissions.ts';

export const controlPermissions = definePermissions({
  'controls.catalog.read':
    'Read the live control catalog of production environments, its CSV export and the history of each check',
});
