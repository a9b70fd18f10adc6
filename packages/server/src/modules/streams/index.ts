export { streamMigrations } from './migrations.ts';
export { streamPermissions } from './permissions.ts';
export { streamErrors } from './errors.ts';
export { KyselyStreamStore } from './stream-store.ts';
export {
  StreamService,
  deriveSealingKey,
  streamSecretSealedValues,
  type DestinationView,
  type StreamAuditSource,
} from './stream-service.ts';
export { streamRoutes } from './stream-routes.ts';
export { auditStreamSpec, type AuditStreamSpec } from './stream-spec.ts';
export {
  deliveryHeader,
  octetCounted,
  signBody,
  signatureHeader,
  syslogMessage,
  type StreamedEntry,
} from './senders.ts';
