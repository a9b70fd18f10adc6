import type { Clock } from '../../platform/clock.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import type { ErrorDefinition } from '../../platform/errors.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ProjectService } from '../projects/index.ts';
import type { ChangeRequestRow, KyselyChangeStore } from './change-store.ts';
import { presentChange, type ChangeView } from './change-view.ts';
import { changeErrors as E } from './errors.ts';
import type { TicketStatus } from './ticket-connectors.ts';
import type { TicketService } from './ticket-service.ts';

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

export interface ChangeCheckInput {
  changeId?: string | undefined;
  ticket?: string | undefined;
  project: string;
  environment: string;
  at: Date;
  // The run asking. A change that stands in for approvals serves only runs its requester
  // triggered; an emergency change only the commit it was requested for.
  run: { id: string; triggeredBy: string; commit: string | null };
}

const commitsMatch = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

// The deployment gate's question to the changes module: is this deployment's change record
// good at `at`? Never throws for a bad record: every problem is a reason with a stable code.
// An unreachable ticket system is a reason too (fail closed).
export class ChangeRecordCheck {
  constructor(
    private readonly deps: {
      database: Database;
      store: KyselyChangeStore;
      projects: ProjectService;
      clock: Clock;
      tickets: TicketService;
    },
  ) {}

  async check(input: ChangeCheckInput, tx?: AnyTx): Promise<ChangeCheck> {
    const result = emptyCheck();
    const env = await this.deps.projects.environment(input.project, input.environment, tx);
    if (!env)
      return fail(
        result,
        E.CHANGES_ENVIRONMENT_NOT_FOUND,
        `environment ${input.project}/${input.environment} does not exist`,
      );
    const required = env.spec.changeRecord ?? 'none';
    const native = input.changeId ? await this.native(input, tx) : undefined;
    if (native) {
      const external = required === 'servicenow' || required === 'jira';
      // Where a ServiceNow or Jira ticket is required, only break-glass stands in for it.
      if (!external || (native.ok && native.change?.riskClass === 'emergency')) return native;
      if (!input.ticket)
        return fail(
          result,
          E.CHANGES_RECORD_REQUIRED,
          `${input.project}/${input.environment} requires a ${required} ticket; only an active emergency change can stand in for it`,
        );
    } else if (input.changeId) {
      result.reasons.push({
        code: 'CHANGES_NOT_FOR_THIS_ENVIRONMENT',
        message: `change ${input.changeId} is for another environment; it does not apply to ${input.project}/${input.environment}`,
      });
    }
    switch (required) {
      case 'none':
        result.ok = true;
        return result;
      case 'native':
        return fail(
          result,
          E.CHANGES_RECORD_REQUIRED,
          `${input.project}/${input.environment} requires a change request id`,
        );
      case 'servicenow':
      case 'jira':
        return this.ticket(required, input, env.type, result, tx);
    }
  }

  private async ticket(
    system: 'servicenow' | 'jira',
    input: ChangeCheckInput,
    type: string,
    result: ChangeCheck,
    tx?: AnyTx,
  ): Promise<ChangeCheck> {
    if (!input.ticket)
      return fail(
        result,
        E.CHANGES_RECORD_REQUIRED,
        `${input.project}/${input.environment} requires a ${system} ticket`,
      );
    try {
      const connector = await this.deps.tickets.connectorFor(system, { ...input, type }, tx);
      const status = await connector.check(input.ticket);
      result.ticket = status;
      if (!status.found) return fail(result, E.CHANGES_TICKET_NOT_FOUND, status.reason);
      if (!status.approved) return fail(result, E.CHANGES_TICKET_NOT_APPROVED, status.reason);
      result.ok = true;
      result.reasons.push({ code: 'CHANGES_TICKET_APPROVED', message: status.reason });
      return result;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      result.reasons.push({ code: err.code, message: err.message });
      return result;
    }
  }

