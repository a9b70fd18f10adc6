import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
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
import { evidenceErrors } from './errors.ts';
import type { KyselyEvidenceStore, WaiverRow } from './evidence-store.ts';
import { evidencePermissions as P } from './permissions.ts';

export interface WaiverView {
  id: string;
  project: string;
  environment: string | null;
  fingerprint: string | null;
  rule: string | null;
  reason: string;
  // pending → approved | rejected; an approved waiver past its expiry is `expired`.
  state: 'pending' | 'approved' | 'rejected' | 'expired';
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string | null;
}

export interface WaiverRequest {
  project: string;
  environment?: string | undefined;
  fingerprint?: string | undefined;
  rule?: string | undefined;
  reason: string;
  expiresIn: string;
}

const dayMs = 86_400_000;

// A waiver lets a known finding (or every finding of a rule) through the quality gates of a
// project, for a while and for a reason. It applies only once a second person approves it;
// service accounts never request or decide one; it stops applying at its expiry on its own.
export class WaiverService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyEvidenceStore;
      clock: Clock;
      projects: ProjectService;
      creators?: CreatorLookup | undefined;
      sockPuppetWindowMs?: number | null | undefined;
      maxDays: number;
    },
  ) {}

  present(row: WaiverRow, at = this.deps.clock.now()): WaiverView {
    const expired = row.state === 'approved' && row.expires_at <= at.toISOString();
    return {
      id: row.id,
      project: row.project,
      environment: row.environment,
      fingerprint: row.fingerprint,
      rule: row.rule_id,
      reason: row.reason,
      state: expired ? 'expired' : (row.state as WaiverView['state']),
      requestedBy: row.requested_by,
      requestedAt: row.requested_at,
      expiresAt: row.expires_at,
      decidedBy: row.decided_by,
      decidedAt: row.decided_at,
      comment: row.comment,
    };
  }

  async request(ctx: RequestContext, input: WaiverRequest): Promise<WaiverView> {
    const resource = {
      type: 'waiver',
      id: `${input.project}/${input.fingerprint ?? input.rule ?? '?'}`,
    };
    await ctx.guard.require(
      P['evidence.waiver.request'],
      { project: input.project, ...(input.environment ? { environment: input.environment } : {}) },
      resource,
    );
    await this.refuseServiceAccount(ctx, 'evidence.waiver.requested', resource);
    const reason = input.reason.trim();
    const ms = parseDuration(input.expiresIn);
    const invalid = (why: string) => new DomainError(evidenceErrors.EVIDENCE_WAIVER_INVALID, why);
    if (!input.fingerprint === !input.rule) throw invalid('give a fingerprint or a rule, not both');
    if (!reason) throw invalid('a waiver needs a reason');
    if (ms === undefined || ms <= 0 || ms > this.deps.maxDays * dayMs)
      throw invalid(`expiresIn must be a duration of at most ${this.deps.maxDays}d`);
    if (
      input.environment &&
      !(await this.deps.projects.environment(input.project, input.environment))
    )
      throw new DomainError(evidenceErrors.EVIDENCE_ENVIRONMENT_NOT_FOUND);
    const now = this.deps.clock.now();
    const row: WaiverRow = {
      id: newId('wvr'),
      project: input.project,
      environment: input.environment ?? null,
      fingerprint: input.fingerprint ?? null,
      rule_id: input.rule ?? null,
      reason,
      state: 'pending',
      requested_by: accountablePrincipal(ctx.actor),
      requested_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ms).toISOString(),
      decided_by: null,
      decided_at: null,
      comment: null,
    };
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.insertWaiver(tx, row);
      record({
        action: 'evidence.waiver.requested',
        resource: { type: 'waiver', id: row.id },
        details: {
          project: row.project,
          environment: row.environment,
          fingerprint: row.fingerprint,
          rule: row.rule_id,
          reason,
          expiresAt: row.expires_at,
        },
      });
      return this.present(row, now);
    });
  }

  approve(ctx: RequestContext, id: string, comment?: string): Promise<WaiverView> {
    return this.decide(ctx, id, 'approved', comment);
  }

  reject(ctx: RequestContext, id: string, comment?: string): Promise<WaiverView> {
    return this.decide(ctx, id, 'rejected', comment);
  }

  private async decide(
    ctx: RequestContext,
    id: string,
    state: 'approved' | 'rejected',
    comment: string | undefined,
  ): Promise<WaiverView> {
    const db = this.deps.database.db;
    const row = await this.deps.store.waiver(db, id);
    if (!row) throw new DomainError(evidenceErrors.EVIDENCE_WAIVER_NOT_FOUND);
    const resource = { type: 'waiver', id };
    const action = `evidence.waiver.${state}`;
    await refuseDelegatedDecision(ctx, this.deps.uow, action, resource);
    await ctx.guard.require(
      P['evidence.waiver.approve'],
      { project: row.project, ...(row.environment ? { environment: row.environment } : {}) },
      resource,
    );
    await this.refuseServiceAccount(ctx, action, resource);
    const me = principalOf(ctx.actor);
    if (me === row.requested_by)
      await this.refuse(
        ctx,
        action,
        resource,
        evidenceErrors.EVIDENCE_WAIVER_SELF_APPROVAL_FORBIDDEN,
      );
    if (this.deps.creators)
      await refuseSockPuppet(ctx, this.deps.uow, this.deps.creators, db, {
        approver: me,
        author: row.requested_by,
        since: row.requested_at,
        windowMs: this.deps.sockPuppetWindowMs ?? null,
        action,
        resource,
      });
    const now = this.deps.clock.now().toISOString();
    // A replayed or late decision is a denied attempt in the ledger like any other.
    if (row.state !== 'pending' || row.expires_at <= now)
      await this.refuse(ctx, action, resource, evidenceErrors.EVIDENCE_WAIVER_NOT_PENDING);
    const decided = await this.deps.uow.run(ctx, async (tx, record) => {
      const set = { state, decided_by: me, decided_at: now, comment: comment?.trim() || null };
      if (!(await this.deps.store.decideWaiver(tx, id, 'pending', set))) return undefined;
      record({
        action,
        resource,
        details: {
          project: row.project,
          requestedBy: row.requested_by,
          fingerprint: row.fingerprint,
          rule: row.rule_id,
          expiresAt: row.expires_at,
          ...(set.comment ? { comment: set.comment } : {}),
        },
      });
      return this.present({ ...row, ...set });
    });
    // Someone else decided it between the read and the write.
    return (
      decided ?? this.refuse(ctx, action, resource, evidenceErrors.EVIDENCE_WAIVER_NOT_PENDING)
    );
  }

  // Approved waivers past their expiry become `expired`, each with its ledger entry (they stop
  // applying at the expiry whether or not this has run). Called by the gate in its transaction.
  async expireDue(tx: AnyTx, record: RecordAudit, project: string, at: Date): Promise<boolean> {
    const due = await this.deps.store.expiredWaivers(tx, project, at.toISOString());
    let wrote = false;
    for (const w of due) {
      const set = {
        state: 'expired',
        decided_by: w.decided_by,
        decided_at: w.decided_at,
        comment: w.comment,
      };
      if (!(await this.deps.store.decideWaiver(tx, w.id, 'approved', set))) continue;
      record({
        action: 'evidence.waiver.expired',
        resource: { type: 'waiver', id: w.id },
        details: { project: w.project, expiresAt: w.expires_at },
      });
      wrote = true;
    }
    return wrote;
  }

  async get(ctx: RequestContext, id: string): Promise<WaiverView> {
    const row = await this.deps.store.waiver(this.deps.database.db, id);
    if (!row || !(await ctx.guard.can(P['evidence.waiver.read'], { project: row.project })))
      throw new DomainError(evidenceErrors.EVIDENCE_WAIVER_NOT_FOUND);
    return this.present(row);
  }

  async list(
    ctx: RequestContext,
    filter: { project?: string | undefined; state?: string | undefined },
    page: PageRequest = firstPage,
  ): Promise<PageOf<WaiverView>> {
    const rows = await this.deps.store.listWaivers(this.deps.database.db, filter, page);
    const items: WaiverView[] = [];
    for (const r of rows.items)
      if (await ctx.guard.can(P['evidence.waiver.read'], { project: r.project }))
        items.push(this.present(r));
    return { items, next: rows.next };
  }

  private async refuseServiceAccount(
    ctx: RequestContext,
    action: string,
    resource: { type: string; id: string },
  ): Promise<void> {
    if (ctx.actor.type !== 'user')
      await this.refuse(
        ctx,
        action,
        resource,
        evidenceErrors.EVIDENCE_WAIVER_SERVICE_ACCOUNT_FORBIDDEN,
      );
  }

  private async refuse(
    ctx: RequestContext,
    action: string,
    resource: { type: string; id: string },
    def: ErrorDefinition,
  ): Promise<never> {
    await this.deps.uow.recordAttempt(ctx, {
      action,
      resource,
      outcome: 'denied',
      details: { code: def.code },
    });
    throw new DomainError(def);
  }
}
