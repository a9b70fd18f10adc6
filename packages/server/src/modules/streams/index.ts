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
  type StreamCheckpointSource,
} from './stream-service.ts';
export { streamRoutes } from './stream-routes.ts';
export { actionMatcher, auditStreamSpec, type AuditStreamSpec } from './stream-spec.ts';
export {
  deliveryHeader,
  checkpointHeader,
  octetCounted,
  signBody,
  signatureHeader,
  syslogMessage,
  type PublishedCheckpoint,
  type StreamedEntry,
} from './senders.ts';
