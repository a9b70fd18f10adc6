import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { Sealer } from '../../platform/crypto/sealer.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { ProjectService } from '../projects/index.ts';
import { secretErrors } from './errors.ts';
import { SecretMasker } from '@custody/masking';
import { secretPermissions as P } from './permissions.ts';
import { releasableRows, type ReleaseRequest } from './secret-release.ts';
import { SecretChanges } from './secret-changes.ts';
import type { KyselySecretChangeStore, SecretChangeRow } from './secret-change-store.ts';
import { secretContext, secretId } from './secret-names.ts';
import { productionReach } from './secret-reach.ts';
import type { KyselySecretStore, SecretKey, SecretRow } from './secret-store.ts';

export interface SecretVersionView {
  version: number;
  pools: string[];
  updatedBy: string;
  updatedAt: string;
  // The request a second person approved to put it in force (null: it took effect at once).
  approval: string | null;
  approvedBy: string | null;
}

export interface PendingSecretView {
  version: number;
  pools: string[];
  author: string;
  createdAt: string;
  approval: string;
  // The production environments (`project/env`) that make it wait for a second person.
  reaches: string[];
}

// A secret as listed: the version jobs receive, and the one waiting for approval, if any.
export interface SecretView {
  project: string;
  environment: string | null;
  name: string;
  inForce: SecretVersionView | null;
  pending: PendingSecretView | null;
}

// What setting a secret did: the version written is in force, or waits for `approval`.
export interface SecretSetResult extends SecretView {
  version: number;
  state: 'in-force' | 'pending';
  approval: string | null;
}

const inForceView = (r: SecretRow): SecretVersionView => ({
  version: r.version,
  pools: JSON.parse(r.pools) as string[],
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
  approval: r.approval_id,
  approvedBy: r.approved_by,
});

const pendingView = (c: SecretChangeRow): PendingSecretView => ({
  version: c.version,
  pools: JSON.parse(c.pools) as string[],
  author: c.author,
  createdAt: c.created_at,
  approval: c.approval_id,
  reaches: (JSON.parse(c.reaches) as string[]).map((e) => `${c.project}/${e}`),
});

const viewOf = (
  key: SecretKey,
  inForce: SecretRow | undefined,
  pending: SecretChangeRow | undefined,
): SecretView => ({
  project: key.project,
  environment: key.environment || null,
  name: key.name,
  inForce: inForce ? inForceView(inForce) : null,
  pending: pending ? pendingView(pending) : null,
});

export { secretContext, secretId };

// Platform secrets are never job secrets (they have their own stores and commands); the
// runner sets CUSTODY_* itself.
export const platformSecretNames = ['GITHUB_WEBHOOK_SECRET', 'GITLAB_WEBHOOK_TOKEN'] as const;
const reserved = (name: string) =>
  name.startsWith('CUSTODY_') || (platformSecretNames as readonly string[]).includes(name);

// Write-only secrets, sealed under the deployment's sealing key. Values leave the server only
// inside the lease of a job whose step names them, of matching scope and pool, and each such
// release is an audit entry in the lease's transaction.
export class SecretService {
  private readonly maskers = new Map<string, { versions: string; masker: SecretMasker }>();

