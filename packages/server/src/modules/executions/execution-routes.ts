import { z } from 'zod';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { ExecutionEngine } from './execution-engine.ts';
import { executionPermissions as P } from './permissions.ts';

const label = z.string().min(1).max(63);
const runState = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'rejected']);
export const runViewSchema = z.object({
  id: z.string(),
  project: z.string(),
  pipeline: z.string(),
  pipelineVersion: z.number(),
  contentHash: z.string(),
  repository: z.string(),
  branch: z.string(),
  commit: z.string().nullable(),
  inputs: z.record(z.string(), z.string()),
  trigger: z.record(z.string(), z.unknown()),
  state: runState,
  reason: z.string().nullable(),
  cancelRequested: z.boolean(),
  createdBy: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
const stepView = z.object({
  index: z.number(),
  name: z.string(),
  state: z.string(),
  exitCode: z.number().nullable(),
  attempts: z.number(),
  reason: z.string().nullable(),
  logDigest: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
const runDetailSchema = runViewSchema.extend({
  stages: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      environment: z.string().nullable(),
      pool: z.string(),
      state: z.string(),
      reason: z.string().nullable(),
      waitingSince: z.string().nullable(),
      waitExpiresAt: z.string().nullable(),
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      jobs: z.array(
        z.object({
          id: z.string(),
          kind: z.string(),
          generation: z.number(),
          pool: z.string(),
          state: z.string(),
          attempt: z.number(),
          runner: z.string().nullable(),
          reason: z.string().nullable(),
          steps: z.array(stepView),
        }),
      ),
    }),
  ),
  files: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      name: z.string(),
      type: z.string(),
      path: z.string(),
      digest: z.string(),
      size: z.number(),
      stage: z.string(),
      step: z.string(),
      createdAt: z.string(),
    }),
  ),
});
const runParams = z.object({ id: z.string().min(1).max(64) }).strict();

export function executionRoutes(engine: ExecutionEngine): AnyRoute[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/projects/:project/pipelines/:pipeline/runs',
      summary: 'Start a run of the latest (or a given) version of a pipeline',
      tags: ['executions'],
      auth: {
        permission: P['executions.run.create'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: z.object({ project: label, pipeline: label }).strict(),
      body: z
        .object({
          inputs: z.record(z.string().max(63), z.string().max(10_000)).optional(),
          commit: z.string().max(64).optional(),
          version: z.number().int().min(1).optional(),
          // A change request (standard, normal, emergency) for the stages deploying to its
          // environment; the gate checks it there.
          change: z.string().min(1).max(100).optional(),
        })
        .strict()
        .optional(),
      status: 201,
      response: runViewSchema,
      async handler({ params, body, ctx }) {
        return engine.runs.create(ctx, {
          project: params.project,
          pipeline: params.pipeline,
          inputs: body?.inputs,
          commit: body?.commit,
          version: body?.version,
          trigger: { type: 'manual', ...(body?.change ? { change: body.change } : {}) },
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs',
      summary: 'List the runs you may read, newest first (paginated)',
      tags: ['executions'],
      // Each run is checked at its project: project members list their projects' runs.
      auth: { permission: P['executions.run.read'], scope: () => ({ any: true }) },
      query: z
        .object({
          project: label.optional(),
          pipeline: label.optional(),
          state: runState.optional(),
          ...pageFields,
        })
        .strict(),
      response: pageResponse(runViewSchema),
      async handler({ query, ctx }) {
        const filter = { project: query.project, pipeline: query.pipeline, state: query.state };
        const pager = new Pager(query, 'runs', filter);
        return pager.page(await engine.runs.list(ctx, filter, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id',
      summary: 'A run with its stages, jobs, steps, artifacts and evidence',
      tags: ['executions'],
      auth: { permission: P['executions.run.read'], scope: () => ({ any: true }) },
      params: runParams,
      response: runDetailSchema,
      async handler({ params, ctx }) {
        return engine.runs.get(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/files/:file',
      summary: 'Download an artifact or report a step recorded (base64; each download is audited)',
      tags: ['executions'],
      auth: { permission: P['executions.run.read'], scope: () => ({ any: true }) },
      params: z
        .object({ id: z.string().min(1).max(100), file: z.string().min(1).max(100) })
        .strict(),
      response: z.object({
        id: z.string(),
        kind: z.string(),
        name: z.string(),
        type: z.string(),
        path: z.string(),
        digest: z.string(),
        size: z.number(),
        contentBase64: z.string(),
      }),
      async handler({ params, ctx }) {
        return engine.runs.fileContent(ctx, params.id, params.file);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runs/:id/cancel',
      summary: 'Cancel a run: queued work ends now, running steps are stopped by their runner',
      tags: ['executions'],
      auth: { permission: P['executions.run.cancel'], scope: () => ({ any: true }) },
      params: runParams,
      response: runViewSchema,
      async handler({ params, ctx }) {
        return engine.runs.cancel(ctx, params.id);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runs/:id/logs',
      summary: 'Log chunks of a run (optionally one step), each with its SHA-256',
      tags: ['executions'],
      auth: { permission: P['executions.run.read'], scope: () => ({ any: true }) },
      params: runParams,
      query: z
        .object({
          step: z.string().min(1).max(130).optional(),
          after: z.coerce.number().int().min(0).optional(),
        })
        .strict(),
      response: z.object({
        cursor: z.number(),
        chunks: z.array(
          z.object({
            cursor: z.number(),
            stage: z.string(),
            step: z.string(),
            attempt: z.number(),
            seq: z.number(),
            content: z.string(),
            sha256: z.string(),
          }),
        ),
      }),
      async handler({ params, query, ctx }) {
        return engine.runs.logs(ctx, params.id, query);
      },
    }),
  ];
}
