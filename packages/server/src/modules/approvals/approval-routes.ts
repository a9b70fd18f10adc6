import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { ApprovalService } from './approval-service.ts';
import { approvalPermissions as P } from './permissions.ts';

const view = z.object({
  id: z.string(),
  subject: z.object({ type: z.string(), id: z.string(), hash: z.string() }),
  project: z.string().nullable(),
  environment: z.string().nullable(),
  summary: z.string(),
  author: z.string(),
  state: z.enum(['pending', 'approved', 'rejected']),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
});
const idParams = z.object({ id: z.string().min(1).max(64) }).strict();

export function approvalRoutes(service: ApprovalService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/approvals',
      summary: 'List the approval requests you may read, newest first (paginated)',
      tags: ['approvals'],
      // Each request is checked at its own scope: project members see their project's.
      auth: { permission: P['approvals.request.read'], scope: () => ({ any: true }) },
      query: z
        .object({
          state: z.enum(['pending', 'approved', 'rejected']).optional(),
          project: z.string().min(1).max(63).optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(view),
      async handler({ query, ctx }) {
        const filter = { state: query.state, project: query.project };
        const pager = new Pager(query, 'approvals', filter);
        return pager.page(await service.list(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/approvals/:id',
      summary: 'Show one approval request',
      tags: ['approvals'],
      auth: { permission: P['approvals.request.read'], scope: () => ({ any: true }) },
      params: idParams,
      response: view,
      async handler({ params, ctx }) {
        return service.get(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/approvals/:id/approve',
      summary: 'Approve a request (a second person, never its author)',
      tags: ['approvals'],
      auth: { permission: P['approvals.request.approve'], scope: () => ({ any: true }) },
      params: idParams,
      body: z
        .object({ comment: z.string().max(2000).optional() })
        .strict()
        .optional(),
      response: view,
      async handler({ params, body, ctx }) {
        return service.approve(ctx, params.id, body?.comment);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/approvals/:id/reject',
      summary: 'Refuse a request, with a reason',
      tags: ['approvals'],
      auth: { permission: P['approvals.request.reject'], scope: () => ({ any: true }) },
      params: idParams,
      body: z.object({ reason: z.string().min(1).max(2000) }).strict(),
      response: view,
      async handler({ params, body, ctx }) {
        return service.reject(ctx, params.id, body.reason);
      },
    }),
  ];
}
