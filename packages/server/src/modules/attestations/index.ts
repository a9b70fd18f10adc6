export { attestationMigrations } from './migrations.ts';
export { attestationPermissions } from './permissions.ts';
export { attestationErrors } from './errors.ts';
export { KyselyAttestationStore, type AttestationRow } from './attestation-store.ts';
export {
  attestationKeyPath,
  loadOrCreateAttestationKey,
  type AttestationKey,
  type AttestationKeyOptions,
} from './attestation-key.ts';
export {
  AttestationService,
  type AttestationRequest,
  type AttestationServiceDeps,
  type AttestationView,
  type IssuedAttestation,
} from './attestation-service.ts';
export { attestationRoutes } from './attestation-routes.ts';
