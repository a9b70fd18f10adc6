import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { approvalPermissions } from '../approvals/index.ts';
import { executionPermissions } from '../executions/index.ts';
import type { DeploymentService } from './deployment-service.ts';

const vote = z.object({
  principal: z.string(),
  decision: z.string(),
  comment: z.string().nullable(),
  decidedAt: z.string(),
});
const approvalView = z.object({
  id: z.string(),
  run: z.string(),
  stage: z.string(),
  project: z.string(),
  environment: z.string(),
  intentHash: z.string(),
  intent: z.unknown(),
  state: z.string(),
  createdAt: z.string(),
  votes: z.array(vote),
});
const reason = z.object({
  check: z.string(),
  code: z.string(),
  message: z.string(),
  unblock: z.string().nullable(),
  blocking: z.boolean(),
});
const idParams = z.object({ id: z.string().min(1).max(64) }).strict();

export function deploymentRoutes(service: DeploymentService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/deployments/approvals',
      summary:
        'List the deployment approval requests you may read, newest first (mine=true: those you may still approve; paginated)',
      tags: ['deployments'],
      auth: {
        permission: approvalPermissions['approvals.request.read'],
        scope: () => ({ any: true }),
      },
      query: z
        .object({
          state: z.enum(['pending', 'approved', 'rejected', 'voided', 'withdrawn']).optional(),
          project: z.string().min(1).max(63).optional(),
          mine: z.enum(['true', 'false']).optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(approvalView),
      async handler({ query, ctx }) {
        const filter = { state: query.state, project: query.project, mine: query.mine === 'true' };
        const pager = new Pager(query, 'deployment-approvals', filter);
        return pager.page(await service.list(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/deployments/approvals/:id',
      summary: 'Show a deployment approval request, its intent and votes',
      tags: ['deployments'],
      auth: {
        permission: approvalPermissions['approvals.request.read'],
        scope: () => ({ any: true }),
      },
      params: idParams,
      response: approvalView,
      async handler({ params, ctx }) {
        return service.get(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/deployments/approvals/:id/approve',
      summary: 'Approve a deployment (never the triggerer, the authors or a service account)',
      tags: ['deployments'],
      auth: {
        permission: approvalPermissions['approvals.request.approve'],
        scope: () => ({ any: true }),
      },
      params: idParams,
      body: z
        .object({ comment: z.string().max(2000).optional() })
        .strict()
        .optional(),
      response: approvalView,
      async handler({ params, body, ctx }) {
        return service.approve(ctx, params.id, body?.comment);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/deployments/approvals/:id/reject',
      summary: 'Refuse a deployment, with a reason',
      tags: ['deployments'],
      auth: {
        permission: approvalPermissions['approvals.request.reject'],
        scope: () => ({ any: true }),
      },
      params: idParams,
      body: z.object({ reason: z.string().min(1).max(2000) }).strict(),
      response: approvalView,
      async handler({ params, body, ctx }) {
        return service.reject(ctx, params.id, body.reason);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/projects/:project/environments/:environment/rollback',
      summary: 'Redeploy the last known-good release (or --to RUN) through the same gate',
      tags: ['deployments'],
      auth: {
        permission: executionPermissions['executions.run.create'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: z
        .object({ project: z.string().min(1).max(63), environment: z.string().min(1).max(63) })
        .strict(),
      body: z
        .object({
          to: z.string().min(1).max(64).optional(),
          reason: z.string().max(2000).optional(),
        })
        .strict()
        .optional(),
      status: 201,
      response: z.object({
        run: z.object({ id: z.string(), state: z.string(), pipelineVersion: z.number() }),
        from: z.string(),
      }),
      async handler({ params, body, ctx }) {
        const { run, from } = await service.rollback(ctx, {
          ...params,
          to: body?.to,
          reason: body?.reason,
        });
        return {
          run: { id: run.id, state: run.state, pipelineVersion: run.pipelineVersion },
          from,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/gate',
      summary:
        "The deployment gate's decisions for a run: why it is blocked, what would unblock it",
      tags: ['deployments'],
      auth: {
        permission: executionPermissions['executions.run.read'],
        scope: () => ({ any: true }),
      },
      params: idParams,
      response: z.object({
        run: z.string(),
        state: z.string(),
        stages: z.array(
          z.object({
            stage: z.string(),
            environment: z.string(),
            state: z.string(),
            decision: z
              .object({
                id: z.string(),
                allowed: z.boolean(),
                status: z.string(),
                point: z.string(),
                intentHash: z.string(),
                reasons: z.array(reason),
                decidedAt: z.string(),
              })
              .nullable(),
            approval: approvalView.nullable(),
          }),
        ),
      }),
      async handler({ params, ctx }) {
        return service.gateOf(ctx, params.id);
      },
    }),
  ];
}
