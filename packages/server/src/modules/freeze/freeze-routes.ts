import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { FreezeService } from './freeze-service.ts';
import { freezeLanes } from './freeze-spec.ts';
import { freezePermissions as P } from './permissions.ts';

const name = z.string().min(1).max(63);
const overrideView = z.object({
  id: z.string(),
  project: z.string(),
  environment: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  createdAt: z.string(),
  windows: z.array(z.string()),
});
const windowView = z.object({
  name: z.string(),
  version: z.number(),
  description: z.string().nullable(),
  timeZone: z.string(),
  matchedBy: z.string(),
  start: z.string(),
  end: z.string(),
  localStart: z.string(),
  localEnd: z.string(),
  why: z.string(),
  exceptions: z.array(z.string()),
});
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function freezeRoutes(service: FreezeService): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/freeze/overrides',
      summary: 'Override the freeze windows of an environment for a limited time, with a reason',
      tags: ['freeze'],
      // Checked again at the environment's scope by the service, which knows the body.
      auth: { permission: P['freeze.window.override'], scope: () => ({ any: true }) },
      body: z
        .object({
          project: name,
          environment: name,
          reason: z.string().max(2000),
          duration: z.string().max(20).optional(),
          startsAt: z.iso.datetime({ offset: true }).optional(),
          windows: z.array(name).max(50).optional(),
        })
        .strict(),
      status: 201,
      response: overrideView,
      async handler({ body, ctx }) {
        return service.createOverride(ctx, {
          ...body,
          startsAt: body.startsAt ? new Date(body.startsAt) : undefined,
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/freeze/overrides',
      summary: 'List freeze overrides, newest first (for reports; paginated)',
      tags: ['freeze'],
      // Each override is checked at its environment's scope.
      auth: { permission: P['freeze.override.read'], scope: () => ({ any: true }) },
      query: z
        .object({
          project: name.optional(),
          environment: name.optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          until: z.iso.datetime({ offset: true }).optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(overrideView),
      async handler({ query, ctx }) {
        const filter = {
          project: query.project,
          environment: query.environment,
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
        };
        const pager = new Pager(query, 'freeze-overrides', filter);
        const page = await service.listOverrides(filter, pager.request);
        const items = [];
        for (const o of page.items)
          if (
            await ctx.guard.can(P['freeze.override.read'], {
              project: o.project,
              environment: o.environment,
            })
          )
            items.push(o);
        return pager.page({ items, next: page.next });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/freeze/status',
      summary: 'Whether a freeze is in force for an environment (now, or at a given time), and why',
      tags: ['freeze'],
      auth: {
        permission: P['freeze.window.read'],
        scope: ({ query }) => ({
          project: str(query.project),
          environment: str(query.environment),
        }),
      },
      query: z
        .object({
          project: name,
          environment: name,
          at: z.iso.datetime({ offset: true }).optional(),
          lane: z.enum(freezeLanes).optional(),
        })
        .strict(),
      response: z.object({
        frozen: z.boolean(),
        at: z.string(),
        windows: z.array(windowView),
        excepted: z.array(windowView),
        override: overrideView.nullable(),
        reasons: z.array(z.string()),
      }),
      async handler({ query }) {
        const at = query.at ? new Date(query.at) : service.now();
        const decision = await service.check({
          project: query.project,
          environment: query.environment,
          at,
          lane: query.lane,
        });
        return { ...decision, at: at.toISOString() };
      },
    }),
  ];
}
