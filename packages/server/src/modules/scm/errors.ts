import { defineErrors } from '../../platform/errors.ts';

export const scmErrors = defineErrors({
  SCM_WEBHOOK_SIGNATURE_INVALID: {
    category: 'unauthenticated',
    message:
      'The webhook signature (X-Hub-Signature-256) or token (X-Gitlab-Token) is missing or wrong',
    solve:
      'Set the same secret in the SCM webhook settings and as the project secret GITHUB_WEBHOOK_SECRET / GITLAB_WEBHOOK_TOKEN.',
  },
  SCM_WEBHOOK_NOT_CONFIGURED: {
    category: 'unauthenticated',
    message: 'The project has no webhook secret, so no delivery can be verified',
    solve:
      'Set the project secret GITHUB_WEBHOOK_SECRET (GitHub) or GITLAB_WEBHOOK_TOKEN (GitLab).',
  },
  SCM_EVENT_INVALID: {
    category: 'invalid',
    message: 'The webhook payload is missing fields this event needs',
    solve: 'Send the event as the SCM documents it (JSON content type).',
  },
});
