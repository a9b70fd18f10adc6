import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { principalOf } from '../approvals/index.ts';
import type { ExecutionEngine, JobPayload } from '../executions/index.ts';
import type { IdentityService, TokenView } from '../identity/index.ts';
import type { ResourceService } from '../resources/index.ts';
import { runnerErrors } from './errors.ts';
import { runnerPermissions as P } from './permissions.ts';
import type { KyselyRunnerStore, RunnerRow } from './runner-store.ts';

export interface RunnerView {
  id: string;
  name: string;
  pools: string[];
  principal: string;
  registeredAt: string;
  lastSeenAt: string;
}

const toView = (r: RunnerRow): RunnerView => ({
  id: r.id,
  name: r.name,
  pools: JSON.parse(r.pools) as string[],
  principal: r.principal,
  registeredAt: r.registered_at,
  lastSeenAt: r.last_seen_at,
});

export class RunnerService {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyRunnerStore;
      clock: Clock;
      engine: ExecutionEngine;
      identity: IdentityService;
      resources: ResourceService;
    },
  ) {}

  // A workflow over three modules, each step its own audited transaction: a service account
  // `runner-NAME` bound to the `runner` role, its pool grant, and a token.
  async createToken(
    ctx: RequestContext,
    input: { name: string; pools: string[]; ttlMs: number },
  ): Promise<{ id: string; token: string; principal: string; pools: string[]; expiresAt: string }> {
    await ctx.guard.require(
      P['runners.token.create'],
      {},
      { type: 'runner-token', id: input.name },
    );
    const account = `runner-${input.name}`;
    const principal = `serviceaccount:${account}`;
    const existing = await this.deps.identity
      .getPrincipal('service_account', account)
      .then(() => true)
      .catch(() => false);
    if (!existing)
      await this.deps.identity.createPrincipal(ctx, { kind: 'service_account', name: account });
    await this.deps.resources.applyDocuments(ctx, [
      {
        apiVersion: 'custody/v1',
        kind: 'RoleBinding',
        metadata: { name: `${account}-runner`.slice(0, 63) },
        spec: { principal, role: 'runner', scope: 'organization', effect: 'allow' },
      },
    ]);
    await this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.grant(tx, principal, input.pools, this.deps.clock.now().toISOString());
      record({
        action: 'runners.grant.updated',
        resource: { type: 'runner-grant', id: principal },
        details: { pools: input.pools },
      });
    });
    const token = await this.deps.identity.createToken(ctx, {
      principal: { kind: 'service_account', name: account },
      ttlMs: input.ttlMs,
      name: `runner-${input.name}`,
    });
    return {
      id: token.id,
      token: token.token,
      principal,
      pools: input.pools,
      expiresAt: token.expiresAt,
    };
  }

  // A new token for `runner-NAME` that replaces every other live one of the account: the local
  // runner of `custody up` gets one per start, and restarts never leave live tokens behind.
  async replaceToken(
    ctx: RequestContext,
    input: { name: string; pools: string[]; ttlMs: number },
  ): Promise<{
    id: string;
    token: string;
    principal: string;
    expiresAt: string;
    revoked: string[];
  }> {
    const created = await this.createToken(ctx, input);
    const account = `runner-${input.name}`;
    const stale = (await this.allTokens(ctx)).filter(
      (t) =>
        t.principal.kind === 'service_account' &&
        t.principal.name === account &&
        t.revokedAt === null &&
        t.id !== created.id,
    );
    for (const t of stale) await this.deps.identity.revokeToken(ctx, t.id);
    return {
      id: created.id,
      token: created.token,
      principal: created.principal,
      expiresAt: created.expiresAt,
      revoked: stale.map((t) => t.id),
    };
  }

  private async allTokens(ctx: RequestContext): Promise<TokenView[]> {
    const out: TokenView[] = [];
    let page: PageRequest = { limit: 1000, after: undefined };
    for (;;) {
      const got = await this.deps.identity.listTokens(ctx, { all: true }, page);
      out.push(...got.items);
      if (!got.next) return out;
      page = { limit: 1000, after: got.next };
    }
  }

  async register(
    ctx: RequestContext,
    input: { name: string; pools: string[] },
  ): Promise<RunnerView> {
    const principal = principalOf(ctx.actor);
    const granted = await this.deps.store.grantedPools(this.deps.database.db, principal);
    const any = granted.includes('*') || (await ctx.guard.can(P['runners.pool.serve-any']));
    const refused = input.pools.filter((p) => !any && !granted.includes(p));
    if (refused.length > 0) {
      await this.deps.uow.recordAttempt(ctx, {
        action: 'runners.runner.register',
        resource: { type: 'runner', id: input.name },
        outcome: 'denied',
        details: { code: runnerErrors.RUNNERS_POOL_FORBIDDEN.code, pools: refused },
      });
      throw new DomainError(
        runnerErrors.RUNNERS_POOL_FORBIDDEN,
        `not allowed to serve ${refused.join(', ')}`,
        { pools: refused },
      );
    }
    const now = this.deps.clock.now().toISOString();
    const pools = JSON.stringify(input.pools);
    // A runner that starts again under the same name and credentials (a restart of `custody
    // up`, a redeployed agent) is the same runner: one row, not one per start.
    return this.deps.uow.run(ctx, async (tx, record) => {
      const known = await this.deps.store.findByName(tx, principal, input.name);
      if (known) {
        await this.deps.store.reregister(tx, known.id, pools, now);
        record({
          action: 'runners.runner.re-registered',
          resource: { type: 'runner', id: known.id },
          details: { name: known.name, pools: input.pools, before: JSON.parse(known.pools) },
        });
        return toView({ ...known, pools, registered_at: now, last_seen_at: now });
      }
      const row: RunnerRow = {
        id: newId('rnr'),
        name: input.name,
        pools,
        principal,
        registered_at: now,
        last_seen_at: now,
      };
      await this.deps.store.insert(tx, row);
      record({
        action: 'runners.runner.registered',
        resource: { type: 'runner', id: row.id },
        details: { name: row.name, pools: input.pools },
      });
      return toView(row);
    });
  }

  async lease(
    ctx: RequestContext,
    input: { runnerId: string; waitMs: number },
  ): Promise<JobPayload | undefined> {
    const db = this.deps.database.db;
    const runner = await this.deps.store.get(db, input.runnerId);
    if (!runner || runner.principal !== principalOf(ctx.actor))
      throw new DomainError(runnerErrors.RUNNERS_RUNNER_NOT_FOUND);
    await this.deps.store.touch(db, runner.id, this.deps.clock.now().toISOString());
    return this.deps.engine.leasing.leaseWait(ctx, {
      runnerId: runner.id,
      pools: JSON.parse(runner.pools) as string[],
      waitMs: input.waitMs,
    });
  }

  async list(page: PageRequest = firstPage): Promise<PageOf<RunnerView>> {
    const rows = await this.deps.store.list(this.deps.database.db, page);
    return { items: rows.items.map(toView), next: rows.next };
  }
}
