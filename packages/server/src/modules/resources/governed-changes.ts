import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext, type Scope } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ApprovalService, ApprovalView } from '../approvals/index.ts';
import { resourceErrors } from './errors.ts';
import type { AnyKindHandler, Governance, ResourceDocument } from './kind-handler.ts';
import type { ChangeRow, KyselyResourceStore, ResourceKey } from './resource-store.ts';

// The approval subject of a governed version: `environment-version` `shop/prod@3`.
export const governedSubjectType = (kind: string) => `${kind.toLowerCase()}-version`;
export const governedSubjectId = (key: ResourceKey, version: number) =>
  `${key.project ? `${key.project}/` : ''}${key.name}@${version}`;

const action = (kind: string, what: string) => `resources.${kind.toLowerCase()}.${what}`;
const displayId = (key: ResourceKey) => `${key.project ? `${key.project}/` : ''}${key.name}`;

// Puts a stored version in force: the owning module's tables, then the resources' pointer.
export type PutInForce = (
  tx: AnyTx,
  ctx: RequestContext,
  handler: AnyKindHandler,
  change: ChangeRow,
  record: RecordAudit,
) => Promise<void>;

// Four-eyes for resource versions: a governed version waits, bound by its content hash to an
// approval request its author (and any service account) can never decide. Approval puts it
// in force in the decision's transaction; rejection closes it; a newer version withdraws it.
export class GovernedChanges {
  constructor(
    private readonly deps: {
      store: KyselyResourceStore;
      approvals: ApprovalService;
      clock: Clock;
      putInForce: PutInForce;
    },
  ) {}

  // Lets approvals of this kind's versions reach the resources module.
  register(handler: AnyKindHandler): void {
    this.deps.approvals.onDecided(governedSubjectType(handler.kind), (tx, decided, ctx, record) =>
      this.decided(handler, tx, decided, ctx, record),
    );
  }

  async open(
    tx: AnyTx,
    ctx: RequestContext,
    input: {
      handler: AnyKindHandler;
      key: ResourceKey;
      doc: ResourceDocument;
      version: number;
      contentHash: string;
      governance: Governance;
      inForceVersion: number | null;
    },
  ): Promise<string> {
    const { handler, key, version, governance } = input;
    const author = principalOf(ctx.actor);
    const scope: Scope =
      governance.scope ??
      handler.scopeOf?.(input.doc) ??
      (key.project ? { project: key.project } : {});
    const approval = await this.deps.approvals.requestInTx(tx, ctx, {
      subjectType: governedSubjectType(handler.kind),
      subjectId: governedSubjectId(key, version),
      subjectHash: input.contentHash,
      project: scope.project,
      environment: scope.project ? scope.environment : undefined,
      summary: summaryOf(handler.kind, key, version, governance.reason, input.inForceVersion),
      author,
    });
    await this.deps.store.insertChange(tx, {
      ...key,
      version,
      content_hash: input.contentHash,
      author,
      approval_id: approval,
      state: 'pending',
      reason: governance.reason,
      created_at: this.deps.clock.now().toISOString(),
      closed_by: null,
      closed_at: null,
      close_reason: null,
    });
    return approval;
  }

  // A newer version replaces every version still waiting: their requests are closed, so a
  // stale approval can never put an older version in force.
  async withdrawPending(
    tx: AnyTx,
    ctx: RequestContext,
    key: ResourceKey,
    newer: number,
    record: RecordAudit,
  ): Promise<void> {
    for (const waiting of await this.deps.store.pendingChanges(tx, key)) {
      const reason = `superseded by version ${newer}`;
      const closed = await this.deps.store.closeChange(tx, waiting.approval_id, {
        state: 'withdrawn',
        by: principalOf(ctx.actor),
        at: this.deps.clock.now().toISOString(),
        reason,
      });
      if (!closed) continue;
      await this.deps.approvals.withdrawInTx(tx, ctx, waiting.approval_id, reason);
      record({
        action: action(key.kind, 'change-withdrawn'),
        resource: { type: key.kind, id: displayId(key) },
        details: {
          version: waiting.version,
          contentHash: waiting.content_hash,
          approval: waiting.approval_id,
          author: waiting.author,
          supersededBy: newer,
        },
      });
    }
  }

  private async decided(
    handler: AnyKindHandler,
    tx: AnyTx,
    decided: ApprovalView,
    ctx: RequestContext,
    record: RecordAudit,
  ): Promise<void> {
    const change = await this.deps.store.changeByApproval(tx, decided.id);
    if (!change || change.kind !== handler.kind || change.content_hash !== decided.subject.hash)
      throw new DomainError(
        resourceErrors.RESOURCES_CHANGE_NOT_PENDING,
        `approval ${decided.id} does not belong to a waiting ${handler.kind} version`,
      );
    const approved = decided.state === 'approved';
    const closed = await this.deps.store.closeChange(tx, change.approval_id, {
      state: approved ? 'applied' : 'rejected',
      by: principalOf(ctx.actor),
      at: decided.decidedAt ?? this.deps.clock.now().toISOString(),
      reason: decided.reason,
    });
    if (!closed)
      throw new DomainError(
        resourceErrors.RESOURCES_CHANGE_NOT_PENDING,
        `version ${change.version} of ${handler.kind} ${displayId(change)} is ${change.state}`,
      );
    if (approved) await this.deps.putInForce(tx, ctx, handler, change, record);
    record({
      action: action(handler.kind, approved ? 'change-applied' : 'change-rejected'),
      resource: { type: handler.kind, id: displayId(change) },
      details: {
        version: change.version,
        contentHash: change.content_hash,
        approval: change.approval_id,
        author: change.author,
        decidedBy: principalOf(ctx.actor),
        ...(decided.reason ? { reason: decided.reason } : {}),
      },
    });
  }
}

function summaryOf(
  kind: string,
  key: ResourceKey,
  version: number,
  reason: string,
  inForce: number | null,
): string {
  const head = `${kind} ${displayId(key)} version ${version}: ${reason}.`;
  if (inForce === null) return `${head} Nothing takes effect until a second person approves.`;
  const project = key.project ? ` --project ${key.project}` : '';
  return `${head} Version ${inForce} stays in force until a second person approves (custody diff ${kind} ${key.name} ${inForce} ${version}${project}).`;
}
