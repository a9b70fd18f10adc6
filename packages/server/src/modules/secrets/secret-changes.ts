import { createHash } from 'node:crypto';
import { canonicalJson } from '@custody/ledger';
import type { Clock } from '../../platform/clock.ts';
import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { Sealer } from '../../platform/crypto/sealer.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { accountablePrincipal } from '../../platform/four-eyes.ts';
import type { ApprovalService, ApprovalView } from '../approvals/index.ts';
import { secretErrors } from './errors.ts';
import type { KyselySecretChangeStore, SecretChangeRow } from './secret-change-store.ts';
import { secretContext, secretId } from './secret-names.ts';
import type { KyselySecretStore, SecretKey } from './secret-store.ts';

// The approval subject of a secret version waiting for a second person.
export const secretSubjectType = 'secret-version';
export const secretSubjectId = (key: SecretKey, version: number) => `${secretId(key)}@${version}`;

/** What a waiting value is sealed to: only this version of this secret, never the row in force. */
export const pendingContext = (key: SecretKey, version: number) =>
  `secrets-pending/${key.project}/${key.environment}/${key.name}@${version}`;

const sha256 = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

// What the approval is bound to: name, scope, version, pools and the digest of the value as
// sealed when it was set; never the value. An auditor recomputes it from the audit details.
export function secretVersionHash(input: {
  project: string;
  environment: string;
  name: string;
  version: number;
  pools: readonly string[];
  sealedDigest: string;
}): string {
  return sha256(
    canonicalJson({
      kind: 'secret-version',
      project: input.project,
      environment: input.environment || null,
      name: input.name,
      version: input.version,
      pools: [...input.pools],
      sealedDigest: input.sealedDigest,
    }),
  );
}

const hashOf = (row: SecretChangeRow) =>
  secretVersionHash({
    ...row,
    pools: JSON.parse(row.pools) as string[],
    sealedDigest: row.sealed_digest,
  });

// Four-eyes for secrets whose scope reaches production (secret-reach.ts): the new version waits,
// sealed to itself, bound by hash to an approval request its author (and any service account,
// delegated token or sock puppet: the approvals module refuses them) can never decide. Approval
// puts it in force in the decision's transaction; rejection closes it; a newer version
// withdraws it. Jobs keep receiving the version in force meanwhile.
export class SecretChanges {
  constructor(
    private readonly deps: {
      database: Database;
      changes: KyselySecretChangeStore;
      secrets: KyselySecretStore;
      approvals: ApprovalService;
      sealer: Sealer;
      clock: Clock;
      // The production environments a secret reaches now (for deciding, inside its tx).
      reachOf: (key: SecretKey, pools: readonly string[], tx?: AnyTx) => Promise<string[]>;
    },
  ) {
    deps.approvals.onDecided(secretSubjectType, (tx, decided, ctx, record) =>
      this.decided(tx, decided, ctx, record),
    );
    deps.approvals.onAuthorize(secretSubjectType, (ctx, request, permission) =>
      this.authorize(ctx, request, permission),
    );
  }

  /** Stores the version as pending and opens its approval request; returns the request id. */
  async open(
    tx: AnyTx,
    ctx: RequestContext,
    record: RecordAudit,
    input: {
      key: SecretKey;
      version: number;
      value: string;
      pools: readonly string[];
      reaches: readonly string[];
      inForceVersion: number | null;
    },
  ): Promise<string> {
    const { key, version, pools, reaches } = input;
    const sealed = this.deps.sealer.seal(input.value, pendingContext(key, version));
    const sealedDigest = sha256(sealed);
    const hash = secretVersionHash({ ...key, version, pools, sealedDigest });
    const author = accountablePrincipal(ctx.actor);
    const at = this.deps.clock.now().toISOString();
    const approval = await this.deps.approvals.requestInTx(tx, ctx, {
      subjectType: secretSubjectType,
      subjectId: secretSubjectId(key, version),
      subjectHash: hash,
      project: key.project,
      environment: key.environment || undefined,
      summary: summaryOf({
        key,
        version,
        pools,
        reaches,
        author,
        at,
        inForce: input.inForceVersion,
      }),
      author,
    });
    await this.deps.changes.insert(tx, {
      ...key,
      version,
      pools: JSON.stringify(pools),
      sealed,
      sealed_digest: sealedDigest,
      content_hash: hash,
      reaches: JSON.stringify(reaches),
      author,
      approval_id: approval,
      state: 'pending',
      created_at: at,
      closed_by: null,
      closed_at: null,
      close_reason: null,
    });
    // Everything the hash is made of, so the approval can be checked; never the value.
    record({
      action: 'secrets.secret.change-pending',
      resource: { type: 'secret', id: secretId(key) },
      details: {
        version,
        scope: key.environment ? 'environment' : 'project',
        pools: [...pools],
        reaches: reaches.map((e) => `${key.project}/${e}`),
        approval,
        author,
        inForceVersion: input.inForceVersion,
        sealedDigest,
        subjectHash: hash,
        keyId: this.deps.sealer.currentKeyId,
      },
    });
    return approval;
  }

