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
      'HMAC-SHA256 of the body (X-Hub-Signature-256) with the project secret GITHUB_WEBHOOK_SECRET',
    ),
    webhook(service, 'gitlab', 'X-Gitlab-Token equal to the project secret GITLAB_WEBHOOK_TOKEN'),
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
