import { defineErrors } from '../../platform/errors.ts';

export const attestationErrors = defineErrors({
  ATTESTATIONS_NOT_FOUND: {
    category: 'not_found',
    message: 'No such attestation',
    solve: 'List the attestations of a run with `custody attestation list RUN`.',
  },
  ATTESTATIONS_KEY_UNREADABLE: {
    category: 'internal',
    message: 'The attestation signing key cannot be read',
    solve:
      'Check `attestKeyFile` (default `<dataDir>/attest.key`): it must hold an ECDSA P-256 private key in PKCS#8 PEM form, readable by the server. A configured file is never created: copy the same key to every replica.',
  },
  ATTESTATIONS_REQUEST_INVALID: {
    category: 'internal',
    message: 'The execution engine asked for attestations with data they cannot hold',
    solve:
      'A bug in what the engine passed on: artifact, report and SBOM digests must be `sha256:<64 hex>`, timestamps ISO 8601 with the finish not before the start, a commit 7 to 64 lowercase hex digits. Report it with `details`.',
  },
});
