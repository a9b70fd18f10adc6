import { defineErrors } from '../../platform/errors.ts';

export const changeErrors = defineErrors({
  CHANGES_NOT_FOUND: {
    category: 'not_found',
    message: 'No such change request',
    solve: 'List change requests with `custody change list`.',
  },
  CHANGES_ENVIRONMENT_NOT_FOUND: {
    category: 'not_found',
    message: 'The environment does not exist',
    solve: 'Check the project and environment names (`custody get Environment --project P`).',
  },
  CHANGES_REASON_REQUIRED: {
    category: 'invalid',
    message: 'An emergency change needs a reason',
    solve: 'Give a non-empty `reason` saying why the change cannot wait for normal approval.',
  },
  CHANGES_TEMPLATE_REQUIRED: {
    category: 'invalid',
    message: 'A standard change must name the ChangeTemplate that pre-approves it',
    solve: 'Give `template`; list templates with `custody get ChangeTemplate`.',
  },
  CHANGES_TEMPLATE_NOT_FOUND: {
    category: 'invalid',
    message: 'The ChangeTemplate does not exist',
    solve: 'Apply the ChangeTemplate first, or use a normal change.',
  },
  CHANGES_TEMPLATE_OUT_OF_SCOPE: {
    category: 'forbidden',
    message: 'The ChangeTemplate does not cover this environment',
    solve: 'Use a template whose scope names the environment, or request a normal change.',
  },
  CHANGES_DURATION_INVALID: {
    category: 'invalid',
    message: 'A change duration is out of range',
    solve: '`expiresAfter` may be at most 72h and `reviewWithin` at most 30d.',
  },
  CHANGES_SELF_ACTIVATION_FORBIDDEN: {
    category: 'forbidden',
    message: 'The requester of an emergency change cannot activate it',
    solve:
      'A second person holding `changes.request.activate` for the environment must activate it.',
  },
  CHANGES_SERVICE_ACCOUNT_FORBIDDEN: {
    category: 'forbidden',
    message:
      'Service accounts never activate or review changes, nor request changes that stand in for approvals (standard, emergency)',
    solve: 'A person must do it; log in as a user.',
  },
  CHANGES_COMMIT_REQUIRED: {
    category: 'invalid',
    message: 'An emergency change names the commit it is requested for',
    solve:
      'Pass `commit` (`custody change create --emergency --commit SHA`): break-glass serves that commit only.',
  },
  CHANGES_NOT_REQUESTER: {
    category: 'forbidden',
    message: 'Only runs its requester triggers can use this change',
    solve: 'The person who requested the change starts the run (`custody run --change CHG`).',
  },
  CHANGES_COMMIT_MISMATCH: {
    category: 'forbidden',
    message: 'The run deploys another commit than the one the emergency change was requested for',
    solve:
      "Deploy the change's commit (`custody run --change CHG` pins it), or request a new emergency change.",
  },
  CHANGES_SELF_REVIEW_FORBIDDEN: {
    category: 'forbidden',
    message: 'The requester of an emergency change cannot review it alone',
    solve: 'Someone other than the requester records the post-implementation review.',
  },
  CHANGES_INVALID_STATE: {
    category: 'conflict',
    message: 'The change request is not in a state that allows this',
    solve: 'Read the change (`custody change get ID`): `details.state` says where it is.',
  },
  CHANGES_EXPIRED: {
    category: 'conflict',
    message: 'The change request has expired',
    solve: 'Request a new change.',
  },
  CHANGES_RECORD_REQUIRED: {
    category: 'invalid',
    message: 'The environment requires a change record',
    solve:
      'Give a change id (`changeRecord: native`) or a ServiceNow / Jira ticket (`servicenow`, `jira`).',
  },
  CHANGES_TARGET_MISMATCH: {
    category: 'forbidden',
    message: 'The change request is for another project or environment',
    solve: 'Use a change requested for this environment.',
  },
  CHANGES_NOT_APPROVED: {
    category: 'forbidden',
    message: 'The change record is not approved for deployment',
    solve:
      'Read `details`: the change must be approved (or an emergency change activated) and unexpired.',
  },
  CHANGES_CONNECTOR_NOT_FOUND: {
    category: 'unavailable',
    message: 'No ChangeConnector of the required type covers this environment',
    solve: 'Apply a ChangeConnector (type servicenow or jira) whose scope covers the environment.',
  },
  CHANGES_CONNECTOR_NOT_CONFIGURED: {
    category: 'unavailable',
    message: 'The change connector has no credentials',
    solve: 'Set them with `PUT /api/v1/changes/connectors/NAME/credentials`.',
  },
  CHANGES_CONNECTOR_UNAVAILABLE: {
    category: 'unavailable',
    message: 'The change connector cannot be reached; deployments fail closed',
    solve: 'Check the connector `baseUrl`, network and the ticket system status, then retry.',
  },
  CHANGES_CONNECTOR_AUTH_FAILED: {
    category: 'unavailable',
    message: 'The ticket system refused the connector credentials; deployments fail closed',
    solve: 'Set valid credentials with `PUT /api/v1/changes/connectors/NAME/credentials`.',
  },
  CHANGES_TICKET_NOT_FOUND: {
    category: 'forbidden',
    message: 'The referenced change ticket does not exist',
    solve: 'Check the ticket number (ServiceNow `CHG…`, Jira `KEY-123`).',
  },
  CHANGES_TICKET_NOT_APPROVED: {
    category: 'forbidden',
    message: 'The referenced change ticket is not in an approved state',
    solve:
      'Get the ticket approved (ServiceNow: approval approved and state Scheduled or Implement).',
  },
});
