import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { AuditAppender, RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import {
  refuseDelegatedDecision,
  refuseSockPuppet,
  type CreatorLookup,
} from '../../platform/four-eyes.ts';
import { newId } from '../../platform/ids.ts';
import { decide, type ApprovalState } from './approval-state.ts';
import type { ApprovalRow, KyselyApprovalStore } from './approval-store.ts';
import { approvalErrors } from './errors.ts';
import { approvalPermissions as P } from './permissions.ts';

export interface ApprovalView {
  id: string;
  subject: { type: string; id: string; hash: string };
  project: string | null;
  environment: string | null;
  summary: string;
  author: string;
  state: ApprovalState['kind'];
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  createdAt: string;
}

export interface ApprovalRequestInput {
  subjectType: string;
  subjectId: string;
  subjectHash: string;
  project?: string | undefined;
  environment?: string | undefined;
  summary: string;
  // `user:NAME` of who made the change; that identity can never approve it.
  author: string;
}

// What the module owning a subject does when a request about it is decided, inside the
// decision's transaction: throwing refuses the decision and writes nothing.
export type DecisionHandler = (
  tx: AnyTx,
  decided: ApprovalView,
  ctx: RequestContext,
  record: RecordAudit,
) => Promise<void>;

// Extra authorization a subject's module asks for (e.g. the approve permission at every
// production environment a pipeline version deploys to); throws to refuse.
export type AuthorizationHandler = (
  ctx: RequestContext,
  request: ApprovalView,
  permission: string,
) => Promise<void>;

export { principalOf };

// General four-eyes approvals of a subject bound to its content hash. Governed resource
// versions (resources module) and pipeline versions use it; deployment controls build on it.
export class ApprovalService {
  private readonly onDecision = new Map<string, DecisionHandler>();
  private readonly authorizers = new Map<string, AuthorizationHandler>();

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      audit: AuditAppender;
      store: KyselyApprovalStore;
      clock: Clock;
      // Who created each approver, for the sock-puppet rule; null window turns it off.
      creators: CreatorLookup;
      sockPuppetWindowMs: number | null;
    },
  ) {}

  /** Lets the module owning `subjectType` require more than the permission at the request's scope. */
  onAuthorize(subjectType: string, handler: AuthorizationHandler): void {
    this.authorizers.set(subjectType, handler);
  }

  /** Lets the module owning `subjectType` act on approvals and rejections. */
  onDecided(subjectType: string, handler: DecisionHandler): void {
    // One owner per subject type: a second registration would silently take decisions over.
    if (this.onDecision.has(subjectType))
      throw new Error(`approval subject ${subjectType} already has a decision handler`);
    this.onDecision.set(subjectType, handler);
  }

  // Closes a pending request its subject no longer needs (a newer version replaced it),
  // inside the caller's transaction. Recorded as rejected by the system, with the reason.
  async withdrawInTx(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    id: string,
    reason: string,
  ): Promise<void> {
    const ok = await this.deps.store.decide(tx, id, {
      state: 'rejected',
      decided_by: 'system:custody',
      decided_at: this.deps.clock.now().toISOString(),
      reason,
    });
    if (!ok) return;
    await this.deps.audit.append(tx, ctx, {
      action: 'approvals.request.withdrawn',
      resource: { type: 'approval', id },
      details: { reason },
    });
  }

  // Opens a request inside the caller's transaction, with its own audit entry there.
  async requestInTx(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    input: ApprovalRequestInput,
  ): Promise<string> {
    const row: ApprovalRow = {
      id: newId('apr'),
      subject_type: input.subjectType,
      subject_id: input.subjectId,
      subject_hash: input.subjectHash,
      project: input.project ?? null,
      environment: input.environment ?? null,
      summary: input.summary,
      // Made through a token someone else issued: that someone is the author (platform/four-eyes).
      author: ctx.actor.delegatedBy ?? input.author,
      state: 'pending',
      decided_by: null,
      decided_at: null,
      reason: null,
      created_at: this.deps.clock.now().toISOString(),
    };
    await this.deps.store.insert(tx, row);
    await this.deps.audit.append(tx, ctx, {
      action: 'approvals.request.created',
      resource: { type: 'approval', id: row.id },
      details: {
        subject: `${row.subject_type}/${row.subject_id}`,
        hash: row.subject_hash,
        author: row.author,
      },
    });
    return row.id;
  }

  async stateOf(
    subjectType: string,
    subjectId: string,
    tx?: AnyTx,
  ): Promise<ApprovalView | undefined> {
    const row = await this.deps.store.forSubject(
      tx ?? this.deps.database.db,
      subjectType,
      subjectId,
    );
    return row ? toView(row) : undefined;
  }

  async get(ctx: RequestContext, id: string): Promise<ApprovalView> {
    const row = await this.deps.store.get(this.deps.database.db, id);
    if (!row) throw new DomainError(approvalErrors.APPROVALS_REQUEST_NOT_FOUND);
    await ctx.guard.require(P['approvals.request.read'], scopeOf(row), { type: 'approval', id });
    return toView(row);
  }

  // What the caller may read: each request is checked at its own scope (a page may hold fewer
  // than `limit`; `next` still continues where it stopped).
  async list(
    ctx: RequestContext,
    filter: { state?: string | undefined; project?: string | undefined },
    page: PageRequest = firstPage,
  ): Promise<PageOf<ApprovalView>> {
    const rows = await this.deps.store.list(this.deps.database.db, filter, page);
    const items: ApprovalView[] = [];
    for (const row of rows.items)
      if (await ctx.guard.can(P['approvals.request.read'], scopeOf(row))) items.push(toView(row));
    return { items, next: rows.next };
  }

  async approve(ctx: RequestContext, id: string, comment?: string): Promise<ApprovalView> {
    return this.decideRequest(ctx, id, 'approve', comment ?? '');
  }

  async reject(ctx: RequestContext, id: string, reason: string): Promise<ApprovalView> {
    return this.decideRequest(ctx, id, 'reject', reason);
  }

  private async decideRequest(
    ctx: RequestContext,
    id: string,
    type: 'approve' | 'reject',
    reason: string,
  ): Promise<ApprovalView> {
    await refuseDelegatedDecision(ctx, this.deps.uow, `approvals.request.${type}`, {
      type: 'approval',
      id,
    });
    const row = await this.deps.store.get(this.deps.database.db, id);
    if (!row) throw new DomainError(approvalErrors.APPROVALS_REQUEST_NOT_FOUND);
    const permission =
      type === 'approve' ? P['approvals.request.approve'] : P['approvals.request.reject'];
    const resource = { type: 'approval', id };
    await ctx.guard.require(permission, scopeOf(row), resource);
    await this.authorizers.get(row.subject_type)?.(ctx, toView(row), permission);
    const refuse = async (def: typeof approvalErrors.APPROVALS_SELF_APPROVAL_FORBIDDEN) => {
      await this.deps.uow.recordAttempt(ctx, {
        action: `approvals.request.${type}`,
        resource,
        outcome: 'denied',
        details: { code: def.code },
      });
      throw new DomainError(def);
    };
    if (ctx.actor.type !== 'user') await refuse(approvalErrors.APPROVALS_SERVICE_ACCOUNT_FORBIDDEN);
    if (principalOf(ctx.actor) === row.author)
      await refuse(approvalErrors.APPROVALS_SELF_APPROVAL_FORBIDDEN);
    if (type === 'approve')
      await refuseSockPuppet(ctx, this.deps.uow, this.deps.creators, this.deps.database.db, {
        approver: principalOf(ctx.actor),
        author: row.author,
        since: row.created_at,
        windowMs: this.deps.sockPuppetWindowMs,
        action: `approvals.request.${type}`,
        resource,
      });
    const at = this.deps.clock.now().toISOString();
    const by = principalOf(ctx.actor);
    const next = decide(
      stateOfRow(row),
      type === 'approve' ? { type, by, at } : { type, by, at, reason },
    );
    if (!next) throw new DomainError(approvalErrors.APPROVALS_NOT_PENDING);
    return this.deps.uow.run(ctx, async (tx, record) => {
      const ok = await this.deps.store.decide(tx, id, {
        state: next.kind,
        decided_by: by,
        decided_at: at,
        reason: reason || null,
      });
      if (!ok) throw new DomainError(approvalErrors.APPROVALS_NOT_PENDING);
      record({
        action:
          next.kind === 'approved' ? 'approvals.request.approved' : 'approvals.request.rejected',
        resource,
        details: {
          subject: `${row.subject_type}/${row.subject_id}`,
          hash: row.subject_hash,
          ...(reason ? { reason } : {}),
        },
      });
      const updated = toView((await this.deps.store.get(tx, id))!);
      await this.onDecision.get(row.subject_type)?.(tx, updated, ctx, record);
      return updated;
    });
  }
}

function scopeOf(row: ApprovalRow) {
  return row.project
    ? { project: row.project, ...(row.environment ? { environment: row.environment } : {}) }
    : {};
}

function stateOfRow(row: ApprovalRow): ApprovalState {
  switch (row.state) {
    case 'approved':
      return { kind: 'approved', by: row.decided_by ?? '', at: row.decided_at ?? '' };
    case 'rejected':
      return {
        kind: 'rejected',
        by: row.decided_by ?? '',
        at: row.decided_at ?? '',
        reason: row.reason ?? '',
      };
    default:
      return { kind: 'pending' };
  }
}

function toView(row: ApprovalRow): ApprovalView {
  return {
    id: row.id,
    subject: { type: row.subject_type, id: row.subject_id, hash: row.subject_hash },
    project: row.project,
    environment: row.environment,
    summary: row.summary,
    author: row.author,
    state: stateOfRow(row).kind,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    reason: row.reason,
    createdAt: row.created_at,
  };
}
