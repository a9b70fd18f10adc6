import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { catalogCsv } from './control-csv.ts';
import type { ControlService } from './control-service.ts';
import { controlPermissions as P } from './permissions.ts';

const name = z.string().min(1).max(63);
const state = z.enum(['pass', 'fail', 'not_configured']);
const filter = { project: name.optional(), environment: name.optional() };
const checkView = z.object({
  check: z.string(),
  control: z.string(),
  title: z.string(),
  project: z.string(),
  environment: z.string(),
  state,
  message: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  since: z.string().nullable(),
});
const historyView = z.object({
  id: z.string(),
  check: z.string(),
  control: z.string(),
  project: z.string(),
  environment: z.string(),
  state,
  message: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  cause: z.record(z.string(), z.unknown()),
  from: z.string(),
  until: z.string().nullable(),
});
// Rows are checked at each environment's scope by the service.
const auth = { permission: P['controls.catalog.read'], scope: () => ({ any: true }) };

export function controlRoutes(service: ControlService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/controls',
      summary:
        'The live control catalog: every check of every production environment, with evidence',
      tags: ['controls'],
      auth,
      query: z.object(filter).strict(),
      response: z.object({ evaluatedAt: z.string(), items: z.array(checkView) }),
      async handler({ query, ctx }) {
        const items = await service.catalog(ctx, query);
        return { evaluatedAt: service.now().toISOString(), items };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/controls/export.csv',
      summary: 'The control catalog as CSV: a header row, then one row per (environment, check)',
      tags: ['controls'],
      auth,
      query: z.object(filter).strict(),
      raw: { contentType: 'text/csv; charset=utf-8' },
      response: z.string(),
      async handler({ query, ctx }) {
        return catalogCsv(await service.catalog(ctx, query));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/controls/history',
      summary: "A check's states over time, newest first (paginated)",
      tags: ['controls'],
      auth,
      query: z.object({ check: z.string().max(100).optional(), ...filter, ...pageFields }).strict(),
      response: pageResponse(historyView),
      async handler({ query, ctx }) {
        const { check, project, environment } = query;
        const pager = new Pager(query, 'controls-history', { check, project, environment });
        return pager.page(
          await service.history(ctx, { check, project, environment }, pager.request),
        );
      },
    }),
  ];
}
