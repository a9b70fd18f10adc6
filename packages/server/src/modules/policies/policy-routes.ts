import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { parseDuration } from '../../platform/duration.ts';
import { policyPermissions as P } from './permissions.ts';
import { decisionPoints } from './policy-spec.ts';
import type { PolicyService } from './policy-service.ts';

const name = z.string().min(1).max(63);
const anyScope = () => ({ any: true });
const message = z.object({ policy: z.string(), version: z.number(), message: z.string() });
const ref = z.object({
  name: z.string(),
  project: z.string().nullable(),
  version: z.number(),
  hash: z.string(),
});
const decision = z.object({
  id: z.string(),
  point: z.string(),
  project: z.string(),
  environment: z.string().nullable(),
  subject: z.object({ type: z.string(), id: z.string() }),
  policies: z.array(ref),
  inputHash: z.string(),
  result: z.string(),
  deny: z.array(message),
  warn: z.array(message),
  errors: z.array(message),
  durationUs: z.number(),
  actor: z.string(),
  decidedAt: z.string(),
});
const outcome = z.object({
  result: z.string(),
  deny: z.array(message),
  warn: z.array(message),
  errors: z.array(message),
});
const idParams = z.object({ id: z.string().min(1).max(100) }).strict();

export function policyRoutes(service: PolicyService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/policy-decisions',
      summary: 'The policy decision log, newest first (paginated)',
      tags: ['policies'],
      // Each decision is checked at its project and environment.
      auth: { permission: P['policies.decision.read'], scope: anyScope },
      query: z
        .object({
          project: name.optional(),
          environment: name.optional(),
          point: z.enum(decisionPoints).optional(),
          subjectType: z.string().max(40).optional(),
          subjectId: z.string().max(200).optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(decision),
      async handler({ query, ctx }) {
        const filter = {
          project: query.project,
          environment: query.environment,
          point: query.point,
          subject:
            query.subjectType && query.subjectId
              ? { type: query.subjectType, id: query.subjectId }
              : undefined,
          since: query.since ? new Date(query.since).toISOString() : undefined,
        };
        const pager = new Pager(query, 'policy-decisions', filter);
        return pager.page(await service.decisions(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/policy-decisions/:id',
      summary: 'One policy decision with its recorded input',
      tags: ['policies'],
      auth: { permission: P['policies.decision.read'], scope: anyScope },
      params: idParams,
      response: decision.extend({ input: z.unknown() }),
      async handler({ params, ctx }) {
        return service.decision(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/policy-decisions/:id/replay',
      summary:
        'Re-evaluate a recorded decision with the policy versions in force then and its recorded input',
      tags: ['policies'],
      auth: { permission: P['policies.decision.read'], scope: anyScope },
      params: idParams,
      response: z.object({
        decision: z.string(),
        same: z.boolean(),
        differences: z.array(z.string()),
        inputHash: z.string(),
        policies: z.array(ref),
        recorded: outcome,
        replayed: outcome,
      }),
      async handler({ params, ctx }) {
        return service.replay(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/policies/impact',
      summary:
        'Evaluate a candidate policy against the recorded inputs of past decisions; list every decision that would change',
      tags: ['policies'],
      auth: { permission: P['policies.decision.read'], scope: anyScope },
      body: z
        .object({
          document: z.record(z.string(), z.unknown()),
          since: z
            .string()
            .max(40)
            .refine((s) => parseDuration(s) !== undefined || !Number.isNaN(Date.parse(s)), {
              message: 'must be a duration such as 90d or an ISO time',
            })
            .default('90d'),
        })
        .strict(),
      response: z.object({
        candidate: z.object({ name: z.string(), project: z.string().nullable(), hash: z.string() }),
        since: z.string(),
        examined: z.number(),
        skipped: z.number(),
        truncated: z.boolean(),
        changed: z.array(
          z.object({
            decision: z.string(),
            decidedAt: z.string(),
            project: z.string(),
            environment: z.string().nullable(),
            subject: z.object({ type: z.string(), id: z.string() }),
            from: z.string(),
            to: z.string(),
            differences: z.array(z.string()),
            deny: z.array(message),
          }),
        ),
      }),
      async handler({ body, ctx }) {
        const ms = parseDuration(body.since);
        const since =
          ms !== undefined ? new Date(service.now().getTime() - ms) : new Date(body.since);
        return service.impact(ctx, { document: body.document, since });
      },
    }),
  ];
}
