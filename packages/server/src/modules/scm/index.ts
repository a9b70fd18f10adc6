export { scmMigrations } from './migrations.ts';
export { scmPermissions } from './permissions.ts';
export { scmErrors } from './errors.ts';
export { KyselyScmStore } from './scm-store.ts';
export {
  ScmService,
  type Provider,
  type WebhookResult,
  type WebhookSecretView,
} from './scm-service.ts';
export { webhookSecretSealedValues } from './webhook-secret-values.ts';
export { scmRoutes } from './scm-routes.ts';
export { parseGithub, parseGitlab, sameRepository, type ScmEvent } from './scm-events.ts';
