import { z } from 'zod';
import { defaultPageLimit, maxPageLimit } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { AuditService } from './audit-service.ts';
import { auditPermissions } from './permissions.ts';

const entrySchema = z.object({
  seq: z.number(),
  time: z.string(),
  actor: z.object({
    type: z.string(),
    id: z.string().nullable(),
    name: z.string(),
    authMethod: z.string(),
    ip: z.string().nullable(),
  }),
  action: z.string(),
  resource: z.object({ type: z.string(), id: z.string() }),
  outcome: z.string(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  leafHash: z.string(),
});

export const auditEntryPresenter = entrySchema;

const querySchema = z
  .object({
    actor: z.string().optional(),
    action: z.string().optional(),
    resourceType: z.string().optional(),
    resourceId: z.string().optional(),
    outcome: z.enum(['succeeded', 'denied', 'failed']).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    after: z.coerce.number().int().min(-1).optional(),
    limit: z.coerce.number().int().min(1).default(defaultPageLimit),
    order: z.enum(['asc', 'desc']).default('asc'),
  })
  .strict();

export function auditRoutes(service: AuditService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/audit/entries',
      summary:
        'List audit entries with filters, paginated by sequence number: pass `next` back as `after`',
      tags: ['audit'],
      auth: { permission: auditPermissions['audit.entry.read'] },
      query: querySchema,
      response: z.object({ entries: z.array(entrySchema), next: z.number().nullable() }),
      async handler({ query }) {
        const limit = Math.min(query.limit, maxPageLimit);
        // One more than asked tells whether another page exists.
        const rows = await service.list({
          actor: query.actor,
          action: query.action,
          resourceType: query.resourceType,
          resourceId: query.resourceId,
          outcome: query.outcome,
          since: query.since ? new Date(query.since).toISOString() : undefined,
          until: query.until ? new Date(query.until).toISOString() : undefined,
          ...(query.order === 'asc' ? { afterSeq: query.after } : { beforeSeq: query.after }),
          limit: limit + 1,
          order: query.order,
        });
        const entries = rows.slice(0, limit);
        const last = entries.at(-1);
        return { entries, next: rows.length > limit && last ? last.seq : null };
      },
    }),
  ];
}
