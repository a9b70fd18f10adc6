import { defineErrors } from '../../platform/errors.ts';

export const retentionErrors = defineErrors({
  RETENTION_BELOW_MINIMUM: {
    category: 'invalid',
    message: "The project's retention is below the organization minimum",
    solve:
      'Set `spec.retention.years` to at least the minimum in `details.minimumYears` (server setting `retentionMinimumYears`), or leave it out for the default of 7 years.',
  },
  RETENTION_HOLD_INVALID: {
    category: 'invalid',
    message: 'The legal hold request is not valid',
    solve:
      'Give a project, at most one of an environment or a change (a change request id or a deployment id `<runId>/<stage>` of that project), and a reason.',
  },
  RETENTION_HOLD_NOT_FOUND: {
    category: 'not_found',
    message: 'No such legal hold',
    solve: 'List holds with `custody hold list` and use an id from there.',
  },
  RETENTION_HOLD_NOT_ACTIVE: {
    category: 'conflict',
    message: 'The legal hold is already released',
    solve: 'A released hold stays in the list for the record; place a new hold if one is needed.',
  },
  RETENTION_RELEASE_NOT_REQUESTED: {
    category: 'conflict',
    message: 'Nobody has requested the release of this legal hold',
    solve:
      'Someone requests the release first (`custody hold release ID --reason ...`); a second person then approves it.',
  },
  RETENTION_SELF_RELEASE_FORBIDDEN: {
    category: 'forbidden',
    message: 'The person who requested the release of a legal hold cannot approve it',
    solve:
      'Ask someone else with `retention.hold.release` to run `custody hold approve-release ID`.',
  },
  RETENTION_SERVICE_ACCOUNT_FORBIDDEN: {
    category: 'forbidden',
    message: 'Service accounts do not place, release or approve the release of legal holds',
    solve: 'A person does this with their own account and token.',
  },
});
