import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { secretPermissions as P } from './permissions.ts';
import type { SealingService } from './sealing-service.ts';
import type { SecretReleases } from './secret-releases.ts';
import type { SecretService } from './secret-service.ts';

const label = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase DNS label');
const inForce = z.object({
  version: z.number(),
  pools: z.array(z.string()),
  updatedBy: z.string(),
  updatedAt: z.string(),
  approval: z.string().nullable(),
  approvedBy: z.string().nullable(),
});
const pending = z.object({
  version: z.number(),
  pools: z.array(z.string()),
  author: z.string(),
  createdAt: z.string(),
  approval: z.string(),
  reaches: z.array(z.string()),
});
// Names, scopes, versions and who: never a value, sealed or not.
const view = z.object({
  project: z.string(),
  environment: z.string().nullable(),
  name: z.string(),
  inForce: inForce.nullable(),
  pending: pending.nullable(),
});
const setResult = view.extend({
  version: z.number(),
  state: z.enum(['in-force', 'pending']),
  approval: z.string().nullable(),
});
const release = z.object({
  seq: z.number(),
  time: z.string(),
  secret: z.string(),
  name: z.string(),
  scope: z.string(),
  version: z.number(),
  environment: z.string().nullable(),
  job: z.string(),
  run: z.string(),
  attempt: z.number(),
  runner: z.string(),
  pool: z.string(),
  steps: z.array(z.string()),
  receivedBy: z.string(),
});

export function secretRoutes(
  service: SecretService,
  releases: SecretReleases,
  sealing: SealingService,
): AnyRoute[] {
  return [
    defineRoute({
      method: 'PUT',
      url: '/api/v1/projects/:project/secrets/:name',
      summary:
        'Set a secret (write-only; the response never holds the value). A version whose scope reaches production waits for a second person (state pending, approval)',
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
      response: setResult,
      async handler({ params, body, ctx }) {
        return service.set(ctx, { project: params.project, name: params.name, ...body });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/secrets',
      summary:
        'List secrets by environment and name (paginated): the version in force and any version waiting for approval, with its approval id (never values)',
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
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/secret-releases',
      summary:
        'Which job, runner and pool received which secret version, from the ledger (newest first; never values)',
      tags: ['secrets'],
      auth: {
        permission: P['secrets.release.read'],
        scope: ({ params, query }) => ({
          project: String(params.project),
          ...(typeof query.environment === 'string' ? { environment: query.environment } : {}),
        }),
      },
      params: z.object({ project: label }).strict(),
      query: z
        .object({
          environment: label.optional(),
          before: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        })
        .strict(),
      response: z.object({ items: z.array(release), next: z.number().nullable() }),
      async handler({ params, query, ctx }) {
        return releases.list(ctx, {
          project: params.project,
          environment: query.environment,
          limit: query.limit,
          ...(query.before !== undefined ? { before: query.before } : {}),
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/secrets/sealing',
      summary: 'The sealing keys in use: key ids, and how many values each store holds per key',
      tags: ['secrets'],
      auth: { permission: P['secrets.sealing.read'] },
      response: z.object({
        currentKeyId: z.string(),
        configuredKeyIds: z.array(z.string()),
        registered: z.array(
          z.object({
            keyId: z.string(),
            registeredAt: z.string(),
            retiredAt: z.string().nullable(),
          }),
        ),
        sets: z.array(
          z.object({
            name: z.string(),
            total: z.number(),
            byKey: z.record(z.string(), z.number()),
          }),
        ),
      }),
      async handler({ ctx }) {
        return sealing.status(ctx);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/secrets/reseal',
      summary:
        'Seal every stored secret, webhook secret, connector credential and stream secret under the newest key; retire the older keys',
      tags: ['secrets'],
      auth: { permission: P['secrets.sealing.reseal'] },
      response: z.object({
        keyId: z.string(),
        sets: z.array(z.object({ name: z.string(), total: z.number(), resealed: z.number() })),
        retired: z.array(z.string()),
      }),
      async handler({ ctx }) {
        return sealing.reseal(ctx);
      },
    }),
  ];
}
