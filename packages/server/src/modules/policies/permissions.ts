import { definePermissions } from '../../platform/permissions.ts';

export const policyPermissions = definePermissions({
  'policies.policy.apply': 'Apply Policy resources (Rego modules and their tests)',
  'policies.policy.read': 'Read policies and their versions',
  'policies.decision.read':
    'List policy decisions, read their inputs, replay them and analyse the impact of a candidate policy',
});
