export { secretMigrations } from './migrations.ts';
export { secretPermissions } from './permissions.ts';
export { secretErrors } from './errors.ts';
export { KyselySecretStore } from './secret-store.ts';
export { SecretService, type SecretView } from './secret-service.ts';
export { secretRoutes } from './secret-routes.ts';
