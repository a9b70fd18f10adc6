import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError, type ErrorDefinition } from '../../platform/errors.ts';
import {
  accountablePrincipal,
  refuseDelegatedDecision,
  refuseSockPuppet,
  type CreatorLookup,
} from '../../platform/four-eyes.ts';
import { newId } from '../../platform/ids.ts';
import type { ExecutionReads } from '../executions/index.ts';
import type { ProjectService } from '../projects/index.ts';
import { retentionErrors as E } from './errors.ts';
import { retentionPermissions as P } from './permissions.ts';
import type { HoldEventRow, HoldRow, KyselyRetentionStore } from './retention-store.ts';

export interface HoldView {
  id: string;
  project: string;
  target: 'project' | 'environment' | 'change';
  environment: string | null;
  change: string | null;
  // The runs a change hold covers (a deployment's run, or every run that used a change request).
  runs: string[];
  reason: string;
  placedBy: string;
  placedAt: string;
  state: 'active' | 'release-requested' | 'released';
  releaseRequestedBy: string | null;
  releaseRequestedAt: string | null;
  releaseReason: string | null;
  releasedBy: string | null;
  releasedAt: string | null;
}

export interface HoldRequest {
  project: string;
  environment?: string | undefined;
  change?: string | undefined;
  reason: string;
}

// A change request's project and the runs that used it (the changes module, read as the caller).
export type ChangeRuns = (
  ctx: RequestContext,
  id: string,
) => Promise<{ project: string; runs: string[] } | undefined>;

const resourceOf = (id: string) => ({ type: 'LegalHold', id });

