import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { secretPermissions as P } from './permissions.ts';
import type { SecretService } from './secret-service.ts';

const label = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label');
const view = z.object({
  project: z.string(),
  environment: z.string().nullable(),
  name: z.string(),
  version: z.number(),
  pools: z.array(z.string()),
  updatedBy: z.string(),
  updatedAt: z.string(),
});

export function secretRoutes(service: SecretService): AnyRoute[] {
  return [
    defineRoute({
      method: 'PUT',
      url: '/api/v1/projects/:project/secrets/:name',
      summary: 'Set a secret (write-only; the response never holds the value)',
      tags: ['secrets'],
      auth: {
        permission: P['secrets.secret.write'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: z
        .object({ project: z.string().min(1).max(63), name: z.string().min(1).max(128) })
        .strict(),
      body: z
        .object({
          value: z
            .string()
            .min(1)
            .max(64 * 1024),
          environment: label.optional(),
          pools: z.array(label).max(50).optional(),
        })
        .strict(),
      response: view,
      async handler({ params, body, ctx }) {
        return service.set(ctx, { project: params.project, name: params.name, ...body });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/secrets',
      summary:
        'List secret names, scopes and versions (never values), by environment and name (paginated)',
      tags: ['secrets'],
      auth: {
        permission: P['secrets.secret.read'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: z.object({ project: label }).strict(),
      query: z.object(pageFields).strict(),
      response: pageResponse(view),
      async handler({ params, query }) {
        const pager = new Pager(query, `secrets/${params.project}`);
        return pager.page(await service.list(params.project, pager.request));
      },
    }),
  ];
}