  // The native change named by the run, if it is one for this environment (a change made
  // for another environment applies only to stages deploying there: undefined).
  private async native(input: ChangeCheckInput, tx?: AnyTx): Promise<ChangeCheck | undefined> {
    const result = emptyCheck();
    const db = tx ?? this.deps.database.db;
    const row = await this.deps.store.get(db, input.changeId!);
    if (!row) return fail(result, E.CHANGES_NOT_FOUND, `change ${input.changeId} does not exist`);
    if (row.project !== input.project || row.environment !== input.environment) return undefined;
    const view = presentChange(row, input.at);
    result.change = view;
    if (view.state === 'expired')
      return fail(result, E.CHANGES_EXPIRED, `change ${row.id} expired at ${view.expiresAt}`);
    switch (view.riskClass) {
      case 'standard': {
        const refused = this.notServing(row, input);
        if (refused) return fail(result, refused.def, refused.message);
        result.ok = true;
        result.bypassApprovals = true;
        result.reasons.push({
          code: 'CHANGES_STANDARD_PREAPPROVED',
          message: `standard change ${row.id} is pre-approved by template ${row.template}`,
        });
        return result;
      }
      case 'normal':
        result.ok = true;
        result.reasons.push({
          code: 'CHANGES_NORMAL_OPEN',
          message: `normal change ${row.id} is open; the environment's approval rules apply`,
        });
        return result;
      case 'emergency':
        return this.emergency(row, view, input, result, db);
    }
  }

  private async emergency(
    row: ChangeRequestRow,
    view: ChangeView,
    input: ChangeCheckInput,
    result: ChangeCheck,
    db: AnyTx | Database['db'],
  ): Promise<ChangeCheck> {
    if (view.state !== 'active')
      return fail(
        result,
        E.CHANGES_NOT_APPROVED,
        `emergency change ${row.id} awaits activation by a second person`,
      );
    const refused = this.notServing(row, input);
    if (refused) return fail(result, refused.def, refused.message);
    // Bound to its commit; a change from before commits were required is pinned by its first use.
    const bound = row.commit_sha ?? (await this.deps.store.uses(db, row.id))[0]?.commit_sha;
    if (bound && (!input.run.commit || !commitsMatch(input.run.commit, bound)))
      return fail(
        result,
        E.CHANGES_COMMIT_MISMATCH,
        `emergency change ${row.id} was requested for commit ${bound}; this run deploys ${input.run.commit ?? 'an unresolved commit'}`,
      );
    result.ok = true;
    result.bypassFreeze = true;
    result.bypassApprovals = true;
    result.reasons.push({
      code: 'CHANGES_EMERGENCY_ACTIVE',
      message: `emergency change ${row.id} (commit ${bound ?? input.run.commit}) activated by ${row.activated_by} until ${row.expires_at}; review due ${row.review_due_at}`,
    });
    return result;
  }

  // A change standing in for approvals is a person's, and serves only runs they triggered.
  private notServing(
    row: ChangeRequestRow,
    input: ChangeCheckInput,
  ): { def: ErrorDefinition; message: string } | undefined {
    if (!row.requested_by.startsWith('user:'))
      return {
        def: E.CHANGES_SERVICE_ACCOUNT_FORBIDDEN,
        message: `change ${row.id} was requested by ${row.requested_by}, not a person`,
      };
    if (input.run.triggeredBy !== row.requested_by)
      return {
        def: E.CHANGES_NOT_REQUESTER,
        message: `change ${row.id} was requested by ${row.requested_by}; run ${input.run.id} was triggered by ${input.run.triggeredBy}`,
      };
    return undefined;
  }

  // A deployment relied on the change (it stood in for approvals or a freeze): kept on the
  // change, once per run and stage, with its own audit entry in the gate's transaction.
  async recordUse(
    tx: AnyTx,
    record: RecordAudit,
    use: {
      change: string;
      run: string;
      stage: string;
      environment: string;
      commit: string | null;
      intentHash: string;
      at: Date;
    },
  ): Promise<boolean> {
    const inserted = await this.deps.store.insertUse(tx, {
      change_id: use.change,
      run_id: use.run,
      stage: use.stage,
      environment: use.environment,
      commit_sha: use.commit,
      intent_hash: use.intentHash,
      used_at: use.at.toISOString(),
    });
    if (inserted)
      record({
        action: 'changes.request.used',
        resource: { type: 'change', id: use.change },
        details: {
          run: use.run,
          stage: use.stage,
          environment: use.environment,
          commit: use.commit,
          intentHash: use.intentHash,
        },
      });
    return inserted;
  }
}

function emptyCheck(): ChangeCheck {
  return {
    ok: false,
    reasons: [],
    bypassFreeze: false,
    bypassApprovals: false,
    change: null,
    ticket: null,
  };
}

function fail(result: ChangeCheck, def: ErrorDefinition, message: string): ChangeCheck {
  result.ok = false;
  result.bypassFreeze = false;
  result.bypassApprovals = false;
  result.reasons.push({ code: def.code, message });
  return result;
}
