import { definePermissions } from '../../platform/permissions.ts';

export const evidencePermissions = definePermissions({
  'evidence.report.read': 'Read parsed reports: tests, coverage, findings, SBOM components',
  'evidence.waiver.read': 'List waivers of findings',
  'evidence.waiver.request': 'Ask to waive a finding or a rule for a while, with a reason',
  'evidence.waiver.approve': 'Approve or reject a waiver someone else requested',
});
