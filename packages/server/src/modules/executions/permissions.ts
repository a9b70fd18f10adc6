import { definePermissions } from '../../platform/permissions.ts';

export const executionPermissions = definePermissions({
  'executions.run.create': 'Start a run of a pipeline',
  'executions.run.cancel': 'Cancel a run',
  'executions.run.read': 'Read runs, their stages, steps, logs, artifacts and evidence',
});
