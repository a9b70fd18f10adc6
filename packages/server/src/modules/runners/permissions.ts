import { definePermissions } from '../../platform/permissions.ts';

export const runnerPermissions = definePermissions({
  'runners.runner.register': 'Register a runner agent for the pools its token allows',
  'runners.runner.read': 'List registered runners',
  'runners.job.lease': 'Lease jobs of the runner pools (runner agents)',
  'runners.job.report': 'Report step results, logs, artifacts and evidence of a leased job',
  'runners.token.create': 'Create a runner token scoped to runner pools',
  'runners.pool.serve-any': 'Serve every runner pool (local runner of `custody up`)',
});
