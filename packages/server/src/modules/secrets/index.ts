export { secretMigrations } from './migrations.ts';
export { secretPermissions } from './permissions.ts';
export { secretErrors } from './errors.ts';
export { KyselySecretStore } from './secret-store.ts';
export { KyselySecretChangeStore } from './secret-change-store.ts';
export { KyselySealingKeyStore } from './sealing-key-store.ts';
export {
  SecretService,
  platformSecretNames,
  type SecretView,
  type SecretSetResult,
} from './secret-service.ts';
export { secretSubjectType, secretVersionHash } from './secret-changes.ts';
export { SecretReleases, type SecretAuditReader, type SecretRelease } from './secret-releases.ts';
export { SealingService, type SealingStatus, type ResealResult } from './sealing-service.ts';
export { secretSealedValues, pendingSecretSealedValues } from './secret-sealed-values.ts';
export { SecretMasker, createMasker, maskedForms } from '@custody/masking';
export type { ReleaseRequest } from './secret-release.ts';
export { secretRoutes } from './secret-routes.ts';
