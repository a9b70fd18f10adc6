import { defineErrors } from '../../platform/errors.ts';

export const executionErrors = defineErrors({
  EXECUTIONS_RUN_NOT_FOUND: {
    category: 'not_found',
    message: 'No such run',
    solve: 'List runs with `GET /api/v1/runs?project=P`.',
  },
  EXECUTIONS_INPUT_UNKNOWN: {
    category: 'invalid',
    message: 'The run names an input the pipeline does not declare',
    solve: 'Use only inputs listed in the pipeline `spec.inputs`.',
  },
  EXECUTIONS_INPUT_MISSING: {
    category: 'invalid',
    message: 'A required input without a default was not given',
    solve: 'Pass it with `--input name=value`.',
  },
  EXECUTIONS_MANUAL_TRIGGER_DISABLED: {
    category: 'conflict',
    message: 'The pipeline declares triggers and none of them is manual',
    solve: 'Add `- manual: {}` to `spec.triggers`, or let a push start it.',
  },
  EXECUTIONS_COMMIT_INVALID: {
    category: 'invalid',
    message: 'The commit is not a hexadecimal git object name',
    solve: 'Pass a full or abbreviated (7+ characters) commit SHA.',
  },
  EXECUTIONS_ROLLBACK_NOT_DEPLOYABLE: {
    category: 'conflict',
    message:
      'The release cannot be redeployed: its pipeline version has no stage for this environment, or it produced no artifacts',
    solve:
      'Pick a release built by a pipeline version that deploys to the environment: `custody rollback ENV --to RUN`.',
  },
  EXECUTIONS_VERSION_NOT_APPROVED: {
    category: 'conflict',
    message: 'This pipeline version deploys to production and has not been approved',
    solve: 'A second person (not the author) approves it: `POST /api/v1/approvals/ID/approve`.',
  },
  EXECUTIONS_RUN_FINISHED: {
    category: 'conflict',
    message: 'The run has already finished',
    solve: 'Nothing to cancel.',
  },
  EXECUTIONS_JOB_NOT_FOUND: {
    category: 'not_found',
    message: 'No such job',
    solve: 'The runner reports only jobs it leased.',
  },
  EXECUTIONS_LEASE_LOST: {
    category: 'conflict',
    message:
      'The lease on this job is no longer held (expired, cancelled or given to another runner)',
    solve: 'The runner stops working on the job; the server already retried or failed it.',
  },
  EXECUTIONS_DIGEST_MISMATCH: {
    category: 'invalid',
    message: 'The content does not match its SHA-256 digest',
    solve: 'Re-send the chunk or file; it was corrupted in transit.',
  },
  EXECUTIONS_BLOB_NOT_FOUND: {
    category: 'not_found',
    message: 'No artifact with that digest',
    solve: 'Artifacts are downloaded by the digest the lease handed out.',
  },
  EXECUTIONS_LEASE_NOT_YOURS: {
    category: 'forbidden',
    message: 'Another runner holds the lease on this job',
    solve: 'A runner reports only the jobs it leased itself, with the token it leased them with.',
  },
  EXECUTIONS_REPORT_INVALID: {
    category: 'invalid',
    message: "The runner's report does not match the job it holds",
    solve:
      'A runner reports only the steps, files and commit ranges of the job its lease names; `details` says what did not match.',
  },
  EXECUTIONS_EVIDENCE_MISSING: {
    category: 'conflict',
    message: 'A step cannot succeed without the reports it declares',
    solve:
      'The step declares evidence that was never recorded: make the step write it, or mark the entry `optional: true`. `details.missing` lists what is missing.',
  },
  EXECUTIONS_TRANSITION_ILLEGAL: {
    category: 'conflict',
    message: 'The report asks for a transition the job or step cannot make from its state',
    solve:
      'Report each step started before finished, once each, and complete a job only after its steps; `details` names the state.',
  },
});
