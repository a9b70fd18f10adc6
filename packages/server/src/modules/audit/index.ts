export { auditMigrations } from './migrations.ts';
export { AuditService } from './audit-service.ts';
export {
  KyselyAuditStore,
  type StoredAuditEntry,
  type AuditFilter,
  type AuditTables,
  type AuthenticatedLeaf,
} from './audit-store.ts';
export { EntryAuthenticator } from './entry-mac.ts';
export { auditRoutes, auditEntryPresenter } from './audit-routes.ts';
export { auditPermissions } from './permissions.ts';
export { encodeLeaf, leafFormatVersion, type AuditEntry } from './audit-entry.ts';
