import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { EvidenceService } from './evidence-service.ts';
import { evidencePermissions as P } from './permissions.ts';
import type { WaiverService } from './waiver-service.ts';

const name = z.string().min(1).max(63);
const id = z.string().min(1).max(100);
const anyScope = () => ({ any: true });
const json = z.record(z.string(), z.unknown());

const reportView = z.object({
  id: z.string(),
  run: z.string(),
  job: z.string(),
  stage: z.string(),
  environment: z.string().nullable(),
  step: z.number(),
  file: z.string(),
  type: z.string(),
  format: z.string(),
  path: z.string(),
  digest: z.string(),
  figures: json,
  createdAt: z.string(),
});
const counts = z.object({
  critical: z.number(),
  high: z.number(),
  medium: z.number(),
  low: z.number(),
  info: z.number(),
});
const findingView = z.object({
  fingerprint: z.string(),
  tools: z.array(z.string()),
  ruleId: z.string(),
  message: z.string(),
  location: z.object({ path: z.string().nullable(), startLine: z.number().nullable() }),
  severity: z.string(),
  status: z.enum(['new', 'existing']),
  waiver: z.string().nullable(),
});
const waiverView = z.object({
  id: z.string(),
  project: z.string(),
  environment: z.string().nullable(),
  fingerprint: z.string().nullable(),
  rule: z.string().nullable(),
  reason: z.string(),
  state: z.enum(['pending', 'approved', 'rejected', 'expired']),
  requestedBy: z.string(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string().nullable(),
});
const runParams = z.object({ id }).strict();

export function evidenceRoutes(evidence: EvidenceService, waivers: WaiverService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/evidence',
      summary: 'The reports a run recorded, parsed: format and figures of each',
      tags: ['evidence'],
      auth: { permission: P['evidence.report.read'], scope: anyScope },
      params: runParams,
      response: z.object({ items: z.array(reportView) }),
      async handler({ params, ctx }) {
        return { items: await evidence.reportsOfRun(ctx, params.id) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/tests',
      summary: "A run's test results: totals and the failed cases",
      tags: ['evidence'],
      auth: { permission: P['evidence.report.read'], scope: anyScope },
      params: runParams,
      response: z.object({
        run: z.string(),
        reports: z.array(reportView),
        totals: z.object({
          tests: z.number(),
          passed: z.number(),
          failures: z.number(),
          errors: z.number(),
          skipped: z.number(),
          flaky: z.number(),
        }),
        failed: z.array(
          z.object({
            report: z.string(),
            name: z.string(),
            className: z.string().nullable(),
            file: z.string().nullable(),
            outcome: z.string(),
            message: z.string().nullable(),
            durationMs: z.number().nullable(),
          }),
        ),
      }),
      async handler({ params, ctx }) {
        return evidence.testsOfRun(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/evidence/summary',
      summary:
        "The evidence summary document of a run's artifacts, as an environment's quality gates read it",
      tags: ['evidence'],
      auth: { permission: P['evidence.report.read'], scope: anyScope },
      params: runParams,
      query: z.object({ environment: name.optional() }).strict(),
      response: json,
      async handler({ params, query, ctx }) {
        return (await evidence.summaryOfRun(
          ctx,
          params.id,
          query.environment ?? null,
        )) as unknown as Record<string, unknown>;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/environments/:environment/findings',
      summary:
        'Findings of what goes to the environment next (a run, else the newest run deploying there), new or existing against the release in it',
      tags: ['evidence'],
      auth: {
        permission: P['evidence.report.read'],
        scope: ({ params }) => ({
          project: String(params.project),
          environment: String(params.environment),
        }),
      },
      params: z.object({ project: name, environment: name }).strict(),
      query: z
        .object({ run: id.optional(), status: z.enum(['new', 'existing']).optional() })
        .strict(),
      response: z.object({
        run: z.string().nullable(),
        baseline: z.string().nullable(),
        counts: z.object({
          total: z.number(),
          suppressed: z.number(),
          waived: z.number(),
          fixed: z.number(),
          new: counts,
          existing: counts,
        }),
        items: z.array(findingView),
      }),
      async handler({ params, query, ctx }) {
        const out = await evidence.findings(ctx, { ...params, ...query });
        const { items: _all, ...totals } = out.counts;
        return { run: out.run, baseline: out.baseline, counts: totals, items: out.items };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/waivers',
      summary:
        'Ask to waive one finding (fingerprint) or a rule, with a reason and an expiry; a second person approves',
      tags: ['evidence'],
      auth: { permission: P['evidence.waiver.request'], scope: anyScope },
      body: z
        .object({
          project: name,
          environment: name.optional(),
          fingerprint: z.string().min(1).max(200).optional(),
          rule: z.string().min(1).max(500).optional(),
          reason: z.string().max(2000),
          expiresIn: z.string().min(1).max(20),
        })
        .strict(),
      status: 201,
      response: waiverView,
      async handler({ body, ctx }) {
        return waivers.request(ctx, body);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/waivers',
      summary: 'Waivers, newest first (paginated)',
      tags: ['evidence'],
      auth: { permission: P['evidence.waiver.read'], scope: anyScope },
      query: z
        .object({
          project: name.optional(),
          state: z.enum(['pending', 'approved', 'rejected', 'expired']).optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(waiverView),
      async handler({ query, ctx }) {
        const filter = { project: query.project, state: query.state };
        const pager = new Pager(query, 'waivers', filter);
        return pager.page(await waivers.list(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/waivers/:id',
      summary: 'One waiver',
      tags: ['evidence'],
      auth: { permission: P['evidence.waiver.read'], scope: anyScope },
      params: runParams,
      response: waiverView,
      async handler({ params, ctx }) {
        return waivers.get(ctx, params.id);
      },
    }),
    ...(['approve', 'reject'] as const).map((verb) =>
      defineRoute({
        method: 'POST',
        url: `/api/v1/waivers/:id/${verb}`,
        summary: `${verb === 'approve' ? 'Approve' : 'Reject'} a waiver someone else requested`,
        tags: ['evidence'],
        auth: { permission: P['evidence.waiver.approve'], scope: anyScope },
        params: runParams,
        body: z.object({ comment: z.string().max(2000).optional() }).strict(),
        response: waiverView,
        async handler({ params, body, ctx }) {
          return verb === 'approve'
            ? waivers.approve(ctx, params.id, body.comment)
            : waivers.reject(ctx, params.id, body.comment);
        },
      }),
    ),
  ];
}