  // A newer version replaces every version still waiting: their requests are closed, so a
  // stale approval can never put an older value in force over a newer one.
  async withdrawPending(
    tx: AnyTx,
    ctx: RequestContext,
    record: RecordAudit,
    key: SecretKey,
    newer: number,
  ): Promise<void> {
    for (const waiting of await this.deps.changes.pending(tx, key)) {
      const reason = `superseded by version ${newer}`;
      const closed = await this.deps.changes.close(tx, waiting.approval_id, {
        state: 'withdrawn',
        by: principalOf(ctx.actor),
        at: this.deps.clock.now().toISOString(),
        reason,
      });
      if (!closed) continue;
      await this.deps.approvals.withdrawInTx(tx, ctx, waiting.approval_id, reason);
      record({
        action: 'secrets.secret.change-withdrawn',
        resource: { type: 'secret', id: secretId(key) },
        details: {
          version: waiting.version,
          approval: waiting.approval_id,
          author: waiting.author,
          supersededBy: newer,
        },
      });
    }
  }

  async pendingOf(tx: AnyTx, key: SecretKey): Promise<SecretChangeRow | undefined> {
    return (await this.deps.changes.pending(tx, key)).at(-1);
  }

  // Deciding needs the permission at every production environment the version reaches, so a
  // deny on `project:P/environment:prod` is not bypassed by an allow on the project.
  private async authorize(
    ctx: RequestContext,
    request: ApprovalView,
    permission: string,
  ): Promise<void> {
    const change = await this.deps.changes.byApproval(this.deps.database.db, request.id);
    if (!change) return;
    const recorded = JSON.parse(change.reaches) as string[];
    const now = await this.deps.reachOf(change, JSON.parse(change.pools) as string[]);
    for (const environment of new Set([...recorded, ...now]))
      await ctx.guard.require(
        permission,
        { project: change.project, environment },
        { type: 'approval', id: request.id },
      );
  }

  private async decided(
    tx: AnyTx,
    decided: ApprovalView,
    ctx: RequestContext,
    record: RecordAudit,
  ): Promise<void> {
    const change = await this.deps.changes.byApproval(tx, decided.id);
    // The row must still say what the approver was shown: a DBA who edits its name, scope,
    // pools, version or digest breaks the hash, and nothing is decided.
    if (
      !change ||
      change.state !== 'pending' ||
      change.content_hash !== decided.subject.hash ||
      hashOf(change) !== decided.subject.hash
    )
      throw new DomainError(
        secretErrors.SECRETS_CHANGE_NOT_PENDING,
        `approval ${decided.id} does not belong to a secret version waiting for approval`,
      );
    const approved = decided.state === 'approved';
    const by = principalOf(ctx.actor);
    const at = decided.decidedAt ?? this.deps.clock.now().toISOString();
    const sealed = change.sealed;
    const closed = await this.deps.changes.close(tx, change.approval_id, {
      state: approved ? 'applied' : 'rejected',
      by,
      at,
      reason: decided.reason,
    });
    if (!closed || sealed === null)
      throw new DomainError(
        secretErrors.SECRETS_CHANGE_NOT_PENDING,
        `version ${change.version} of secret ${secretId(change)} is ${change.state}`,
      );
    if (approved) await this.putInForce(tx, change, sealed, by);
    record({
      action: approved ? 'secrets.secret.change-applied' : 'secrets.secret.change-rejected',
      resource: { type: 'secret', id: secretId(change) },
      details: {
        version: change.version,
        approval: change.approval_id,
        author: change.author,
        decidedBy: by,
        ...(decided.reason ? { reason: decided.reason } : {}),
        ...(approved ? { keyId: this.deps.sealer.currentKeyId } : {}),
      },
    });
  }

  // The approved value replaces the one in force: opened from its own context (a value that
  // does not open refuses the decision) and sealed to the secret's row, which jobs read.
  private async putInForce(
    tx: AnyTx,
    change: SecretChangeRow,
    sealed: string,
    approvedBy: string,
  ): Promise<void> {
    const value = this.deps.sealer.open(sealed, pendingContext(change, change.version));
    const inForce = await this.deps.secrets.get(
      tx,
      change.project,
      change.environment,
      change.name,
    );
    if (inForce && inForce.version >= change.version)
      throw new DomainError(
        secretErrors.SECRETS_CHANGE_NOT_PENDING,
        `version ${inForce.version} of secret ${secretId(change)} is in force already`,
      );
    await this.deps.secrets.upsert(tx, {
      project: change.project,
      environment: change.environment,
      name: change.name,
      version: change.version,
      pools: change.pools,
      sealed: this.deps.sealer.seal(value, secretContext(change)),
      updated_by: change.author,
      updated_at: change.created_at,
      approval_id: change.approval_id,
      approved_by: approvedBy,
    });
  }
}

function summaryOf(input: {
  key: SecretKey;
  version: number;
  pools: readonly string[];
  reaches: readonly string[];
  author: string;
  at: string;
  inForce: number | null;
}): string {
  const { key } = input;
  const scope = key.environment
    ? `secret of environment ${key.project}/${key.environment}`
    : `project-wide secret of ${key.project}`;
  const pools = input.pools.length
    ? `pools ${input.pools.join(', ')}`
    : key.environment
      ? "the environment's pool"
      : 'every pool';
  const reaches = input.reaches.map((e) => `${key.project}/${e}`).join(', ');
  const meanwhile =
    input.inForce === null
      ? 'Jobs receive no value for it'
      : `Version ${input.inForce} stays in force`;
  return `${key.name}: new version ${input.version} of the ${scope} (${pools}), set by ${input.author} at ${input.at}; it reaches production (${reaches}). ${meanwhile} until a second person approves. The value is never shown.`;
}