  private readonly changes: SecretChanges;

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselySecretStore;
      changeStore: KyselySecretChangeStore;
      clock: Clock;
      projects: ProjectService;
      sealer: Sealer;
      approvals: ApprovalService;
    },
  ) {
    this.changes = new SecretChanges({
      database: deps.database,
      changes: deps.changeStore,
      secrets: deps.store,
      approvals: deps.approvals,
      sealer: deps.sealer,
      clock: deps.clock,
      reachOf: (key, pools, tx) => this.reachOf(key, pools, tx),
    });
  }

  // A version whose scope reaches production (secret-reach.ts) waits for a second person; the
  // platform's own changes (actor `system`) and everything outside production take effect at
  // once. Either way a newer version withdraws the one still waiting.
  async set(
    ctx: RequestContext,
    input: {
      project: string;
      environment?: string | undefined;
      name: string;
      value: string;
      pools?: string[] | undefined;
    },
  ): Promise<SecretSetResult> {
    const key = { project: input.project, environment: input.environment ?? '', name: input.name };
    await this.checkInput(ctx, key, input.pools ?? []);
    const pools = input.pools ?? [];
    return this.deps.uow.run(ctx, async (tx, record) => {
      const prev = await this.deps.store.get(tx, key.project, key.environment, key.name);
      const version =
        Math.max(prev?.version ?? 0, await this.deps.changeStore.newestVersion(tx, key)) + 1;
      await this.changes.withdrawPending(tx, ctx, record, key, version);
      const reaches = await this.reachOf(key, pools, tx);
      // The platform's own changes take effect at once: no person to ask.
      if (reaches.length && ctx.actor.type !== 'system') {
        const approval = await this.changes.open(tx, ctx, record, {
          key,
          version,
          value: input.value,
          pools,
          reaches,
          inForceVersion: prev?.version ?? null,
        });
        const pending = await this.changes.pendingOf(tx, key);
        return { ...viewOf(key, prev, pending), version, state: 'pending', approval };
      }
      const row: SecretRow = {
        ...key,
        version,
        pools: JSON.stringify(pools),
        sealed: this.deps.sealer.seal(input.value, secretContext(key)),
        updated_by: principalOf(ctx.actor),
        updated_at: this.deps.clock.now().toISOString(),
        approval_id: null,
        approved_by: null,
      };
      await this.deps.store.upsert(tx, row);
      // Names, scope and version only: the value is never part of the audit trail.
      record({
        action: prev ? 'secrets.secret.updated' : 'secrets.secret.created',
        resource: { type: 'secret', id: secretId(key) },
        details: {
          version,
          pools,
          keyId: this.deps.sealer.currentKeyId,
          ...(reaches.length
            ? {
                governed: {
                  because: `reaches production (${reaches.map((e) => `${key.project}/${e}`).join(', ')})`,
                  tookEffect: 'at once: set by the platform itself',
                },
              }
            : {}),
        },
      });
      return { ...viewOf(key, row, undefined), version, state: 'in-force', approval: null };
    });
  }

  private async checkInput(
    ctx: RequestContext,
    key: SecretKey,
    pools: readonly string[],
  ): Promise<void> {
    const scope = {
      project: key.project,
      ...(key.environment ? { environment: key.environment } : {}),
    };
    await ctx.guard.require(P['secrets.secret.write'], scope, {
      type: 'secret',
      id: secretId(key),
    });
    if (!/^[A-Z_][A-Z0-9_]{0,127}$/.test(key.name))
      throw new DomainError(secretErrors.SECRETS_NAME_INVALID);
    if (reserved(key.name))
      throw new DomainError(secretErrors.SECRETS_NAME_RESERVED, `${key.name} is reserved`);
    if (!(await this.deps.projects.projectExists(key.project)))
      throw new DomainError(
        secretErrors.SECRETS_PROJECT_NOT_FOUND,
        `project ${key.project} does not exist`,
      );
    if (!key.environment) return;
    const env = await this.deps.projects.environment(key.project, key.environment);
    if (!env)
      throw new DomainError(
        secretErrors.SECRETS_PROJECT_NOT_FOUND,
        `environment ${key.environment} does not exist`,
      );
    const pool = env.spec.runnerPool ?? 'default';
    if (pools.length && !pools.includes(pool))
      throw new DomainError(
        secretErrors.SECRETS_POOL_OUTSIDE_ENVIRONMENT,
        `environment ${key.environment} runs in pool ${pool}`,
      );
  }

  // The production environments a version of this secret reaches, from the environments in force.
  private async reachOf(key: SecretKey, pools: readonly string[], tx?: AnyTx): Promise<string[]> {
    const environments = await this.deps.projects.environments(key.project, tx);
    return productionReach(
      { environment: key.environment, pools },
      environments.map((e) => ({
        name: e.name,
        type: e.type,
        pool: e.spec.runnerPool ?? 'default',
      })),
    );
  }

  async list(project: string, page: PageRequest = firstPage): Promise<PageOf<SecretView>> {
    const db = this.deps.database.db;
    const keys = await this.deps.store.listPage(db, project, page);
    const names = [...new Set(keys.items.map((k) => k.name))];
    const inForce = await this.deps.store.ofNames(db, project, names);
    const pending = await this.deps.changeStore.pendingNamed(db, project, names);
    const same = (k: Pick<SecretRow, 'environment' | 'name'>) => (r: SecretKey) =>
      r.environment === k.environment && r.name === k.name;
    return {
      items: keys.items.map((k) =>
        viewOf({ project, ...k }, inForce.find(same(k)), pending.filter(same(k)).at(-1)),
      ),
      next: keys.next,
    };
  }

  /**
   * For the lease, inside its transaction: opens the secrets each step names that the job may
   * hold, records each release (name, version, job, runner, pool; never the value) and each
   * refusal, and returns the values step by step.
   */
  async release(
    tx: AnyTx,
    record: RecordAudit,
    req: ReleaseRequest,
  ): Promise<Record<string, string>[]> {
    const names = [...new Set(req.steps.flatMap((s) => s.secrets))];
    const out = req.steps.map(() => ({}) as Record<string, string>);
    if (names.length === 0) return out;
    const envPool = req.environment
      ? ((await this.deps.projects.environment(req.project, req.environment, tx))?.spec
          .runnerPool ?? 'default')
      : undefined;
    const rows = await this.deps.store.named(
      tx,
      req.project,
      req.environment ? [req.environment] : [],
      names,
    );
    const job = {
      job: req.job,
      run: req.run,
      attempt: req.attempt,
      runner: req.runner,
      pool: req.pool,
    };
    for (const d of releasableRows(req, rows, envPool)) {
      const steps = req.steps.filter((s) => s.secrets.includes(d.name)).map((s) => s.name);
      const withheld = (code: string, environment: string, extra: object = {}) =>
        record({
          action: 'secrets.secret.withheld',
          resource: { type: 'secret', id: secretId({ ...req, environment, name: d.name }) },
          outcome: 'denied',
          details: { code, ...job, environment: req.environment, steps, ...extra },
        });
      if (d.kind === 'withheld') {
        // A secret whose first version waits for a second person: say so, not "unknown".
        const waiting =
          d.code === 'SECRETS_NOT_IN_SCOPE' ? await this.waitingFor(tx, req, d.name) : undefined;
        if (waiting)
          withheld('SECRETS_VERSION_PENDING', waiting.environment, {
            version: waiting.version,
            approval: waiting.approval_id,
          });
        else withheld(d.code, d.environment);
        continue;
      }
      // A value that does not open (altered, or copied from another row) is withheld, never
      // guessed at; the job runs without it and the refusal is on the record.
      let value: string;
      try {
        value = this.deps.sealer.open(d.row.sealed, secretContext(d.row));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        withheld(err.code, d.row.environment);
        continue;
      }
      req.steps.forEach((s, i) => {
        if (s.secrets.includes(d.name)) out[i]![d.name] = value;
      });
      record({
        action: 'secrets.secret.released',
        resource: { type: 'secret', id: secretId(d.row) },
        details: {
          version: d.row.version,
          scope: d.row.environment ? 'environment' : 'project',
          ...job,
          environment: req.environment,
          steps,
        },
      });
    }
    return out;
  }

  // The version waiting for approval a job of this scope would get once approved, if any.
  private async waitingFor(
    tx: AnyTx,
    req: ReleaseRequest,
    name: string,
  ): Promise<SecretChangeRow | undefined> {
    const rows = await this.deps.changeStore.pendingNamed(tx, req.project, [name]);
    return (
      rows.find((r) => req.environment !== null && r.environment === req.environment) ??
      rows.find((r) => r.environment === '')
    );
  }

  /**
   * For the server's log masking: every secret a job of this project and environment could
   * hold (a superset of what it was given), cached until a version changes.
   */
  async masker(input: { project: string; environment: string | null }): Promise<SecretMasker> {
    const db = this.deps.database.db;
    const env = input.environment ?? '';
    const versions = await this.deps.store.versions(db, input.project, env);
    const fingerprint = versions.map((v) => `${v.environment}/${v.name}@${v.version}`).join(',');
    const cacheKey = `${input.project}\0${env}`;
    const cached = this.maskers.get(cacheKey);
    if (cached && cached.versions === fingerprint) return cached.masker;
    const rows = (await this.deps.store.ofProject(db, input.project)).filter(
      (r) => r.environment === '' || r.environment === env,
    );
    const values: string[] = [];
    for (const r of rows) {
      // A value that does not open was never released, so there is nothing of it to mask.
      try {
        values.push(this.deps.sealer.open(r.sealed, secretContext(r)));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
      }
    }
    const masker = new SecretMasker(values);
    if (this.maskers.size > 1000) this.maskers.clear();
    this.maskers.set(cacheKey, { versions: fingerprint, masker });
    return masker;
  }

  /**
   * Moves project secrets that are really platform secrets (webhook secrets set as project
   * secrets before they had a store of their own) out of the job secrets, in the caller's
   * transaction. Returns their values for the store that owns them now.
   */
  async takePlatformSecrets(
    tx: AnyTx,
    record: RecordAudit,
  ): Promise<{ project: string; name: string; value: string }[]> {
    const rows = await this.deps.store.take(tx, platformSecretNames);
    return rows.map((r) => {
      record({
        action: 'secrets.secret.moved',
        resource: { type: 'secret', id: secretId(r) },
        details: { version: r.version, reason: 'platform secret: never a job secret' },
      });
      return {
        project: r.project,
        name: r.name,
        value: this.deps.sealer.open(r.sealed, secretContext(r)),
      };
    });
  }

  async hasPlatformSecrets(): Promise<boolean> {
    return this.deps.store.anyNamed(this.deps.database.db, platformSecretNames);
  }
}
