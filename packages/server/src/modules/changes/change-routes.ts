import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { ChangeService } from './change-service.ts';
import { changePermissions as P } from './permissions.ts';

const name = z.string().min(1).max(63);
const id = z.object({ id: z.string().min(1).max(100) }).strict();
const changeView = z.object({
  id: z.string(),
  project: z.string(),
  environment: z.string(),
  riskClass: z.string(),
  state: z.string(),
  title: z.string(),
  reason: z.string(),
  template: z.string().nullable(),
  commit: z.string().nullable(),
  requestedBy: z.string(),
  createdAt: z.string(),
  activatedBy: z.string().nullable(),
  activatedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  review: z.object({
    status: z.string(),
    dueAt: z.string().nullable(),
    reviewedBy: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    notes: z.string().nullable(),
  }),
  uses: z.array(
    z.object({
      run: z.string(),
      stage: z.string(),
      commit: z.string().nullable(),
      intentHash: z.string(),
      usedAt: z.string(),
    }),
  ),
});
const ticketView = z.object({
  ticket: z.string(),
  found: z.boolean(),
  approved: z.boolean(),
  state: z.string().nullable(),
  reason: z.string(),
});

export function changeRoutes(service: ChangeService): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/changes',
      summary: 'Request a change: standard (from a template), normal, or emergency (break-glass)',
      tags: ['changes'],
      // Checked again at the environment's scope by the service, which knows the body.
      auth: { permission: P['changes.request.create'], scope: () => ({ any: true }) },
      body: z
        .object({
          project: name,
          environment: name,
          riskClass: z.enum(['standard', 'normal', 'emergency']),
          title: z.string().min(1).max(200),
          reason: z.string().max(4000).optional(),
          template: name.optional(),
          commit: z.string().max(64).optional(),
          expiresAfter: z.string().max(20).optional(),
          reviewWithin: z.string().max(20).optional(),
        })
        .strict(),
      status: 201,
      response: changeView,
      async handler({ body, ctx }) {
        return service.requests.create(ctx, body);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/changes',
      summary: 'List change requests, newest first (paginated)',
      tags: ['changes'],
      // Lists what the caller may read: each change is checked at its own scope.
      auth: { permission: P['changes.request.read'], scope: () => ({ any: true }) },
      query: z
        .object({
          project: name.optional(),
          environment: name.optional(),
          riskClass: z.enum(['standard', 'normal', 'emergency']).optional(),
          state: z.enum(['approved', 'open', 'requested', 'active']).optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(changeView),
      async handler({ query, ctx }) {
        const { limit: _l, cursor: _c, ...filter } = query;
        const pager = new Pager(query, 'changes', filter);
        return pager.page(await service.requests.list(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/changes/:id',
      summary: 'Read a change request and every deployment that used it',
      tags: ['changes'],
      auth: { permission: P['changes.request.read'], scope: () => ({ any: true }) },
      params: id,
      response: changeView,
      async handler({ params, ctx }) {
        return service.requests.get(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/changes/:id/activate',
      summary:
        'Activate an emergency change (a second person; never the requester or a service account)',
      tags: ['changes'],
      auth: { permission: P['changes.request.activate'], scope: () => ({ any: true }) },
      params: id,
      body: z
        .object({ comment: z.string().max(2000).optional() })
        .strict()
        .optional(),
      response: changeView,
      async handler({ params, body, ctx }) {
        return service.requests.activate(ctx, { id: params.id, comment: body?.comment });
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/changes/:id/review',
      summary: 'Record the post-implementation review of an emergency change',
      tags: ['changes'],
      auth: { permission: P['changes.request.review'], scope: () => ({ any: true }) },
      params: id,
      body: z.object({ notes: z.string().max(10_000) }).strict(),
      response: changeView,
      async handler({ params, body, ctx }) {
        return service.requests.review(ctx, { id: params.id, notes: body.notes });
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/v1/changes/connectors/:name/credentials',
      summary: 'Set the write-only credentials of a change connector (never returned)',
      tags: ['changes'],
      auth: { permission: P['changes.connector.manage'] },
      params: z.object({ name }).strict(),
      body: z.union([
        z
          .object({ username: z.string().min(1).max(200), password: z.string().min(1).max(4096) })
          .strict(),
        z.object({ token: z.string().min(1).max(8192) }).strict(),
      ]),
      response: z.object({
        connector: z.string(),
        auth: z.string(),
        username: z.string().nullable(),
        updatedAt: z.string(),
      }),
      async handler({ params, body, ctx }) {
        return service.tickets.setCredentials(ctx, { connector: params.name, ...body });
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/changes/connectors/:name/check',
      summary: 'Check a ticket through a change connector (approved or not, and why)',
      tags: ['changes'],
      auth: { permission: P['changes.connector.read'] },
      params: z.object({ name }).strict(),
      body: z.object({ ticket: z.string().min(1).max(100) }).strict(),
      response: ticketView,
      async handler({ params, body }) {
        return service.tickets.checkTicketWith(params.name, body.ticket);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/reports/control-failures',
      summary:
        'Control failures, such as emergency changes whose review is overdue, by deadline (paginated)',
      tags: ['changes', 'reports'],
      auth: { permission: P['changes.control-failure.read'] },
      query: z.object(pageFields).strict(),
      response: pageResponse(
        z.object({
          kind: z.string(),
          changeId: z.string(),
          project: z.string(),
          environment: z.string(),
          requestedBy: z.string(),
          activatedBy: z.string().nullable(),
          activatedAt: z.string().nullable(),
          dueAt: z.string(),
          reviewedAt: z.string().nullable(),
          overdueByMs: z.number(),
        }),
      ),
      async handler({ query }) {
        const pager = new Pager(query, 'control-failures');
        return pager.page(await service.failures.list(pager.request));
      },
    }),
  ];
}
