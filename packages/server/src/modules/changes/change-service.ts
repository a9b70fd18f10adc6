import type { Clock } from '../../platform/clock.ts';
import { principalOf, type AuditResource, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import { DomainError, type ErrorDefinition } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { ProjectService } from '../projects/index.ts';
import { scopeCovers, type ChangeConnectorSpec, type ChangeTemplateSpec } from './change-spec.ts';
import type { ChangeRequestRow, KyselyChangeStore } from './change-store.ts';
import type { CredentialSealer } from './credential-sealer.ts';
import { changeErrors as E } from './errors.ts';
import { changePermissions as P } from './permissions.ts';
import {
  connectorFor,
  type DeploymentOutcome,
  type TicketConnector,
  type TicketStatus,
} from './ticket-connectors.ts';

export type RiskClass = 'standard' | 'normal' | 'emergency';
// Stored states; `expired` and review status are derived from the clock when read.
export type ChangeState = 'approved' | 'open' | 'requested' | 'active';
export type EffectiveState = ChangeState | 'expired';
export type ReviewStatus = 'not_required' | 'pending' | 'overdue' | 'done';

export interface ChangeView {
  id: string;
  project: string;
  environment: string;
  riskClass: RiskClass;
  state: EffectiveState;
  title: string;
  reason: string;
  template: string | null;
  requestedBy: string;
  createdAt: string;
  activatedBy: string | null;
  activatedAt: string | null;
  expiresAt: string | null;
  review: {
    status: ReviewStatus;
    dueAt: string | null;
    reviewedBy: string | null;
    reviewedAt: string | null;
    notes: string | null;
  };
}

export interface CheckReason {
  code: string;
  message: string;
}

// What the deployment gate needs to know about the change record of a deployment.
export interface ChangeCheck {
  ok: boolean;
  reasons: CheckReason[];
  // Emergency (break-glass) changes bypass freezes and normal approvals — never the audit trail.
  bypassFreeze: boolean;
  // Standard (pre-approved) and emergency changes bypass the environment's approval rules.
  bypassApprovals: boolean;
  change: ChangeView | null;
  ticket: TicketStatus | null;
}

export interface ControlFailure {
  // overdue: still not reviewed after the deadline; late: reviewed, but after the deadline.
  kind: 'emergency_review_overdue' | 'emergency_review_late';
  changeId: string;
  project: string;
  environment: string;
  requestedBy: string;
  activatedBy: string | null;
  activatedAt: string | null;
  dueAt: string;
  reviewedAt: string | null;
  overdueByMs: number;
}

const hourMs = 3_600_000;
const defaults = {
  emergencyExpiresAfterMs: 4 * hourMs,
  maxEmergencyExpiresAfterMs: 72 * hourMs,
  normalValidForMs: 7 * 24 * hourMs,
  reviewWithinMs: 72 * hourMs,
  maxReviewWithinMs: 30 * 24 * hourMs,
};

export class ChangeService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyChangeStore;
      projects: ProjectService;
      clock: Clock;
      sealer: CredentialSealer;
    },
  ) {}

  // ---- use cases -------------------------------------------------------------------------

  async create(
    ctx: RequestContext,
    input: {
      project: string;
      environment: string;
      riskClass: RiskClass;
      title: string;
      reason?: string | undefined;
      template?: string | undefined;
      expiresAfter?: string | undefined;
      reviewWithin?: string | undefined;
    },
  ): Promise<ChangeView> {
    const reason = (input.reason ?? '').trim();
    if (input.riskClass === 'emergency' && reason === '')
      throw new DomainError(E.CHANGES_REASON_REQUIRED);
    if (input.riskClass === 'standard' && !input.template)
      throw new DomainError(E.CHANGES_TEMPLATE_REQUIRED);
    const expiresAfterMs = this.duration(
      input.expiresAfter,
      input.riskClass === 'emergency'
        ? defaults.emergencyExpiresAfterMs
        : defaults.normalValidForMs,
      input.riskClass === 'emergency' ? defaults.maxEmergencyExpiresAfterMs : 30 * 24 * hourMs,
    );
    const reviewWithinMs =
      input.riskClass === 'emergency'
        ? this.duration(input.reviewWithin, defaults.reviewWithinMs, defaults.maxReviewWithinMs)
        : null;
    const resource = { type: 'environment', id: `${input.project}/${input.environment}` };
    await ctx.guard.require(
      P['changes.request.create'],
      { project: input.project, environment: input.environment },
      resource,
    );
    const env = await this.deps.projects.environment(input.project, input.environment);
    if (!env) throw new DomainError(E.CHANGES_ENVIRONMENT_NOT_FOUND, undefined, resource);
    const db = this.deps.database.db;
    let validForMs = expiresAfterMs;
    if (input.riskClass === 'standard') {
      const row = await this.deps.store.template(db, input.template!);
      if (!row)
        throw new DomainError(E.CHANGES_TEMPLATE_NOT_FOUND, undefined, {
          template: input.template,
        });
      const spec = JSON.parse(row.spec) as ChangeTemplateSpec;
      if (
        !scopeCovers(spec.scope, {
          project: input.project,
          environment: input.environment,
          type: env.type,
        })
      )
        throw new DomainError(E.CHANGES_TEMPLATE_OUT_OF_SCOPE, undefined, {
          template: input.template,
        });
      validForMs = parseDuration(spec.validFor)!;
    }
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
      requested_by: principalOf(ctx.actor),
      created_at: now.toISOString(),
      expires_after_ms: validForMs,
      review_within_ms: reviewWithinMs,
      activated_by: null,
      activated_at: null,
      // Emergency changes start their clock when activated.
      expires_at:
        input.riskClass === 'emergency' ? null : new Date(now.getTime() + validForMs).toISOString(),
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
        },
      });
      return this.present(row, now);
    });
  }

  // Break-glass: a second person turns an emergency request on; it expires by itself.
  async activate(
    ctx: RequestContext,
    input: { id: string; comment?: string | undefined },
  ): Promise<ChangeView> {
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
    if (row.risk_class !== 'emergency' || row.state !== 'requested')
      throw new DomainError(
        E.CHANGES_INVALID_STATE,
        `change ${row.id} is ${row.risk_class}/${row.state}`,
        {
          state: row.state,
          riskClass: row.risk_class,
        },
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
          expiresAt: set.expires_at,
          reviewDueAt: set.review_due_at,
          comment: input.comment ?? null,
        },
      });
      return this.present({ ...row, ...set }, now);
    });
  }

  // The post-implementation review an emergency change owes.
  async review(ctx: RequestContext, input: { id: string; notes: string }): Promise<ChangeView> {
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
      record({
        action,
        resource,
        details: { notes, dueAt: row.review_due_at, late },
      });
      return this.present({ ...row, ...set }, now);
    });
  }

  // ---- reads -----------------------------------------------------------------------------

  async get(id: string): Promise<ChangeView> {
    return this.present(await this.require(id), this.deps.clock.now());
  }

  async list(
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
    return { items: rows.items.map((r) => this.present(r, now)), next: rows.next };
  }

  async controlFailures(page: PageRequest = firstPage, at?: Date): Promise<PageOf<ControlFailure>> {
    const now = at ?? this.deps.clock.now();
    const rows = await this.deps.store.controlFailures(
      this.deps.database.db,
      now.toISOString(),
      page,
    );
    return {
      items: rows.items.map((r) => ({
        kind: r.reviewed_at ? 'emergency_review_late' : 'emergency_review_overdue',
        changeId: r.id,
        project: r.project,
        environment: r.environment,
        requestedBy: r.requested_by,
        activatedBy: r.activated_by,
        activatedAt: r.activated_at,
        dueAt: r.review_due_at!,
        reviewedAt: r.reviewed_at,
        overdueByMs:
          (r.reviewed_at ? new Date(r.reviewed_at) : now).getTime() -
          new Date(r.review_due_at!).getTime(),
      })),
      next: rows.next,
    };
  }

  // ---- the deployment gate's questions ---------------------------------------------------

  // Is the deployment's change record good at `at`? Reads the environment's `changeRecord`:
  // `none` passes (a given change is still checked, so break-glass can bypass), `native`
  // needs `changeId`, `servicenow`/`jira` need `ticket` (or an emergency native change).
  // Never throws for a bad record: every problem is a reason with a stable code. An
  // unreachable ticket system is a reason too (fail closed).
  async check(
    input: {
      changeId?: string | undefined;
      ticket?: string | undefined;
      project: string;
      environment: string;
      at: Date;
    },
    tx?: AnyTx,
  ): Promise<ChangeCheck> {
    const result: ChangeCheck = {
      ok: false,
      reasons: [],
      bypassFreeze: false,
      bypassApprovals: false,
      change: null,
      ticket: null,
    };
    const fail = (def: ErrorDefinition, message: string): ChangeCheck => {
      result.reasons.push({ code: def.code, message });
      return result;
    };
    const env = await this.deps.projects.environment(input.project, input.environment, tx);
    if (!env)
      return fail(
        E.CHANGES_ENVIRONMENT_NOT_FOUND,
        `environment ${input.project}/${input.environment} does not exist`,
      );
    const required = env.spec.changeRecord ?? 'none';
    if (input.changeId) {
      const native = await this.checkNative(
        input.changeId,
        { ...input, type: env.type },
        result,
        tx,
      );
      // Where a ServiceNow or Jira ticket is required, only break-glass stands in for it.
      const external = required === 'servicenow' || required === 'jira';
      if (!external || (native.ok && native.change?.riskClass === 'emergency')) return native;
      if (!input.ticket) {
        result.ok = false;
        result.bypassFreeze = false;
        result.bypassApprovals = false;
        result.reasons = [
          {
            code: E.CHANGES_RECORD_REQUIRED.code,
            message: `${input.project}/${input.environment} requires a ${required} ticket; only an active emergency change can stand in for it`,
          },
        ];
        return result;
      }
      Object.assign(result, {
        ok: false,
        bypassFreeze: false,
        bypassApprovals: false,
        reasons: [],
      });
    }
    switch (required) {
      case 'none':
        result.ok = true;
        return result;
      case 'native':
        return fail(
          E.CHANGES_RECORD_REQUIRED,
          `${input.project}/${input.environment} requires a change request id`,
        );
      case 'servicenow':
      case 'jira': {
        if (!input.ticket)
          return fail(
            E.CHANGES_RECORD_REQUIRED,
            `${input.project}/${input.environment} requires a ${required} ticket`,
          );
        try {
          const connector = await this.connectorFor(required, { ...input, type: env.type }, tx);
          const status = await connector.check(input.ticket);
          result.ticket = status;
          if (!status.found) return fail(E.CHANGES_TICKET_NOT_FOUND, status.reason);
          if (!status.approved) return fail(E.CHANGES_TICKET_NOT_APPROVED, status.reason);
          result.ok = true;
          result.reasons.push({ code: 'CHANGES_TICKET_APPROVED', message: status.reason });
          return result;
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          result.reasons.push({ code: err.code, message: err.message });
          return result;
        }
      }
    }
  }

  // Tells the ticket system how the deployment ended (work note / comment, and a transition
  // when the connector names one). Audited; fails with CHANGES_CONNECTOR_* codes.
  async updateTicket(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    input: {
      project: string;
      environment: string;
      ticket: string;
      outcome: DeploymentOutcome;
      note: string;
    },
  ): Promise<void> {
    const env = await this.deps.projects.environment(input.project, input.environment);
    if (!env) throw new DomainError(E.CHANGES_ENVIRONMENT_NOT_FOUND);
    const type = env.spec.changeRecord;
    if (type !== 'servicenow' && type !== 'jira')
      throw new DomainError(
        E.CHANGES_CONNECTOR_NOT_FOUND,
        `${input.project}/${input.environment} uses no ticket system`,
      );
    const connector = await this.connectorFor(type, { ...input, type: env.type });
    const resource = { type: 'change-ticket', id: input.ticket };
    try {
      await connector.update(input.ticket, input.outcome, input.note);
    } catch (err) {
      await this.deps.uow.recordAttempt(ctx, {
        action: 'changes.ticket.updated',
        resource,
        outcome: 'failed',
        details: {
          outcome: input.outcome,
          code: err instanceof DomainError ? err.code : 'INTERNAL_ERROR',
        },
      });
      throw err;
    }
    await this.deps.uow.run(ctx, async (_tx, record) => {
      record({
        action: 'changes.ticket.updated',
        resource,
        details: { outcome: input.outcome, system: type },
      });
    });
  }

  // Connector credentials: write-only, kept out of the versioned document, never returned or audited.
  async setCredentials(
    ctx: RequestContext,
    input: {
      connector: string;
      username?: string | undefined;
      password?: string | undefined;
      token?: string | undefined;
    },
  ): Promise<{
    connector: string;
    auth: 'basic' | 'bearer';
    username: string | null;
    updatedAt: string;
  }> {
    const row = await this.deps.store.connector(this.deps.database.db, input.connector);
    if (!row)
      throw new DomainError(E.CHANGES_CONNECTOR_NOT_FOUND, `no ChangeConnector ${input.connector}`);
    const auth: 'basic' | 'bearer' = input.token ? 'bearer' : 'basic';
    const now = this.deps.clock.now().toISOString();
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.setCredentials(tx, {
        connector: row.name,
        auth,
        username: auth === 'basic' ? (input.username ?? null) : null,
        secret: this.deps.sealer.seal((auth === 'bearer' ? input.token : input.password) ?? ''),
        updated_at: now,
        updated_by: principalOf(ctx.actor),
      });
      record({
        action: 'changes.connector.credentials-set',
        resource: { type: 'change-connector', id: row.name },
        details: { auth, username: auth === 'basic' ? (input.username ?? null) : null },
      });
      return {
        connector: row.name,
        auth,
        username: auth === 'basic' ? (input.username ?? null) : null,
        updatedAt: now,
      };
    });
  }

  async checkTicketWith(connectorName: string, ticket: string): Promise<TicketStatus> {
    const db = this.deps.database.db;
    const row = await this.deps.store.connector(db, connectorName);
    if (!row)
      throw new DomainError(E.CHANGES_CONNECTOR_NOT_FOUND, `no ChangeConnector ${connectorName}`);
    return (await this.build(row.name, JSON.parse(row.spec) as ChangeConnectorSpec, db)).check(
      ticket,
    );
  }

  // ---- internals -------------------------------------------------------------------------

  private async checkNative(
    id: string,
    target: { project: string; environment: string; at: Date; type: string },
    result: ChangeCheck,
    tx?: AnyTx,
  ): Promise<ChangeCheck> {
    const row = await this.deps.store.get(tx ?? this.deps.database.db, id);
    const fail = (def: ErrorDefinition, message: string): ChangeCheck => {
      result.reasons.push({ code: def.code, message });
      return result;
    };
    if (!row) return fail(E.CHANGES_NOT_FOUND, `change ${id} does not exist`);
    const view = this.present(row, target.at);
    result.change = view;
    if (row.project !== target.project || row.environment !== target.environment)
      return fail(
        E.CHANGES_TARGET_MISMATCH,
        `change ${id} is for ${row.project}/${row.environment}, not ${target.project}/${target.environment}`,
      );
    if (view.state === 'expired')
      return fail(E.CHANGES_EXPIRED, `change ${id} expired at ${view.expiresAt}`);
    switch (view.riskClass) {
      case 'standard':
        result.ok = true;
        result.bypassApprovals = true;
        result.reasons.push({
          code: 'CHANGES_STANDARD_PREAPPROVED',
          message: `standard change ${id} is pre-approved by template ${row.template}`,
        });
        return result;
      case 'normal':
        result.ok = true;
        result.reasons.push({
          code: 'CHANGES_NORMAL_OPEN',
          message: `normal change ${id} is open; the environment's approval rules apply`,
        });
        return result;
      case 'emergency':
        if (view.state !== 'active')
          return fail(
            E.CHANGES_NOT_APPROVED,
            `emergency change ${id} awaits activation by a second person`,
          );
        result.ok = true;
        result.bypassFreeze = true;
        result.bypassApprovals = true;
        result.reasons.push({
          code: 'CHANGES_EMERGENCY_ACTIVE',
          message: `emergency change ${id} activated by ${row.activated_by} until ${row.expires_at}; review due ${row.review_due_at}`,
        });
        return result;
    }
  }

  private async connectorFor(
    type: 'servicenow' | 'jira',
    target: { project: string; environment: string; type: string },
    tx?: AnyTx,
  ): Promise<TicketConnector> {
    const db = tx ?? this.deps.database.db;
    const rows = await this.deps.store.connectorsOfType(db, type);
    // The most specific scope wins: environment, then project, then type, then unscoped.
    const rank = (spec: ChangeConnectorSpec): number => {
      const s = spec.scope;
      if (s?.environments?.includes(`${target.project}/${target.environment}`)) return 0;
      if (s?.projects?.includes(target.project)) return 1;
      if (s?.environmentTypes?.includes(target.type as 'production')) return 2;
      return scopeCovers(s, target) ? 3 : 99;
    };
    const candidates = rows
      .map((r) => ({ row: r, spec: JSON.parse(r.spec) as ChangeConnectorSpec }))
      .map((c) => ({ ...c, rank: rank(c.spec) }))
      .filter((c) => c.rank < 99)
      .sort((a, b) => a.rank - b.rank);
    const chosen = candidates[0];
    if (!chosen)
      throw new DomainError(
        E.CHANGES_CONNECTOR_NOT_FOUND,
        `no ${type} ChangeConnector covers ${target.project}/${target.environment}`,
      );
    return this.build(chosen.row.name, chosen.spec, db);
  }

  private async build(
    name: string,
    spec: ChangeConnectorSpec,
    db: AnyTx | Database['db'],
  ): Promise<TicketConnector> {
    const creds = await this.deps.store.credentials(db, name);
    if (!creds)
      throw new DomainError(
        E.CHANGES_CONNECTOR_NOT_CONFIGURED,
        `ChangeConnector ${name} has no credentials`,
        { connector: name },
      );
    return connectorFor(name, spec, {
      auth: creds.auth === 'bearer' ? 'bearer' : 'basic',
      username: creds.username,
      secret: this.deps.sealer.open(creds.secret),
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

  private present(row: ChangeRequestRow, now: Date): ChangeView {
    const iso = now.toISOString();
    const expired = row.expires_at !== null && iso >= row.expires_at;
    const review: ReviewStatus =
      row.risk_class !== 'emergency' || row.review_due_at === null
        ? 'not_required'
        : row.reviewed_at
          ? 'done'
          : iso >= row.review_due_at
            ? 'overdue'
            : 'pending';
    return {
      id: row.id,
      project: row.project,
      environment: row.environment,
      riskClass: row.risk_class as RiskClass,
      state: expired ? 'expired' : (row.state as ChangeState),
      title: row.title,
      reason: row.reason,
      template: row.template,
      requestedBy: row.requested_by,
      createdAt: row.created_at,
      activatedBy: row.activated_by,
      activatedAt: row.activated_at,
      expiresAt: row.expires_at,
      review: {
        status: review,
        dueAt: row.review_due_at,
        reviewedBy: row.reviewed_by,
        reviewedAt: row.reviewed_at,
        notes: row.review_notes,
      },
    };
  }
}
