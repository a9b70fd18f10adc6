import { z } from 'zod';
import { parseDuration } from '../../platform/duration.ts';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import type { ExecutionEngine } from '../executions/index.ts';
import { runnerPermissions as P } from './permissions.ts';
import type { RunnerService } from './runner-service.ts';

const pool = z
  .string()
  .regex(/^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/, 'must be a pool name or *');
const jobParams = z.object({ id: z.string().min(1).max(64) }).strict();
const lease = z.object({ leaseId: z.string().min(1).max(64) }).strict();
const ok = z.object({ ok: z.literal(true) });
const sha = z.string().regex(/^[0-9a-f]{40,64}$/, 'must be a full commit SHA');
const person = z.string().max(320);
const commitRange = z
  .object({
    environment: z.string().min(1).max(63),
    since: sha.nullable(),
    truncated: z.boolean(),
    commits: z
      .array(
        z
          .object({
            sha,
            authorName: person,
            authorEmail: person,
            committerName: person,
            committerEmail: person,
            signature: z.enum(['good', 'bad', 'unknown', 'none']),
          })
          .strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict();
const runnerView = z.object({
  id: z.string(),
  name: z.string(),
  pools: z.array(z.string()),
  principal: z.string(),
  registeredAt: z.string(),
  lastSeenAt: z.string(),
});
const jobPayload = z.object({
  jobId: z.string(),
  leaseId: z.string(),
  leaseTtlMs: z.number(),
  attempt: z.number(),
  runId: z.string(),
  project: z.string(),
  pipeline: z.string(),
  pipelineVersion: z.number(),
  stage: z.string(),
  kind: z.enum(['main', 'rollback']),
  environment: z.string().nullable(),
  repository: z.string(),
  branch: z.string(),
  commit: z.string().nullable(),
  inputs: z.record(z.string(), z.string()),
  steps: z.array(
    z.object({
      name: z.string(),
      run: z.string(),
      env: z.record(z.string(), z.string()),
      timeoutMs: z.number().nullable(),
      retries: z.number(),
      evidence: z.array(z.object({ type: z.string(), path: z.string() })),
      artifacts: z.array(z.object({ name: z.string(), path: z.string() })),
      // The secrets this step names, only ever sent to the runner holding the lease.
      secrets: z.record(z.string(), z.string()),
    }),
  ),
  artifacts: z.array(
    z.object({ env: z.string(), name: z.string(), digest: z.string(), path: z.string() }),
  ),
  history: z.object({
    branch: z.string(),
    ranges: z.array(z.object({ environment: z.string(), since: z.string().nullable() })),
  }),
});

export function runnerRoutes(
  service: RunnerService,
  engine: ExecutionEngine,
  limits: { fileBytes: number } = { fileBytes: 32 * 1024 * 1024 },
): AnyRoute[] {
  const report = P['runners.job.report'];
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/runners/tokens',
      summary: 'Create a runner token scoped to pools (service account runner-NAME)',
      tags: ['runners'],
      auth: { permission: P['runners.token.create'] },
      body: z
        .object({
          name: z
            .string()
            .regex(/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/, 'must be a lowercase DNS label'),
          pools: z.array(pool).min(1).max(50),
          ttl: z
            .string()
            .refine((s) => parseDuration(s) !== undefined, 'must be a duration')
            .optional(),
        })
        .strict(),
      status: 201,
      response: z.object({
        token: z.string(),
        principal: z.string(),
        pools: z.array(z.string()),
        expiresAt: z.string(),
      }),
      async handler({ body, ctx }) {
        return service.createToken(ctx, {
          name: body.name,
          pools: body.pools,
          ttlMs: parseDuration(body.ttl ?? '90d')!,
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runners',
      summary: 'List registered runners, newest first (paginated)',
      tags: ['runners'],
      auth: { permission: P['runners.runner.read'] },
      query: z.object(pageFields).strict(),
      response: pageResponse(runnerView),
      async handler({ query }) {
        const pager = new Pager(query, 'runners');
        return pager.page(await service.list(pager.request));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/register',
      summary: 'A runner agent registers for pools its token allows',
      tags: ['runners'],
      auth: { permission: P['runners.runner.register'] },
      body: z
        .object({ name: z.string().min(1).max(100), pools: z.array(pool).min(1).max(50) })
        .strict(),
      status: 201,
      response: runnerView,
      async handler({ body, ctx }) {
        return service.register(ctx, body);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/lease',
      summary: 'Long poll for a job of the runner pools',
      tags: ['runners'],
      auth: { permission: P['runners.job.lease'] },
      body: z
        .object({
          runnerId: z.string().min(1).max(64),
          waitMs: z.number().int().min(0).max(30_000),
        })
        .strict(),
      response: z.object({ job: jobPayload.nullable() }),
      async handler({ body, ctx }) {
        return { job: (await service.lease(ctx, body)) ?? null };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/heartbeat',
      summary: 'Extend the lease; the answer says whether the run was cancelled',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      body: lease,
      response: z.object({ cancel: z.boolean() }),
      async handler({ params, body, ctx }) {
        return engine.reports.heartbeat(ctx, params.id, body.leaseId);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/commit',
      summary: 'Report the commit the job checked out (pins the run to it)',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      body: lease
        .extend({
          commit: z.string().min(7).max(64),
          ranges: z.array(commitRange).max(20).optional(),
        })
        .strict(),
      response: z.object({ commit: z.string() }),
      async handler({ params, body, ctx }) {
        return engine.reports.reportCommit(ctx, params.id, body.leaseId, body);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/steps/start',
      summary: 'A step started',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      body: lease.extend({ step: z.number().int().min(0).max(1000) }).strict(),
      response: ok,
      async handler({ params, body, ctx }) {
        await engine.reports.stepStarted(ctx, params.id, body.leaseId, body.step);
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/steps/finish',
      summary: 'A step finished, with its exit code',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      body: lease
        .extend({
          step: z.number().int().min(0).max(1000),
          result: z.enum(['succeeded', 'failed', 'cancelled']),
          exitCode: z.number().int().nullable(),
          attempts: z.number().int().min(0).max(100),
          reason: z.string().max(200).optional(),
          next: z.number().int().min(0).max(1000).optional(),
        })
        .strict(),
      response: ok,
      async handler({ params, body, ctx }) {
        await engine.reports.stepFinished(ctx, params.id, body.leaseId, body.step, body);
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/logs',
      summary: 'Append a log chunk (idempotent by sequence number), with its SHA-256',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      body: lease
        .extend({
          step: z.number().int().min(0),
          seq: z.number().int().min(0),
          content: z.string().max(256 * 1024),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
        })
        .strict(),
      response: ok,
      async handler({ params, body, ctx }) {
        await engine.files.appendLog(ctx, params.id, body.leaseId, body);
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/files',
      summary: 'Upload an artifact or evidence file with its SHA-256 digest',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      // Base64 grows a file by a third; the rest of the body is small.
      bodyLimit: Math.ceil((limits.fileBytes * 4) / 3) + 64 * 1024,
      body: lease
        .extend({
          step: z.number().int().min(0),
          kind: z.enum(['artifact', 'evidence']),
          name: z.string().min(1).max(200),
          type: z.string().min(1).max(50),
          path: z.string().min(1).max(1000),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          contentBase64: z.string(),
        })
        .strict(),
      status: 201,
      response: z.object({ id: z.string(), digest: z.string(), size: z.number() }),
      async handler({ params, body, ctx }) {
        return engine.files.uploadFile(ctx, params.id, body.leaseId, body);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/runner/jobs/:id/complete',
      summary: 'The job finished',
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams,
      body: lease
        .extend({
          result: z.enum(['succeeded', 'failed', 'cancelled']),
          reason: z.string().max(200).optional(),
        })
        .strict(),
      response: ok,
      async handler({ params, body, ctx }) {
        await engine.reports.completeJob(ctx, params.id, body.leaseId, body);
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/runner/jobs/:id/blobs/:digest',
      summary:
        "Download an artifact the leased job uses (its run's, or the previous release's for rollback steps)",
      tags: ['runners'],
      auth: { permission: report },
      params: jobParams.extend({ digest: z.string().min(1).max(80) }).strict(),
      query: lease,
      response: z.object({ size: z.number(), contentBase64: z.string() }),
      async handler({ params, query, ctx }) {
        return engine.files.blob(ctx, params.id, query.leaseId, params.digest);
      },
    }),
  ];
}
