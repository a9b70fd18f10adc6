import { defineErrors } from '../../platform/errors.ts';

// Approval denials reuse the approvals module's stable codes (APPROVALS_SELF_APPROVAL_FORBIDDEN,
// APPROVALS_SERVICE_ACCOUNT_FORBIDDEN, APPROVALS_NOT_PENDING); these are the gate's own.
export const deploymentErrors = defineErrors({
  DEPLOYMENTS_APPROVAL_NOT_FOUND: {
    category: 'not_found',
    message: 'No such deployment approval request',
    solve: 'List requests with `custody approvals list` or `GET /api/v1/deployments/approvals`.',
  },
  DEPLOYMENTS_NOT_AN_APPROVER: {
    category: 'forbidden',
    message: "You are not named by any of the environment's approval rules",
    solve: "Ask a member of a group (or a user) listed in the environment's approvals.rules.",
  },
  DEPLOYMENTS_INTENT_CHANGED: {
    category: 'conflict',
    message: 'What would be deployed changed since this approval was requested',
    solve: 'The request is void; approve the new request for the current deployment intent.',
  },
  DEPLOYMENTS_RUN_NOT_FOUND: {
    category: 'not_found',
    message: 'No such run',
    solve: 'List runs with `custody runs list`.',
  },
  DEPLOYMENTS_ENVIRONMENT_NOT_FOUND: {
    category: 'not_found',
    message: 'No such environment',
    solve: 'Apply an Environment resource for the project first.',
  },
  DEPLOYMENTS_NO_RELEASE: {
    category: 'conflict',
    message: 'No known-good release to roll back to',
    solve: 'Name a release run with --to, or deploy successfully first.',
  },
});
