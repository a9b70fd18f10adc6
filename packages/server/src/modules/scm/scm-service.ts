import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.ts';
import {
  principalOf,
  systemActor,
  type Actor,
  type Guard,
  type RequestContext,
} from '../../platform/context.ts';
import type { Sealer } from '../../platform/crypto/sealer.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageRequest } from '../../platform/db/keyset.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError, isDomainError, type ErrorDefinition } from '../../platform/errors.ts';
import type { ExecutionEngine } from '../executions/index.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { ProjectService } from '../projects/index.ts';
import { scmErrors } from './errors.ts';
import { scmPermissions as P } from './permissions.ts';
import { parseGithub, parseGitlab, sameRepository, type ScmEvent } from './scm-events.ts';
import type { KyselyScmStore, WebhookSecretRow } from './scm-store.ts';

export type Provider = 'github' | 'gitlab';

export interface WebhookResult {
  event: string;
  recorded: ScmEvent['kind'];
  runs: string[];
  refused: { pipeline: string; code: string }[];
}

export interface WebhookSecretView {
  project: string;
  provider: Provider;
  version: number;
  updatedBy: string;
  updatedAt: string;
}

/** What a webhook secret is sealed to: it opens for this project and provider only. */
export const webhookSecretContext = (project: string, provider: string) =>
  `scm/webhook-secret/${project}/${provider}`;

// The project secrets webhooks were verified with before they had a store of their own.
const legacySecretNames: Record<string, Provider> = {
  GITHUB_WEBHOOK_SECRET: 'github',
  GITLAB_WEBHOOK_TOKEN: 'gitlab',
};

