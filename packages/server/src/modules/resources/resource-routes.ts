import { z } from 'zod';
import type { RequestContext } from '../../platform/context.ts';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { resourcePermissions as P } from './permissions.ts';
import type { ResourceService } from './resource-service.ts';
import type { ResourceView } from './resource-views.ts';

const resultSchema = z.object({
  kind: z.string(),
  project: z.string().nullable(),
  name: z.string(),
  version: z.number(),
  contentHash: z.string(),
  change: z.enum(['created', 'updated', 'unchanged']),
  state: z.enum(['in-force', 'pending']),
  approval: z.string().optional(),
});

const versionSchema = z.object({
  kind: z.string(),
  project: z.string().nullable(),
  name: z.string(),
  version: z.number(),
  contentHash: z.string(),
  appliedBy: z.string(),
  appliedAt: z.string(),
  state: z.enum(['in-force', 'pending', 'rejected', 'withdrawn', 'superseded']),
  approval: z
    .object({
      id: z.string(),
      state: z.enum(['pending', 'approved', 'rejected', 'withdrawn']),
      decidedBy: z.string().nullable(),
      decidedAt: z.string().nullable(),
      reason: z.string().nullable(),
      governedBecause: z.string(),
    })
    .nullable(),
  document: z.object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    spec: z.unknown(),
  }),
});

// The version the controls enforce and, apart from it, the newest version when that one is
// not in force (waiting for a second person, or rejected).
const viewSchema = z.object({
  kind: z.string(),
  project: z.string().nullable(),
  name: z.string(),
  inForce: versionSchema.nullable(),
  proposed: versionSchema.nullable(),
});

const kindParams = z.object({ kind: z.string().min(1).max(64) }).strict();
const nameParams = kindParams.extend({ name: z.string().min(1).max(63) }).strict();
const projectQuery = z.object({ project: z.string().min(1).max(63).optional() }).strict();
const projectPageQuery = projectQuery.extend(pageFields).strict();

async function checkRead(
  service: ResourceService,
  ctx: RequestContext,
  kind: string,
  project: string | undefined,
): Promise<void> {
  const handler = service.handler(kind);
  await ctx.guard.require(handler.readPermission, project ? { project } : {}, {
    type: handler.kind,
    id: project ?? '*',
  });
}

export function resourceRoutes(service: ResourceService): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/apply',
      summary:
        'Apply a multi-document YAML manifest; every document becomes a new version, or none does',
      tags: ['resources'],
      auth: { permission: P['resources.manifest.apply'], scope: () => ({ any: true }) },
      body: z
        .string({ message: 'send the manifest as YAML text (Content-Type: application/yaml)' })
        .max(4 * 1024 * 1024),
      contentTypes: ['application/yaml', 'application/x-yaml', 'text/yaml'],
      response: z.object({ results: z.array(resultSchema) }),
      async handler({ body, ctx }) {
        return { results: await service.applyManifest(ctx, body) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/kinds',
      summary: 'List the resource kinds that apply accepts',
      tags: ['resources'],
      auth: { permission: P['resources.resource.read'], scope: () => ({ any: true }) },
      response: z.object({
        kinds: z.array(
          z.object({
            kind: z.string(),
            scope: z.string(),
            description: z.string(),
            applyPermission: z.string(),
          }),
        ),
      }),
      async handler() {
        return {
          kinds: service.kinds().map((h) => ({
            kind: h.kind,
            scope: h.scope,
            description: h.description,
            applyPermission: h.applyPermission,
          })),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/resources/:kind',
      summary:
        'List resources of a kind, by project and name (paginated): each with its version in force and any newer one',
      tags: ['resources'],
      auth: { permission: P['resources.resource.read'], scope: () => ({ any: true }) },
      params: kindParams,
      query: projectPageQuery,
      response: pageResponse(viewSchema),
      async handler({ params, query, ctx }) {
        await checkRead(service, ctx, params.kind, query.project);
        const kind = service.handler(params.kind).kind;
        const pager = new Pager(query, `resources/${kind}`, { project: query.project });
        return pager.page(await service.list(kind, query.project, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/resources/:kind/:name',
      summary:
        'Get a resource: the version in force and, apart from it, a newer version waiting for approval or rejected',
      tags: ['resources'],
      auth: { permission: P['resources.resource.read'], scope: () => ({ any: true }) },
      params: nameParams,
      query: projectQuery,
      response: viewSchema,
      async handler({ params, query, ctx }): Promise<ResourceView> {
        await checkRead(service, ctx, params.kind, query.project);
        return service.get(params.kind, params.name, query.project);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/resources/:kind/:name/versions',
      summary:
        'List every version of a resource, oldest first, with its state (in-force, pending, rejected, withdrawn, superseded; paginated)',
      tags: ['resources'],
      auth: { permission: P['resources.resource.read'], scope: () => ({ any: true }) },
      params: nameParams,
      query: projectPageQuery,
      response: pageResponse(versionSchema),
      async handler({ params, query, ctx }) {
        await checkRead(service, ctx, params.kind, query.project);
        const kind = service.handler(params.kind).kind;
        const pager = new Pager(query, `versions/${kind}/${params.name}`, {
          project: query.project,
        });
        return pager.page(await service.history(kind, params.name, query.project, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/resources/:kind/:name/diff',
      summary: 'Diff two versions of a resource',
      tags: ['resources'],
      auth: { permission: P['resources.resource.read'], scope: () => ({ any: true }) },
      params: nameParams,
      query: projectQuery
        .extend({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) })
        .strict(),
      response: z.object({
        from: z.number(),
        to: z.number(),
        lines: z.array(z.object({ op: z.enum([' ', '+', '-']), text: z.string() })),
      }),
      async handler({ params, query, ctx }) {
        await checkRead(service, ctx, params.kind, query.project);
        const d = await service.diff(params.kind, params.name, query.project, query.from, query.to);
        return { from: d.from.version, to: d.to.version, lines: d.lines };
      },
    }),
  ];
}
