import { defineErrors } from '../../platform/errors.ts';

export const approvalErrors = defineErrors({
  APPROVALS_REQUEST_NOT_FOUND: {
    category: 'not_found',
    message: 'No such approval request',
    solve: 'List pending requests with `GET /api/v1/approvals?state=pending`.',
  },
  APPROVALS_SELF_APPROVAL_FORBIDDEN: {
    category: 'forbidden',
    message: 'The author of a change cannot approve it',
    solve: 'Ask a second person (not the author) with the approve permission to decide.',
  },
  APPROVALS_SERVICE_ACCOUNT_FORBIDDEN: {
    category: 'forbidden',
    message: 'Service accounts never approve or refuse changes',
    solve: 'A person must decide; log in as a user.',
  },
  APPROVALS_NOT_PENDING: {
    category: 'conflict',
    message: 'The approval request was already decided',
    solve: 'A decision is final; a new version of the subject opens a new request.',
  },
});
