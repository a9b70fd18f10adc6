import { definePermissions } from '../../platform/permissions.ts';

export const attestationPermissions = definePermissions({
  'attestations.attestation.read':
    "Read a run's signed attestations (SLSA provenance, test results, SBOMs) and their bundles",
});
