export { runnerMigrations } from './migrations.ts';
export { runnerPermissions } from './permissions.ts';
export { runnerErrors } from './errors.ts';
export { KyselyRunnerStore } from './runner-store.ts';
export { RunnerService, type RunnerView } from './runner-service.ts';
export { runnerRoutes } from './runner-routes.ts';
