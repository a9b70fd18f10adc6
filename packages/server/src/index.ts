// The server package's public surface, used by the CLI and by end-to-end tests.
export { createApp, allMigrations, type App, type AppDeps } from './app.ts';
export { startServer, closeOnSignals, type RunningServer } from './main.ts';
export { bootstrapAdmin, systemContext } from './bootstrap.ts';
export {
  loadConfig,
  configSchema,
  configEnvironmentNames,
  configFlaglessKeys,
  type Config,
  type ConfigInput,
} from './platform/config/config.ts';
export { createDatabase, type Database } from './platform/db/database.ts';
export { DomainError, allErrorDefinitions, type ErrorDefinition } from './platform/errors.ts';
export { statusByCategory } from './platform/http/error-mapper.ts';
export { allPermissions } from './platform/permissions.ts';
export { parseDuration, formatDuration } from './platform/duration.ts';
export { ManualClock, systemClock, type Clock } from './platform/clock.ts';
export { builtinRoles } from './modules/identity/index.ts';
export { serverVersion } from './system-routes.ts';
export { maskedForms } from './modules/secrets/index.ts';
export { Ledger, leafBytes, ledgerEntryKey, type CheckpointView } from './modules/ledger/index.ts';
