import type { Clock } from '../../platform/clock.ts';
import { principalOf, type AuditResource, type RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import { DomainError, type ErrorDefinition } from '../../platform/errors.ts';
import {
  accountablePrincipal,
  refuseDelegatedDecision,
  refuseSockPuppet,
  type CreatorLookup,
} from '../../platform/four-eyes.ts';
import { newId } from '../../platform/ids.ts';
import type { ProjectService } from '../projects/index.ts';
import { scopeCovers, type ChangeTemplateSpec } from './change-spec.ts';
import type { ChangeRequestRow, KyselyChangeStore } from './change-store.ts';
import { presentChange, type ChangeState, type ChangeView, type RiskClass } from './change-view.ts';
import { changeErrors as E } from './errors.ts';
import { changePermissions as P } from './permissions.ts';

const hourMs = 3_600_000;
const defaults = {
  emergencyExpiresAfterMs: 4 * hourMs,
  maxEmergencyExpiresAfterMs: 72 * hourMs,
  normalValidForMs: 7 * 24 * hourMs,
  reviewWithinMs: 72 * hourMs,
  maxReviewWithinMs: 30 * 24 * hourMs,
};

export interface CreateChangeInput {
  project: string;
  environment: string;
  riskClass: RiskClass;
  title: string;
  reason?: string | undefined;
  template?: string | undefined;
  commit?: string | undefined;
  expiresAfter?: string | undefined;
  reviewWithin?: string | undefined;
}

// The change requests people make: standard (from a template), normal, and emergency
// (break-glass: activated by a second person, reviewed afterwards by someone else).
export class ChangeRequests {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyChangeStore;
      projects: ProjectService;
      clock: Clock;
      // Who created whom: an account the requester made for the occasion cannot activate or
      // review their emergency change.
      creators: CreatorLookup;
      sockPuppetWindowMs: number | null;
    },
  ) {}

  async create(ctx: RequestContext, input: CreateChangeInput): Promise<ChangeView> {
    const reason = (input.reason ?? '').trim();
    const emergency = input.riskClass === 'emergency';
    if (emergency && reason === '') throw new DomainError(E.CHANGES_REASON_REQUIRED);
    if (input.riskClass === 'standard' && !input.template)
      throw new DomainError(E.CHANGES_TEMPLATE_REQUIRED);
    if (emergency && !input.commit) throw new DomainError(E.CHANGES_COMMIT_REQUIRED);
    if (input.commit !== undefined && !/^[0-9a-f]{7,64}$/.test(input.commit))
      throw new DomainError(
        E.CHANGES_COMMIT_REQUIRED,
        'commit must be a hexadecimal git object name',
      );
    const expiresAfterMs = this.duration(
      input.expiresAfter,
      emergency ? defaults.emergencyExpiresAfterMs : defaults.normalValidForMs,
      emergency ? defaults.maxEmergencyExpiresAfterMs : 30 * 24 * hourMs,
    );
    const reviewWithinMs = emergency
      ? this.duration(input.reviewWithin, defaults.reviewWithinMs, defaults.maxReviewWithinMs)
      : null;
    const resource = { type: 'environment', id: `${input.project}/${input.environment}` };
    await ctx.guard.require(
      P['changes.request.create'],
      { project: input.project, environment: input.environment },
      resource,
    );
    // A change that stands in for approvals is someone's responsibility: a person's.
    if (input.riskClass !== 'normal' && ctx.actor.type !== 'user')
      await this.refuse(
        ctx,
        'changes.request.create',
        resource,
        E.CHANGES_SERVICE_ACCOUNT_FORBIDDEN,
        {
          riskClass: input.riskClass,
        },
      );
    const env = await this.deps.projects.environment(input.project, input.environment);
    if (!env) throw new DomainError(E.CHANGES_ENVIRONMENT_NOT_FOUND, undefined, resource);
    const validForMs =
      input.riskClass === 'standard'
        ? await this.templateValidity(input.template!, { ...input, type: env.type })
        : expiresAfterMs;
    const now = this.deps.clock.now();
    const state: ChangeState =
      input.riskClass === 'standard'
        ? 'approved'
        : input.riskClass === 'normal'
          ? 'open'
          : 'requested';
    const row: ChangeRequestRow = {
      id: newId('chg'),
      project: input.project,
      environment: input.environment,
      risk_class: input.riskClass,
      state,
      title: input.title.trim(),
      reason,
      template: input.riskClass === 'standard' ? input.template! : null,
      commit_sha: input.commit ?? null,
      // Through a token someone else issued, the issuer answers for the request.
      requested_by: accountablePrincipal(ctx.actor),
      created_at: now.toISOString(),
      expires_after_ms: validForMs,
      review_within_ms: reviewWithinMs,
      activated_by: null,
      activated_at: null,
      // Emergency changes start their clock when activated.
      expires_at: emergency ? null : new Date(now.getTime() + validForMs).toISOString(),
      review_due_at: null,
      reviewed_by: null,
      reviewed_at: null,
      review_notes: null,
    };
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.insert(tx, row);
      record({
        action: 'changes.request.created',
        resource: { type: 'change', id: row.id },
        details: {
          project: row.project,
          environment: row.environment,
          riskClass: row.risk_class,
          state: row.state,
          title: row.title,
          reason: row.reason,
          template: row.template,
          commit: row.commit_sha,
        },
      });
      return presentChange(row, now);
    });
  }

  private async templateValidity(
    template: string,
    target: { project: string; environment: string; type: string },
  ): Promise<number> {
    const row = await this.deps.store.template(this.deps.database.db, template);
    if (!row) throw new DomainError(E.CHANGES_TEMPLATE_NOT_FOUND, undefined, { template });
    const spec = JSON.parse(row.spec) as ChangeTemplateSpec;
    if (!scopeCovers(spec.scope, target))
      throw new DomainError(E.CHANGES_TEMPLATE_OUT_OF_SCOPE, undefined, { template });
    return parseDuration(spec.validFor)!;
  }

  // Break-glass: a second person turns an emergency request on; it expires by itself.
  async activate(
    ctx: RequestContext,
    input: { id: string; comment?: string | undefined },
  ): Promise<ChangeView> {
    await refuseDelegatedDecision(ctx, this.deps.uow, 'changes.request.activated', {
      type: 'change',
      id: input.id,
    });
    const row = await this.require(input.id);
    const resource: AuditResource = { type: 'change', id: row.id };
    await ctx.guard.require(
      P['changes.request.activate'],
      { project: row.project, environment: row.environment },
      resource,
    );
    const action = 'changes.request.activated';
    if (ctx.actor.type !== 'user')
      await this.refuse(ctx, action, resource, E.CHANGES_SERVICE_ACCOUNT_FORBIDDEN);
    if (principalOf(ctx.actor) === row.requested_by)
      await this.refuse(ctx, action, resource, E.CHANGES_SELF_ACTIVATION_FORBIDDEN, {
        requestedBy: row.requested_by,
      });
    await this.refusePuppet(ctx, row, action, resource);
    if (row.risk_class !== 'emergency' || row.state !== 'requested')
      throw new DomainError(
        E.CHANGES_INVALID_STATE,
        `change ${row.id} is ${row.risk_class}/${row.state}`,
        { state: row.state, riskClass: row.risk_class },
      );
    const now = this.deps.clock.now();
    const set = {
      state: 'active',
      activated_by: principalOf(ctx.actor),
      activated_at: now.toISOString(),
      expires_at: new Date(now.getTime() + row.expires_after_ms).toISOString(),
      review_due_at: new Date(
        now.getTime() + (row.review_within_ms ?? defaults.reviewWithinMs),
      ).toISOString(),
    } satisfies Partial<ChangeRequestRow>;
    return this.deps.uow.run(ctx, async (tx, record) => {
      if (!(await this.deps.store.update(tx, row.id, 'requested', set)))
        throw new DomainError(
          E.CHANGES_INVALID_STATE,
          `change ${row.id} was activated concurrently`,
        );
      record({
        action,
        resource,
        details: {
          project: row.project,
          environment: row.environment,
          requestedBy: row.requested_by,
          commit: row.commit_sha,
          expiresAt: set.expires_at,
          reviewDueAt: set.review_due_at,
          comment: input.comment ?? null,
        },
      });
      return presentChange({ ...row, ...set }, now);
    });
  }

  // The post-implementation review an emergency change owes.
  async review(ctx: RequestContext, input: { id: string; notes: string }): Promise<ChangeView> {
    await refuseDelegatedDecision(ctx, this.deps.uow, 'changes.request.reviewed', {
      type: 'change',
      id: input.id,
    });
    const notes = input.notes.trim();
    if (notes === '') throw new DomainError(E.CHANGES_REASON_REQUIRED, 'a review needs notes');
    const row = await this.require(input.id);
    const resource: AuditResource = { type: 'change', id: row.id };
    await ctx.guard.require(
      P['changes.request.review'],
      { project: row.project, environment: row.environment },
      resource,
    );
    const action = 'changes.request.reviewed';
    if (ctx.actor.type !== 'user')
      await this.refuse(ctx, action, resource, E.CHANGES_SERVICE_ACCOUNT_FORBIDDEN);
    if (principalOf(ctx.actor) === row.requested_by)
      await this.refuse(ctx, action, resource, E.CHANGES_SELF_REVIEW_FORBIDDEN, {
        requestedBy: row.requested_by,
      });
    await this.refusePuppet(ctx, row, action, resource);
    if (row.risk_class !== 'emergency' || row.state !== 'active' || row.reviewed_at)
      throw new DomainError(E.CHANGES_INVALID_STATE, `change ${row.id} owes no review`, {
        state: row.state,
        riskClass: row.risk_class,
        reviewedAt: row.reviewed_at,
      });
    const now = this.deps.clock.now();
    const set = {
      reviewed_by: principalOf(ctx.actor),
      reviewed_at: now.toISOString(),
      review_notes: notes,
    };
    return this.deps.uow.run(ctx, async (tx, record) => {
      if (!(await this.deps.store.update(tx, row.id, 'active', set)))
        throw new DomainError(E.CHANGES_INVALID_STATE, `change ${row.id} changed concurrently`);
      const late = row.review_due_at !== null && now.toISOString() > row.review_due_at;
      record({ action, resource, details: { notes, dueAt: row.review_due_at, late } });
      return presentChange({ ...row, ...set }, now);
    });
  }

  // Reads of one change are authorized at its environment's scope.
  async get(ctx: RequestContext, id: string): Promise<ChangeView> {
    const row = await this.require(id);
    await ctx.guard.require(
      P['changes.request.read'],
      { project: row.project, environment: row.environment },
      { type: 'change', id },
    );
    const uses = await this.deps.store.uses(this.deps.database.db, id);
    return presentChange(row, this.deps.clock.now(), uses);
  }

  // One change with its uses, without a permission check (the auditor's dossier checks its own).
  async read(
    id: string,
    db: AnyDb | AnyTx = this.deps.database.db,
  ): Promise<ChangeView | undefined> {
    const row = await this.deps.store.get(db, id);
    return row
      ? presentChange(row, this.deps.clock.now(), await this.deps.store.uses(db, id))
      : undefined;
  }

  // What the caller may read: each change is checked at its own scope (a page may hold fewer
  // than `limit`; `next` still continues where it stopped).
  async list(
    ctx: RequestContext,
    filter: {
      project?: string | undefined;
      environment?: string | undefined;
      riskClass?: RiskClass | undefined;
      state?: ChangeState | undefined;
    },
    page: PageRequest = firstPage,
  ): Promise<PageOf<ChangeView>> {
    const now = this.deps.clock.now();
    const rows = await this.deps.store.list(this.deps.database.db, filter, page);
    const items: ChangeView[] = [];
    for (const r of rows.items)
      if (
        await ctx.guard.can(P['changes.request.read'], {
          project: r.project,
          environment: r.environment,
        })
      )
        items.push(presentChange(r, now));
    return { items, next: rows.next };
  }

  private async refusePuppet(
    ctx: RequestContext,
    row: ChangeRequestRow,
    action: string,
    resource: AuditResource,
  ): Promise<void> {
    await refuseSockPuppet(ctx, this.deps.uow, this.deps.creators, this.deps.database.db, {
      approver: principalOf(ctx.actor),
      author: row.requested_by,
      since: row.created_at,
      windowMs: this.deps.sockPuppetWindowMs,
      action,
      resource,
    });
  }

  private async require(id: string): Promise<ChangeRequestRow> {
    const row = await this.deps.store.get(this.deps.database.db, id);
    if (!row) throw new DomainError(E.CHANGES_NOT_FOUND, `change ${id} does not exist`, { id });
    return row;
  }

  private async refuse(
    ctx: RequestContext,
    action: string,
    resource: AuditResource,
    def: ErrorDefinition,
    details: Record<string, unknown> = {},
  ): Promise<never> {
    await this.deps.uow.recordAttempt(ctx, {
      action,
      resource,
      outcome: 'denied',
      details: { code: def.code, ...details },
    });
    throw new DomainError(def, undefined, details);
  }

  private duration(text: string | undefined, fallback: number, max: number): number {
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined || ms > max)
      throw new DomainError(E.CHANGES_DURATION_INVALID, undefined, { duration: text });
    return ms;
  }
}
