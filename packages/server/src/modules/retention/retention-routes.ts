import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { FixityCheck } from './fixity.ts';
import type { HoldService } from './hold-service.ts';
import { retentionPermissions as P } from './permissions.ts';
import type { RetentionPeriods } from './retention-periods.ts';

const name = z.string().min(1).max(63);
const id = z.string().min(1).max(100);
const anyScope = () => ({ any: true });
const idParams = z.object({ id }).strict();

const holdView = z.object({
  id: z.string(),
  project: z.string(),
  target: z.enum(['project', 'environment', 'change']),
  environment: z.string().nullable(),
  change: z.string().nullable(),
  runs: z.array(z.string()),
  reason: z.string(),
  placedBy: z.string(),
  placedAt: z.string(),
  state: z.enum(['active', 'release-requested', 'released']),
  releaseRequestedBy: z.string().nullable(),
  releaseRequestedAt: z.string().nullable(),
  releaseReason: z.string().nullable(),
  releasedBy: z.string().nullable(),
  releasedAt: z.string().nullable(),
});
const sourceCount = z.object({
  checked: z.number(),
  mismatched: z.number(),
  firstDigest: z.string().nullable(),
  lastDigest: z.string().nullable(),
});
const fixityView = z.object({
  checkedAt: z.string(),
  durationMs: z.number(),
  blobs: sourceCount,
  documents: sourceCount,
  mismatches: z.array(
    z.object({
      source: z.enum(['blob', 'document']),
      digest: z.string(),
      actual: z.string(),
      sizeRecorded: z.number().nullable(),
      sizeActual: z.number(),
      usedBy: z.array(
        z.object({
          run: z.string(),
          job: z.string(),
          kind: z.string(),
          name: z.string(),
          path: z.string(),
        }),
      ),
    }),
  ),
  guards: z.object({ intact: z.boolean(), missing: z.array(z.string()) }),
});

export function retentionRoutes(deps: {
  holds: HoldService;
  periods: RetentionPeriods;
  fixity: FixityCheck;
}): AnyRoute[] {
  const { holds, periods, fixity } = deps;
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/legal-holds',
      summary: 'Place a legal hold on a project, one of its environments or a change',
      tags: ['retention'],
      auth: { permission: P['retention.hold.place'], scope: anyScope },
      body: z
        .object({
          project: name,
          environment: name.optional(),
          change: z.string().min(1).max(200).optional(),
          reason: z.string().max(2000),
        })
        .strict(),
      status: 201,
      response: holdView,
      async handler({ body, ctx }) {
        return holds.place(ctx, body);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/legal-holds',
      summary: 'Legal holds, newest first, released ones included (paginated)',
      tags: ['retention'],
      auth: { permission: P['retention.hold.read'], scope: anyScope },
      query: z.object({ project: name.optional(), ...pageFields }).strict(),
      response: pageResponse(holdView),
      async handler({ query, ctx }) {
        const filter = { project: query.project };
        const pager = new Pager(query, 'legal-holds', filter);
        return pager.page(await holds.list(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/legal-holds/:id',
      summary: 'One legal hold and its release, if any',
      tags: ['retention'],
      auth: { permission: P['retention.hold.read'], scope: anyScope },
      params: idParams,
      response: holdView,
      async handler({ params, ctx }) {
        return holds.get(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/legal-holds/:id/release',
      summary: 'Request the release of a legal hold (a second person approves it)',
      tags: ['retention'],
      auth: { permission: P['retention.hold.release'], scope: anyScope },
      params: idParams,
      body: z.object({ reason: z.string().max(2000) }).strict(),
      response: holdView,
      async handler({ params, body, ctx }) {
        return holds.requestRelease(ctx, params.id, body.reason);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/legal-holds/:id/approve-release',
      summary: "Approve another person's release request: the hold is released",
      tags: ['retention'],
      auth: { permission: P['retention.hold.release'], scope: anyScope },
      params: idParams,
      body: z
        .object({ comment: z.string().max(2000).optional() })
        .strict()
        .default({}),
      response: holdView,
      async handler({ params, body, ctx }) {
        return holds.approveRelease(ctx, params.id, body.comment);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/retention',
      summary: "A project's effective retention period in years (never below the minimum)",
      tags: ['retention'],
      auth: {
        permission: P['retention.period.read'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: z.object({ project: name }).strict(),
      response: z.object({
        project: z.string(),
        years: z.number(),
        minimumYears: z.number(),
      }),
      async handler({ params }) {
        return {
          project: params.project,
          years: await periods.yearsFor(params.project),
          minimumYears: periods.minimumYears,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/evidence/fixity',
      summary:
        'Re-hash every stored blob and evidence document now; the counts and any mismatch (also in the ledger)',
      tags: ['retention'],
      auth: { permission: P['retention.fixity.check'], scope: () => ({}) },
      response: fixityView,
      async handler({ ctx }) {
        return fixity.runOnDemand(ctx);
      },
    }),
  ];
}
