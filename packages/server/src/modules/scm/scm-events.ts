import { z } from 'zod';

// SCM payloads normalized into one neutral shape. Only the fields used are validated; the
// rest of a provider's payload passes through untouched.

export interface PushedCommit {
  sha: string;
  author: string;
  committer: string;
}

export type ScmEvent =
  | { readonly kind: 'ping' }
  | {
      readonly kind: 'push';
      readonly repository: string;
      readonly ref: string;
      readonly branch: string | null;
      readonly after: string;
      readonly deleted: boolean;
      readonly pushedBy: string;
      readonly commits: readonly PushedCommit[];
    }
  | {
      readonly kind: 'change';
      readonly repository: string;
      readonly number: number;
      readonly title: string;
      readonly author: string | null;
      readonly state: string;
      readonly headSha: string | null;
      readonly mergeCommitSha: string | null;
      readonly merged: boolean;
      readonly targetBranch: string | null;
    }
  | {
      readonly kind: 'review';
      readonly repository: string;
      readonly number: number;
      readonly reviewer: string;
      readonly verdict: string;
      readonly commitSha: string | null;
      readonly submittedAt: string | null;
    }
  | { readonly kind: 'ignored'; readonly event: string };

const branchOf = (ref: string) =>
  ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
const zeroSha = /^0+$/;

const ghUser = z.object({ login: z.string() });
const ghRepo = z.object({ full_name: z.string() });
const ghPerson = z.object({
  name: z.string().optional(),
  email: z.string().nullish(),
  username: z.string().optional(),
});
const ghWho = (p: z.infer<typeof ghPerson>) =>
  p.username ? `github:${p.username}` : `email:${p.email ?? p.name ?? 'unknown'}`;

const ghPush = z.object({
  ref: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  repository: ghRepo,
  pusher: z.object({ name: z.string() }),
  commits: z.array(z.object({ id: z.string(), author: ghPerson, committer: ghPerson })),
});
const ghPull = z.object({
  number: z.number().int(),
  repository: ghRepo,
  pull_request: z.object({
    title: z.string(),
    user: ghUser,
    state: z.string(),
    merged: z.boolean().nullish(),
    merge_commit_sha: z.string().nullish(),
    head: z.object({ sha: z.string() }),
    base: z.object({ ref: z.string() }),
  }),
});
const ghReview = z.object({
  repository: ghRepo,
  review: z.object({
    user: ghUser,
    state: z.string(),
    commit_id: z.string().nullish(),
    submitted_at: z.string().nullish(),
  }),
  pull_request: z.object({ number: z.number().int() }),
});

export function parseGithub(event: string, body: unknown): ScmEvent {
  switch (event) {
    case 'ping':
      return { kind: 'ping' };
    case 'push': {
      const p = ghPush.parse(body);
      return {
        kind: 'push',
        repository: p.repository.full_name,
        ref: p.ref,
        branch: branchOf(p.ref),
        after: p.after,
        deleted: p.deleted === true || zeroSha.test(p.after),
        pushedBy: `github:${p.pusher.name}`,
        commits: p.commits.map((c) => ({
          sha: c.id,
          author: ghWho(c.author),
          committer: ghWho(c.committer),
        })),
      };
    }
    case 'pull_request': {
      const p = ghPull.parse(body);
      const pr = p.pull_request;
      return {
        kind: 'change',
        repository: p.repository.full_name,
        number: p.number,
        title: pr.title,
        author: `github:${pr.user.login}`,
        state: pr.merged ? 'merged' : pr.state,
        headSha: pr.head.sha,
        mergeCommitSha: pr.merged ? (pr.merge_commit_sha ?? null) : null,
        merged: pr.merged === true,
        targetBranch: pr.base.ref,
      };
    }
    case 'pull_request_review': {
      const p = ghReview.parse(body);
      return {
        kind: 'review',
        repository: p.repository.full_name,
        number: p.pull_request.number,
        reviewer: `github:${p.review.user.login}`,
        verdict: p.review.state.toLowerCase(),
        commitSha: p.review.commit_id ?? null,
        submittedAt: p.review.submitted_at ?? null,
      };
    }
    default:
      return { kind: 'ignored', event };
  }
}

const glProject = z.object({ path_with_namespace: z.string() });
const glPush = z.object({
  ref: z.string(),
  after: z.string(),
  checkout_sha: z.string().nullish(),
  user_username: z.string(),
  project: glProject,
  commits: z.array(
    z.object({ id: z.string(), author: z.object({ name: z.string(), email: z.string() }) }),
  ),
});
const glMr = z.object({
  user: z.object({ username: z.string() }),
  project: glProject,
  object_attributes: z.object({
    iid: z.number().int(),
    title: z.string(),
    state: z.string(),
    action: z.string().optional(),
    author_id: z.number().optional(),
    merge_commit_sha: z.string().nullish(),
    target_branch: z.string().optional(),
    last_commit: z.object({ id: z.string() }).optional(),
    updated_at: z.string().optional(),
  }),
});

export function parseGitlab(event: string, body: unknown): ScmEvent {
  switch (event) {
    case 'Push Hook': {
      const p = glPush.parse(body);
      return {
        kind: 'push',
        repository: p.project.path_with_namespace,
        ref: p.ref,
        branch: branchOf(p.ref),
        after: p.checkout_sha ?? p.after,
        deleted: zeroSha.test(p.after),
        pushedBy: `gitlab:${p.user_username}`,
        // GitLab's push payload names commit authors only; the committer is the author there.
        commits: p.commits.map((c) => ({
          sha: c.id,
          author: `email:${c.author.email}`,
          committer: `email:${c.author.email}`,
        })),
      };
    }
    case 'Merge Request Hook': {
      const p = glMr.parse(body);
      const a = p.object_attributes;
      if (
        a.action === 'approved' ||
        a.action === 'unapproved' ||
        a.action === 'approval' ||
        a.action === 'unapproval'
      )
        return {
          kind: 'review',
          repository: p.project.path_with_namespace,
          number: a.iid,
          reviewer: `gitlab:${p.user.username}`,
          verdict: a.action.startsWith('un') ? 'dismissed' : 'approved',
          commitSha: a.last_commit?.id ?? null,
          submittedAt: a.updated_at ?? null,
        };
      return {
        kind: 'change',
        repository: p.project.path_with_namespace,
        number: a.iid,
        title: a.title,
        author: a.action === 'open' ? `gitlab:${p.user.username}` : null,
        state: a.state,
        headSha: a.last_commit?.id ?? null,
        mergeCommitSha: a.merge_commit_sha ?? null,
        merged: a.state === 'merged',
        targetBranch: a.target_branch ?? null,
      };
    }
    default:
      return { kind: 'ignored', event };
  }
}

// `https://github.com/Owner/Repo.git`, `git@github.com:Owner/Repo.git` → `owner/repo` matches.
export function sameRepository(url: string, fullName: string): boolean {
  const norm = url
    .toLowerCase()
    .replace(/^[a-z+]+:\/\//, '')
    .replace(/^[^@/]+@/, '')
    .replace(':', '/')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  return norm === fullName.toLowerCase() || norm.endsWith(`/${fullName.toLowerCase()}`);
}
