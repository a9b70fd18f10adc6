import { definePermissions } from '../../platform/permissions.ts';

// All read-only: the built-in `auditor` role reaches them through `*.*.read`.
export const reportPermissions = definePermissions({
  'reports.changes.read':
    'The population of production changes for a period, and reproducible samples of it (each sample drawn is recorded)',
  'reports.dora.read': 'DORA metrics per project and environment',
  'reports.sod.read': 'Segregation-of-duties conflicts and toxic permission combinations',
  'reports.activity.read':
    'Emergency changes and their reviews, freeze overrides, denied attempts, access changes for production, deployments without an approved ticket',
});
