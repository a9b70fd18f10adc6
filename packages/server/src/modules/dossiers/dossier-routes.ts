import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { DossierService } from './dossier-service.ts';
import { dossierPermissions as P } from './permissions.ts';

const segment = z.string().min(1).max(200);

export function dossierRoutes(service: DossierService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/deployments/:run/:stage/dossier',
      summary:
        'The signed change dossier of a deployment (a zip; `custody dossier verify` checks it offline). Built once a deployment finished and served again as stored; built fresh, marked not final, while it runs',
      tags: ['dossiers'],
      // Checked again at the deployment's project and environment by the service.
      auth: { permission: P['dossiers.dossier.read'], scope: () => ({ any: true }) },
      params: z.object({ run: segment, stage: segment }),
      response: z.instanceof(Buffer),
      raw: { contentType: 'application/zip' },
      async handler({ params, ctx }, reply) {
        const out = await service.get(ctx, `${params.run}/${params.stage}`);
        const name = `dossier-${params.run}-${params.stage}.zip`.replace(/[^A-Za-z0-9._-]/g, '_');
        reply.headers = {
          'content-disposition': `attachment; filename="${name}"`,
          'x-dossier-final': String(out.final),
          'x-dossier-manifest-sha256': out.manifestSha256,
        };
        return Buffer.from(out.zip);
      },
    }),
  ];
}