// Legal holds: placed by one person, released only when a second person approves someone
// else's release request. Nothing is ever updated or deleted: the release is appended.
export class HoldService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyRetentionStore;
      clock: Clock;
      projects: ProjectService;
      executions: ExecutionReads;
      changeRuns: ChangeRuns;
      creators?: CreatorLookup | undefined;
      sockPuppetWindowMs?: number | null | undefined;
    },
  ) {}

  async place(ctx: RequestContext, input: HoldRequest): Promise<HoldView> {
    const action = 'retention.hold.placed';
    const scope = {
      project: input.project,
      ...(input.environment ? { environment: input.environment } : {}),
    };
    const attempt = {
      type: 'LegalHold',
      id: `${input.project}/${input.environment ?? input.change ?? '*'}`,
    };
    await ctx.guard.require(P['retention.hold.place'], scope, attempt);
    await this.refuseServiceAccount(ctx, action, attempt);
    const reason = input.reason.trim();
    const invalid = (why: string) => new DomainError(E.RETENTION_HOLD_INVALID, why);
    if (!reason) throw invalid('a legal hold needs a reason');
    if (input.environment && input.change)
      throw invalid('give an environment or a change, not both');
    if (!(await this.deps.projects.projectExists(input.project)))
      throw invalid(`project ${input.project} does not exist`);
    if (
      input.environment &&
      !(await this.deps.projects.environment(input.project, input.environment))
    )
      throw invalid(`environment ${input.environment} does not exist in ${input.project}`);
    const runs = input.change ? await this.runsOfChange(ctx, input.project, input.change) : [];
    const row: HoldRow = {
      id: newId('hold'),
      project: input.project,
      target: input.change ? 'change' : input.environment ? 'environment' : 'project',
      environment: input.environment ?? null,
      change_id: input.change ?? null,
      reason,
      placed_by: accountablePrincipal(ctx.actor),
      placed_at: this.deps.clock.now().toISOString(),
    };
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.insertHold(tx, row, runs);
      record({
        action,
        resource: resourceOf(row.id),
        details: {
          project: row.project,
          target: row.target,
          environment: row.environment,
          change: row.change_id,
          runs,
          reason,
        },
      });
      return present(row, runs, []);
    });
  }

  async requestRelease(ctx: RequestContext, id: string, reason: string): Promise<HoldView> {
    const action = 'retention.hold.release-requested';
    const { row, events } = await this.load(ctx, id);
    await this.refuseServiceAccount(ctx, action, resourceOf(id));
    if (!reason.trim())
      throw new DomainError(E.RETENTION_HOLD_INVALID, 'a release request needs a reason');
    if (events.some((e) => e.kind === 'released'))
      await this.refuse(ctx, action, id, E.RETENTION_HOLD_NOT_ACTIVE);
    const event: HoldEventRow = {
      id: newId('hrel'),
      hold_id: id,
      kind: 'release-requested',
      actor: accountablePrincipal(ctx.actor),
      reason: reason.trim(),
      request_id: null,
      at: this.deps.clock.now().toISOString(),
    };
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.insertEvent(tx, event);
      record({
        action,
        resource: resourceOf(id),
        details: { project: row.project, reason: event.reason },
      });
      return present(row, await this.deps.store.holdRuns(tx, id), [...events, event]);
    });
  }

  // The second person: never the requester of the release, a service account, someone acting
  // through a token another principal issued, or an account the requester created for it.
  async approveRelease(ctx: RequestContext, id: string, comment?: string): Promise<HoldView> {
    const action = 'retention.hold.released';
    const resource = resourceOf(id);
    await refuseDelegatedDecision(ctx, this.deps.uow, action, resource);
    const { row, events } = await this.load(ctx, id);
    await this.refuseServiceAccount(ctx, action, resource);
    if (events.some((e) => e.kind === 'released'))
      await this.refuse(ctx, action, id, E.RETENTION_HOLD_NOT_ACTIVE);
    const request = events.filter((e) => e.kind === 'release-requested').at(-1);
    if (!request) return this.refuse(ctx, action, id, E.RETENTION_RELEASE_NOT_REQUESTED);
    const me = principalOf(ctx.actor);
    if (me === request.actor)
      await this.refuse(ctx, action, id, E.RETENTION_SELF_RELEASE_FORBIDDEN, {
        requestedBy: request.actor,
      });
    if (this.deps.creators)
      await refuseSockPuppet(ctx, this.deps.uow, this.deps.creators, this.deps.database.db, {
        approver: me,
        author: request.actor,
        since: request.at,
        windowMs: this.deps.sockPuppetWindowMs ?? null,
        action,
        resource,
      });
    const event: HoldEventRow = {
      id: newId('hrel'),
      hold_id: id,
      kind: 'released',
      actor: me,
      reason: comment?.trim() || null,
      request_id: request.id,
      at: this.deps.clock.now().toISOString(),
    };
    try {
      return await this.deps.uow.run(ctx, async (tx, record) => {
        await this.deps.store.insertEvent(tx, event);
        record({
          action,
          resource,
          details: {
            project: row.project,
            requestedBy: request.actor,
            requestReason: request.reason,
            ...(event.reason ? { comment: event.reason } : {}),
          },
        });
        return present(row, await this.deps.store.holdRuns(tx, id), [...events, event]);
      });
    } catch (err) {
      // Another approver released it between the read and the write (one release per hold).
      const now = await this.deps.store.events(this.deps.database.db, id);
      if (now.some((e) => e.kind === 'released' && e.id !== event.id))
        return this.refuse(ctx, action, id, E.RETENTION_HOLD_NOT_ACTIVE);
      throw err;
    }
  }

  async get(ctx: RequestContext, id: string): Promise<HoldView> {
    const row = await this.deps.store.hold(this.deps.database.db, id);
    if (!row || !(await ctx.guard.can(P['retention.hold.read'], scopeOf(row))))
      throw new DomainError(E.RETENTION_HOLD_NOT_FOUND);
    return this.view(this.deps.database.db, row);
  }

  async list(
    ctx: RequestContext,
    filter: { project?: string | undefined },
    page: PageRequest = firstPage,
  ): Promise<PageOf<HoldView>> {
    const db = this.deps.database.db;
    const rows = await this.deps.store.listHolds(db, filter, page);
    const items: HoldView[] = [];
    for (const r of rows.items)
      if (await ctx.guard.can(P['retention.hold.read'], scopeOf(r)))
        items.push(await this.view(db, r));
    return { items, next: rows.next };
  }

  private async view(db: AnyDb | AnyTx, row: HoldRow): Promise<HoldView> {
    return present(
      row,
      await this.deps.store.holdRuns(db, row.id),
      await this.deps.store.events(db, row.id),
    );
  }

  private async load(
    ctx: RequestContext,
    id: string,
  ): Promise<{ row: HoldRow; events: HoldEventRow[] }> {
    const db = this.deps.database.db;
    const row = await this.deps.store.hold(db, id);
    if (!row) throw new DomainError(E.RETENTION_HOLD_NOT_FOUND);
    await ctx.guard.require(P['retention.hold.release'], scopeOf(row), resourceOf(id));
    return { row, events: await this.deps.store.events(db, id) };
  }

  // A deployment `<runId>/<stage>` of the project, or a change request and the runs that used it.
  private async runsOfChange(
    ctx: RequestContext,
    project: string,
    change: string,
  ): Promise<string[]> {
    const db = this.deps.database.db;
    const slash = change.indexOf('/');
    if (slash > 0) {
      const runId = change.slice(0, slash);
      const run = await this.deps.executions.run(db, runId);
      const stages = run ? await this.deps.executions.stages(db, runId) : [];
      if (
        !run ||
        run.project !== project ||
        !stages.some((s) => s.name === change.slice(slash + 1))
      )
        throw new DomainError(E.RETENTION_HOLD_INVALID, `no deployment ${change} in ${project}`);
      return [runId];
    }
    const found = await this.deps.changeRuns(ctx, change);
    if (!found || found.project !== project)
      throw new DomainError(E.RETENTION_HOLD_INVALID, `no change request ${change} in ${project}`);
    // The hold covers the runs that used the change when it is placed; with none it would
    // hold nothing, silently.
    if (found.runs.length === 0)
      throw new DomainError(
        E.RETENTION_HOLD_INVALID,
        `change request ${change} has not been used by a deployment yet: hold its environment, or place the hold once it is used`,
      );
    return [...new Set(found.runs)].sort();
  }

  private async refuseServiceAccount(
    ctx: RequestContext,
    action: string,
    resource: { type: string; id: string },
  ): Promise<void> {
    if (ctx.actor.type === 'user') return;
    await this.deps.uow.recordAttempt(ctx, {
      action,
      resource,
      outcome: 'denied',
      details: { code: E.RETENTION_SERVICE_ACCOUNT_FORBIDDEN.code },
    });
    throw new DomainError(E.RETENTION_SERVICE_ACCOUNT_FORBIDDEN);
  }

  private async refuse(
    ctx: RequestContext,
    action: string,
    id: string,
    def: ErrorDefinition,
    details: Record<string, unknown> = {},
  ): Promise<never> {
    await this.deps.uow.recordAttempt(ctx, {
      action,
      resource: resourceOf(id),
      outcome: 'denied',
      details: { code: def.code, ...details },
    });
    throw new DomainError(def, undefined, details);
  }
}

function scopeOf(row: HoldRow) {
  return { project: row.project, ...(row.environment ? { environment: row.environment } : {}) };
}

function present(row: HoldRow, runs: string[], events: HoldEventRow[]): HoldView {
  const released = events.find((e) => e.kind === 'released');
  const request = released
    ? events.find((e) => e.id === released.request_id)
    : events.filter((e) => e.kind === 'release-requested').at(-1);
  return {
    id: row.id,
    project: row.project,
    target: row.target,
    environment: row.environment,
    change: row.change_id,
    runs,
    reason: row.reason,
    placedBy: row.placed_by,
    placedAt: row.placed_at,
    state: released ? 'released' : request ? 'release-requested' : 'active',
    releaseRequestedBy: request?.actor ?? null,
    releaseRequestedAt: request?.at ?? null,
    releaseReason: request?.reason ?? null,
    releasedBy: released?.actor ?? null,
    releasedAt: released?.at ?? null,
  };
}