const toView = (r: WebhookSecretRow): WebhookSecretView => ({
  project: r.project,
  provider: r.provider as Provider,
  version: r.version,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

class NothingToAdopt extends Error {}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const header = (h: Readonly<Record<string, string | string[] | undefined>>, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

// Inbound SCM webhooks: verified with the project's webhook secret (a platform secret in this
// module's own store, never a job secret), processed once per delivery id, recorded (pushes
// with their authors and committers, pull/merge requests, reviews and their verdicts), and
// pushes start the pipelines whose push trigger matches.
export class ScmService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyScmStore;
      clock: Clock;
      sealer: Sealer;
      projects: ProjectService;
      pipelines: PipelineService;
      engine: ExecutionEngine;
      access: { guardFor(actor: Actor, requestId: string): Guard };
    },
  ) {}

  async receive(input: {
    provider: Provider;
    project: string;
    headers: Readonly<Record<string, string | string[] | undefined>>;
    rawBody: string | undefined;
    body: unknown;
    ip: string;
    requestId: string;
  }): Promise<WebhookResult> {
    const { provider, project, headers } = input;
    const actor: Actor = {
      type: 'system',
      id: null,
      name: `${provider}-webhook`,
      authMethod: 'webhook',
      ip: input.ip,
    };
    const event =
      header(headers, provider === 'github' ? 'x-github-event' : 'x-gitlab-event') ?? '';
    const delivery =
      (provider === 'github'
        ? header(headers, 'x-github-delivery')
        : (header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid'))
      )?.slice(0, 200) ?? null;
    const resource = { type: 'webhook', id: `${provider}/${project}` };
    const deny = async (def: ErrorDefinition): Promise<never> => {
      await this.deps.uow.recordAttempt(
        { actor, requestId: input.requestId },
        {
          action: 'scm.webhook.received',
          resource,
          outcome: 'denied',
          details: { code: def.code, event, delivery },
        },
      );
      throw new DomainError(def);
    };
    const row = await this.deps.store.webhookSecret(this.deps.database.db, project, provider);
    if (!row) return deny(scmErrors.SCM_WEBHOOK_NOT_CONFIGURED);
    const secret = this.deps.sealer.open(row.sealed, webhookSecretContext(project, provider));
    if (provider === 'github') {
      const given = header(headers, 'x-hub-signature-256') ?? '';
      const expected = `sha256=${createHmac('sha256', secret)
        .update(input.rawBody ?? '')
        .digest('hex')}`;
      if (!safeEqual(given, expected)) return deny(scmErrors.SCM_WEBHOOK_SIGNATURE_INVALID);
    } else if (!safeEqual(header(headers, 'x-gitlab-token') ?? '', secret)) {
      return deny(scmErrors.SCM_WEBHOOK_SIGNATURE_INVALID);
    }
    // Signed is not enough: a captured delivery replayed later would be signed too.
    if (!delivery) return deny(scmErrors.SCM_WEBHOOK_DELIVERY_MISSING);

    let parsed: ScmEvent;
    try {
      parsed =
        provider === 'github' ? parseGithub(event, input.body) : parseGitlab(event, input.body);
    } catch (err) {
      if (err instanceof z.ZodError)
        throw new DomainError(
          scmErrors.SCM_EVENT_INVALID,
          `${event}: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      throw err;
    }
    const ctx: RequestContext = {
      actor,
      requestId: input.requestId,
      guard: this.deps.access.guardFor(actor, input.requestId),
    };
    const now = this.deps.clock.now().toISOString();
    try {
      await this.record(ctx, parsed, { provider, project, event, delivery, now });
    } catch (err) {
      if (isDomainError(err) && err.code === scmErrors.SCM_WEBHOOK_REPLAYED.code)
        return deny(scmErrors.SCM_WEBHOOK_REPLAYED);
      throw err;
    }

    const runs: string[] = [];
    const refused: { pipeline: string; code: string }[] = [];
    if (parsed.kind === 'push' && parsed.branch && !parsed.deleted) {
      const repo = parsed.repository;
      for (const pv of await this.deps.pipelines.pushTriggered(project, parsed.branch)) {
        if (!sameRepository(pv.spec.source.repository, repo)) continue;
        try {
          const run = await this.deps.engine.runs.create(ctx, {
            project,
            pipeline: pv.name,
            version: pv.version,
            commit: parsed.after,
            trigger: {
              type: 'push',
              provider,
              ref: parsed.ref,
              delivery,
              pushedBy: parsed.pushedBy,
            },
          });
          runs.push(run.id);
        } catch (err) {
          if (!isDomainError(err)) throw err;
          refused.push({ pipeline: pv.name, code: err.code });
        }
      }
    }
    return { event, recorded: parsed.kind, runs, refused };
  }

  // The delivery's record, in one transaction with its claim on the delivery id.
  private async record(
    ctx: RequestContext,
    parsed: ScmEvent,
    d: { provider: Provider; project: string; event: string; delivery: string; now: string },
  ): Promise<void> {
    const { provider, project, event, delivery, now } = d;
    const resource = { type: 'webhook', id: `${provider}/${project}` };
    await this.deps.uow.run(ctx, async (tx, record) => {
      const store = this.deps.store;
      const base = { provider, project };
      if (!(await store.claimDelivery(tx, { ...base, delivery, event, received_at: now })))
        throw new DomainError(
          scmErrors.SCM_WEBHOOK_REPLAYED,
          `delivery ${delivery} was processed before`,
        );
      switch (parsed.kind) {
        case 'ping':
        case 'ignored':
          break;
        case 'push':
          for (const c of parsed.commits)
            await store.addCommit(tx, {
              ...base,
              repository: parsed.repository,
              sha: c.sha,
              ref: parsed.ref,
              author: c.author,
              committer: c.committer,
              pushed_by: parsed.pushedBy,
              received_at: now,
            });
          break;
        case 'change': {
          const key = { ...base, repository: parsed.repository, number: parsed.number };
          const prev = await store.change(tx, key);
          await store.upsertChange(tx, {
            ...key,
            title: parsed.title,
            author: parsed.author ?? prev?.author ?? 'unknown',
            state: parsed.state,
            head_sha: parsed.headSha ?? prev?.head_sha ?? null,
            merge_commit_sha: parsed.mergeCommitSha ?? prev?.merge_commit_sha ?? null,
            merged: parsed.merged ? 1 : 0,
            target_branch: parsed.targetBranch ?? prev?.target_branch ?? null,
            updated_at: now,
          });
          break;
        }
        case 'review':
          await store.addReview(tx, {
            ...base,
            repository: parsed.repository,
            number: parsed.number,
            reviewer: parsed.reviewer,
            verdict: parsed.verdict,
            commit_sha: parsed.commitSha,
            submitted_at: parsed.submittedAt ?? now,
          });
          break;
        default: {
          const never: never = parsed;
          throw new Error(`unknown event ${String(never)}`);
        }
      }
      record({
        action: `scm.${parsed.kind === 'ignored' ? 'webhook' : parsed.kind}.received`,
        resource,
        details: { event, delivery, ...summary(parsed) },
      });
    });
  }

  /** Sets a project's webhook secret for one provider; the value is never returned or audited. */
  async setWebhookSecret(
    ctx: RequestContext,
    input: { project: string; provider: Provider; value: string },
  ): Promise<WebhookSecretView> {
    const { project, provider } = input;
    await ctx.guard.require(
      P['scm.webhook-secret.write'],
      { project },
      { type: 'webhook-secret', id: `${project}/${provider}` },
    );
    if (!(await this.deps.projects.projectExists(project)))
      throw new DomainError(scmErrors.SCM_PROJECT_NOT_FOUND, `project ${project} does not exist`);
    const sealed = this.deps.sealer.seal(input.value, webhookSecretContext(project, provider));
    return this.deps.uow.run(ctx, async (tx, record) => {
      const row = await this.putSecret(tx, {
        project,
        provider,
        sealed,
        by: principalOf(ctx.actor),
      });
      record({
        action: 'scm.webhook-secret.set',
        resource: { type: 'webhook-secret', id: `${project}/${provider}` },
        details: { version: row.version, keyId: this.deps.sealer.currentKeyId },
      });
      return toView(row);
    });
  }

  async webhookSecrets(ctx: RequestContext, project: string): Promise<WebhookSecretView[]> {
    await ctx.guard.require(
      P['scm.webhook-secret.read'],
      { project },
      { type: 'webhook-secret', id: `${project}/*` },
    );
    return (await this.deps.store.webhookSecrets(this.deps.database.db, project)).map(toView);
  }

  private async putSecret(
    tx: AnyTx,
    input: { project: string; provider: Provider; sealed: string; by: string },
  ): Promise<WebhookSecretRow> {
    const prev = await this.deps.store.webhookSecret(tx, input.project, input.provider);
    const row: WebhookSecretRow = {
      project: input.project,
      provider: input.provider,
      version: (prev?.version ?? 0) + 1,
      sealed: input.sealed,
      updated_by: input.by,
      updated_at: this.deps.clock.now().toISOString(),
    };
    await this.deps.store.upsertWebhookSecret(tx, row);
    return row;
  }

  /**
   * Start-up: webhook secrets set as project secrets (before they had this store) move here,
   * out of the job secrets, in one audited transaction. A secret already set here wins.
   */
  async adoptProjectWebhookSecrets(source: {
    has(): Promise<boolean>;
    take(
      tx: AnyTx,
      record: RecordAudit,
    ): Promise<{ project: string; name: string; value: string }[]>;
  }): Promise<void> {
    if (!(await source.has())) return;
    const ctx = { actor: systemActor, requestId: 'startup-webhook-secrets' };
    try {
      await this.deps.uow.run(ctx, async (tx, record) => {
        const taken = await source.take(tx, record);
        if (taken.length === 0) throw new NothingToAdopt();
        for (const t of taken) {
          const provider = legacySecretNames[t.name]!;
          const id = `${t.project}/${provider}`;
          if (await this.deps.store.webhookSecret(tx, t.project, provider)) {
            record({
              action: 'scm.webhook-secret.adopted',
              resource: { type: 'webhook-secret', id },
              details: { from: `project secret ${t.name}`, kept: 'the webhook secret already set' },
            });
            continue;
          }
          const sealed = this.deps.sealer.seal(t.value, webhookSecretContext(t.project, provider));
          const row = await this.putSecret(tx, {
            ...t,
            provider,
            sealed,
            by: principalOf(systemActor),
          });
          record({
            action: 'scm.webhook-secret.adopted',
            resource: { type: 'webhook-secret', id },
            details: { from: `project secret ${t.name}`, version: row.version },
          });
        }
      });
    } catch (err) {
      if (!(err instanceof NothingToAdopt)) throw err;
    }
  }

  // What the dossier shows of a commit range: the pushes, the pull/merge requests that carried
  // the commits, and their reviews (no permission check: the caller checked its own).
  async reviewTrail(project: string, shas: readonly string[]) {
    const db = this.deps.database.db;
    const [commits, changes] = await Promise.all([
      this.deps.store.commitsWithShas(db, project, shas),
      this.deps.store.changesForCommits(db, project, shas),
    ]);
    const reviews = await this.deps.store.reviewsOf(db, project, changes);
    return {
      pushes: commits.map((c) => ({
        sha: c.sha,
        provider: c.provider,
        repository: c.repository,
        ref: c.ref,
        author: c.author,
        committer: c.committer,
        pushedBy: c.pushed_by,
        receivedAt: c.received_at,
      })),
      changes: changes.map((c) => ({
        provider: c.provider,
        repository: c.repository,
        number: c.number,
        title: c.title,
        author: c.author,
        state: c.state,
        merged: c.merged === 1,
        headSha: c.head_sha,
        mergeCommitSha: c.merge_commit_sha,
        targetBranch: c.target_branch,
        updatedAt: c.updated_at,
        reviews: reviews
          .filter(
            (r) =>
              r.provider === c.provider && r.repository === c.repository && r.number === c.number,
          )
          .map((r) => ({
            reviewer: r.reviewer,
            verdict: r.verdict,
            commit: r.commit_sha,
            submittedAt: r.submitted_at,
          })),
      })),
    };
  }

  async changes(ctx: RequestContext, project: string, page: PageRequest = firstPage) {
    await ctx.guard.require(P['scm.change.read'], { project }, { type: 'scm', id: project });
    const db = this.deps.database.db;
    const changes = await this.deps.store.changesPage(db, project, page);
    const reviews = await this.deps.store.reviewsOf(db, project, changes.items);
    return {
      items: changes.items.map((c) => ({
        provider: c.provider,
        repository: c.repository,
        number: c.number,
        title: c.title,
        author: c.author,
        state: c.state,
        headSha: c.head_sha,
        mergeCommitSha: c.merge_commit_sha,
        merged: c.merged === 1,
        targetBranch: c.target_branch,
        updatedAt: c.updated_at,
        reviews: reviews
          .filter(
            (r) =>
              r.provider === c.provider && r.repository === c.repository && r.number === c.number,
          )
          .map((r) => ({
            reviewer: r.reviewer,
            verdict: r.verdict,
            commitSha: r.commit_sha,
            submittedAt: r.submitted_at,
          })),
      })),
      next: changes.next,
    };
  }

  async commits(ctx: RequestContext, project: string, page: PageRequest = firstPage) {
    await ctx.guard.require(P['scm.change.read'], { project }, { type: 'scm', id: project });
    const commits = await this.deps.store.commitsPage(this.deps.database.db, project, page);
    return {
      items: commits.items.map((c) => ({
        provider: c.provider,
        repository: c.repository,
        sha: c.sha,
        ref: c.ref,
        author: c.author,
        committer: c.committer,
        pushedBy: c.pushed_by,
      })),
      next: commits.next,
    };
  }
}

function summary(e: ScmEvent): Record<string, unknown> {
  switch (e.kind) {
    case 'push':
      return {
        repository: e.repository,
        ref: e.ref,
        after: e.after,
        commits: e.commits.length,
        pushedBy: e.pushedBy,
      };
    case 'change':
      return {
        repository: e.repository,
        number: e.number,
        state: e.state,
        author: e.author,
        mergeCommit: e.mergeCommitSha,
      };
    case 'review':
      return {
        repository: e.repository,
        number: e.number,
        reviewer: e.reviewer,
        verdict: e.verdict,
      };
    case 'ping':
    case 'ignored':
      return {};
    default: {
      const never: never = e;
      return { unknown: String(never) };
    }
  }
}
