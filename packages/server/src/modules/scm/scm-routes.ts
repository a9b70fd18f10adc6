import { z } from 'zod';
import { Pager, pageFields } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { scmPermissions as P } from './permissions.ts';
import type { Provider, ScmService } from './scm-service.ts';

const result = z.object({
  event: z.string(),
  recorded: z.string(),
  runs: z.array(z.string()),
  refused: z.array(z.object({ pipeline: z.string(), code: z.string() })),
});

const projectParams = z.object({ project: z.string().min(1).max(63) }).strict();
const changeView = z.object({
  provider: z.string(),
  repository: z.string(),
  number: z.number(),
  title: z.string(),
  author: z.string(),
  state: z.string(),
  headSha: z.string().nullable(),
  mergeCommitSha: z.string().nullable(),
  merged: z.boolean(),
  targetBranch: z.string().nullable(),
  updatedAt: z.string(),
  reviews: z.array(
    z.object({
      reviewer: z.string(),
      verdict: z.string(),
      commitSha: z.string().nullable(),
      submittedAt: z.string(),
    }),
  ),
});
const commitView = z.object({
  provider: z.string(),
  repository: z.string(),
  sha: z.string(),
  ref: z.string(),
  author: z.string(),
  committer: z.string(),
  pushedBy: z.string(),
});

const secretView = z.object({
  project: z.string(),
  provider: z.string(),
  version: z.number(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});

function setWebhookSecret(service: ScmService, provider: Provider): AnyRoute {
  return defineRoute({
    method: 'PUT',
    url: `/api/v1/projects/:project/scm/webhook-secrets/${provider}`,
    summary: `Set a project's ${provider === 'github' ? 'GitHub' : 'GitLab'} webhook secret (a platform secret: never given to jobs, never returned)`,
    tags: ['scm'],
    auth: {
      permission: P['scm.webhook-secret.write'],
      scope: ({ params }) => ({ project: String(params.project) }),
    },
    params: z.object({ project: z.string().min(1).max(63) }).strict(),
    body: z.object({ value: z.string().min(8).max(4096) }).strict(),
    response: secretView,
    async handler({ params, body, ctx }) {
      return service.setWebhookSecret(ctx, {
        project: params.project,
        provider,
        value: body.value,
      });
    },
  });
}

function webhook(service: ScmService, provider: Provider, how: string): AnyRoute {
  return defineRoute({
    method: 'POST',
    url: `/api/v1/webhooks/${provider}/:project`,
    summary: `Receive a ${provider === 'github' ? 'GitHub' : 'GitLab'} webhook for a project`,
    tags: ['scm'],
    auth: { public: how },
    contentTypes: ['application/json'],
    params: z.object({ project: z.string().min(1).max(63) }).strict(),
    body: z.unknown(),
    response: result,
    async handler({ params, headers, rawBody, body, ip, ctx }) {
      return service.receive({
        provider,
        project: params.project,
        headers,
        rawBody,
        body,
        ip,
        requestId: ctx.requestId,
      });
    },
  });
}

export function scmRoutes(service: ScmService): AnyRoute[] {
  return [
    webhook(
      service,
      'github',
      "HMAC-SHA256 of the body (X-Hub-Signature-256) with the project's GitHub webhook secret; each X-GitHub-Delivery once",
    ),
    webhook(
      service,
      'gitlab',
      "X-Gitlab-Token equal to the project's GitLab webhook secret; each Idempotency-Key / X-Gitlab-Event-UUID once",
    ),
    setWebhookSecret(service, 'github'),
    setWebhookSecret(service, 'gitlab'),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/scm/webhook-secrets',
      summary: 'Which webhook secrets a project has, with version and author (never values)',
      tags: ['scm'],
      auth: {
        permission: P['scm.webhook-secret.read'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: z.object({ project: z.string().min(1).max(63) }).strict(),
      response: z.object({ items: z.array(secretView) }),
      async handler({ params, ctx }) {
        return { items: await service.webhookSecrets(ctx, params.project) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/scm/changes',
      summary:
        'Recorded pull/merge requests with authors, reviewers and verdicts, by repository and newest number (paginated)',
      tags: ['scm'],
      auth: {
        permission: P['scm.change.read'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: projectParams,
      query: z.object(pageFields).strict(),
      response: z.object({ changes: z.array(changeView), next: z.string().nullable() }),
      async handler({ params, query, ctx }) {
        const pager = new Pager(query, `scm-changes/${params.project}`);
        const page = pager.page(await service.changes(ctx, params.project, pager.request));
        return { changes: page.items, next: page.next };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/projects/:project/scm/commits',
      summary:
        'Pushed commits with author, committer and pusher, in the order received (paginated)',
      tags: ['scm'],
      auth: {
        permission: P['scm.change.read'],
        scope: ({ params }) => ({ project: String(params.project) }),
      },
      params: projectParams,
      query: z.object(pageFields).strict(),
      response: z.object({ items: z.array(commitView), next: z.string().nullable() }),
      async handler({ params, query, ctx }) {
        const pager = new Pager(query, `scm-commits/${params.project}`);
        return pager.page(await service.commits(ctx, params.project, pager.request));
      },
    }),
  ];
}
