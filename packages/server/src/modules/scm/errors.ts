import { defineErrors } from '../../platform/errors.ts';

export const scmErrors = defineErrors({
  SCM_WEBHOOK_SIGNATURE_INVALID: {
    category: 'unauthenticated',
    message:
      'The webhook signature (X-Hub-Signature-256) or token (X-Gitlab-Token) is missing or wrong',
    solve:
      'Set the same secret in the SCM webhook settings and with `custody scm webhook-secret set --project P --provider github|gitlab`.',
  },
  SCM_WEBHOOK_NOT_CONFIGURED: {
    category: 'unauthenticated',
    message: 'The project has no webhook secret for this provider, so no delivery can be verified',
    solve:
      'Set it with `custody scm webhook-secret set --project P --provider github|gitlab` (the value on standard input).',
  },
  SCM_WEBHOOK_DELIVERY_MISSING: {
    category: 'invalid',
    message:
      'The delivery has no id (X-GitHub-Delivery; GitLab: Idempotency-Key or X-Gitlab-Event-UUID), so a replay could not be told apart',
    solve: 'Send deliveries as the SCM does; GitLab needs 15.x or later (X-Gitlab-Event-UUID).',
  },
  SCM_WEBHOOK_REPLAYED: {
    category: 'conflict',
    message: 'This delivery id was processed before: a delivery is processed once',
    solve:
      'Nothing to do when the SCM retried a delivery that had succeeded; a replay by someone else is refused and audited.',
  },
  SCM_EVENT_INVALID: {
    category: 'invalid',
    message: 'The webhook payload is missing fields this event needs',
    solve: 'Send the event as the SCM documents it (JSON content type).',
  },
  SCM_PROJECT_NOT_FOUND: {
    category: 'invalid',
    message: 'The project does not exist',
    solve: 'Apply the Project first.',
  },
});
