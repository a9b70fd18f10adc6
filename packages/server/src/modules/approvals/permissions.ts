import { definePermissions } from '../../platform/permissions.ts';

export const approvalPermissions = definePermissions({
  'approvals.request.read': 'Read approval requests and their decisions',
  'approvals.request.approve': 'Approve an approval request (never one you authored)',
  'approvals.request.reject': 'Refuse an approval request',
});
