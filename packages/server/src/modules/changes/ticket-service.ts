import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ProjectService } from '../projects/index.ts';
import { scopeCovers, type ChangeConnectorSpec } from './change-spec.ts';
import type { KyselyChangeStore } from './change-store.ts';
import type { CredentialSealer } from './credential-sealer.ts';
import { changeErrors as E } from './errors.ts';
import {
  connectorFor,
  type DeploymentOutcome,
  type TicketConnector,
  type TicketStatus,
} from './ticket-connectors.ts';

type Target = { project: string; environment: string; type: string };

// ServiceNow and Jira: which connector covers an environment, its write-only credentials,
// and the ticket updates after a deployment.
export class TicketService {
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

  // The most specific connector of the type for the target: environment, then project, then
  // environment type, then unscoped.
  async connectorFor(
    type: 'servicenow' | 'jira',
    target: Target,
    tx?: AnyTx,
  ): Promise<TicketConnector> {
    const db = tx ?? this.deps.database.db;
    const rows = await this.deps.store.connectorsOfType(db, type);
    const rank = (spec: ChangeConnectorSpec): number => {
      const s = spec.scope;
      if (s?.environments?.includes(`${target.project}/${target.environment}`)) return 0;
      if (s?.projects?.includes(target.project)) return 1;
      if (s?.environmentTypes?.includes(target.type as 'production')) return 2;
      return scopeCovers(s, target) ? 3 : 99;
    };
    const chosen = rows
      .map((r) => ({ row: r, spec: JSON.parse(r.spec) as ChangeConnectorSpec }))
      .map((c) => ({ ...c, rank: rank(c.spec) }))
      .filter((c) => c.rank < 99)
      .sort((a, b) => a.rank - b.rank)[0];
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
    db: AnyTx | AnyDb,
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
    const username = auth === 'basic' ? (input.username ?? null) : null;
    const now = this.deps.clock.now().toISOString();
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.setCredentials(tx, {
        connector: row.name,
        auth,
        username,
        secret: this.deps.sealer.seal((auth === 'bearer' ? input.token : input.password) ?? ''),
        updated_at: now,
        updated_by: principalOf(ctx.actor),
      });
      record({
        action: 'changes.connector.credentials-set',
        resource: { type: 'change-connector', id: row.name },
        details: { auth, username },
      });
      return { connector: row.name, auth, username, updatedAt: now };
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
}
