import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from '@custody/ledger';
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { AttestationService } from './attestation-service.ts';
import { attestationPermissions as P } from './permissions.ts';

const id = z.string().min(1).max(100);
const attestationView = z.object({
  id: z.string(),
  run: z.string(),
  job: z.string(),
  predicateType: z.string(),
  subject: z.array(z.object({ name: z.string(), digest: z.string() })),
  digest: z.string(),
  payloadDigest: z.string(),
  createdAt: z.string(),
});

export function attestationRoutes(service: AttestationService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:run/attestations',
      summary:
        'The signed attestations of a run (SLSA provenance per artifact, test results, SBOMs), without their bundles; empty for a run without any',
      tags: ['attestations'],
      // Checked again at the run's project by the service.
      auth: { permission: P['attestations.attestation.read'], scope: () => ({ any: true }) },
      params: z.object({ run: id }),
      response: z.object({ items: z.array(attestationView) }),
      async handler({ params, ctx }) {
        return { items: await service.list(ctx, params.run) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/attestations/public-key',
      summary:
        'The public key (PEM) that verifies every attestation bundle (`cosign --key`); header `x-key-id` is its id',
      tags: ['attestations'],
      // A public key: whoever verifies an artifact (cosign on a deploy host) needs it, with or
      // without an account.
      auth: { public: 'none (a public key)' },
      response: z.string(),
      raw: { contentType: 'application/x-pem-file' },
      async handler(_input, reply) {
        const key = service.publicKey();
        reply.headers = { 'x-key-id': key.keyId };
        return key.pem;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/attestations/:id',
      summary:
        'An attestation as a Sigstore bundle v0.3 (canonical JSON; its SHA-256 is the listed digest)',
      tags: ['attestations'],
      // Checked again at the attestation's project by the service.
      auth: { permission: P['attestations.attestation.read'], scope: () => ({ any: true }) },
      params: z.object({ id }),
      response: z.string(),
      raw: { contentType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE },
      async handler({ params, ctx }) {
        return service.bundle(ctx, params.id);
      },
    }),
  ];
}
