import type { Clock } from '../../platform/clock.ts';
import type { AuditRecord, RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { AuditAppender } from '../../platform/db/unit-of-work.ts';
import { DomainError, type ErrorDefinition } from '../../platform/errors.ts';
import { identityErrors } from './errors.ts';
import type { KyselyLoginThrottleStore, ThrottleRow } from './login-throttle-store.ts';

// Password guessing is slowed per user name and per source address: after `delayAfter`
// failures each attempt must wait a doubling delay after the last failure, and at `lockAfter`
// failures logins are refused for `lockMs`, the right password included. Names are throttled
// whether or not such a user exists, so the answers reveal nothing about who has an account.
// The state is in the database, so every replica sees the same counts.
export interface ThrottlePolicy {
  readonly delayAfter: number;
  readonly lockAfter: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly lockMs: number;
  // Failures older than this (with no lock in force) are forgotten.
  readonly forgetAfterMs: number;
}

const minute = 60_000;
export const nameThrottle: ThrottlePolicy = {
  delayAfter: 5,
  lockAfter: 10,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  lockMs: 15 * minute,
  forgetAfterMs: 15 * minute,
};
// Looser: many people may share an address (an office NAT, a proxy).
export const addressThrottle: ThrottlePolicy = {
  delayAfter: 10,
  lockAfter: 30,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  lockMs: 15 * minute,
  forgetAfterMs: 15 * minute,
};

export interface ThrottleKey {
  readonly key: string;
  readonly resource: { type: 'user' | 'address'; id: string };
  readonly policy: ThrottlePolicy;
}

export function throttleKeys(name: string, ip: string): ThrottleKey[] {
  const lower = name.toLowerCase();
  return [
    { key: `name:${lower}`, resource: { type: 'user', id: lower }, policy: nameThrottle },
    { key: `address:${ip}`, resource: { type: 'address', id: ip }, policy: addressThrottle },
  ];
}

type Verdict =
  { kind: 'open' } | { kind: 'delayed'; until: number } | { kind: 'locked'; until: number };

function fresh(row: ThrottleRow, policy: ThrottlePolicy, now: number): ThrottleRow {
  const lockedUntil = row.locked_until ? Date.parse(row.locked_until) : undefined;
  const last = row.last_failure_at ? Date.parse(row.last_failure_at) : undefined;
  const expired = lockedUntil !== undefined && now >= lockedUntil;
  const forgotten =
    lockedUntil === undefined && last !== undefined && now - last >= policy.forgetAfterMs;
  return expired || forgotten
    ? { key: row.key, failures: 0, last_failure_at: null, locked_until: null }
    : row;
}

function verdictOf(row: ThrottleRow, policy: ThrottlePolicy, now: number): Verdict {
  if (row.locked_until) return { kind: 'locked', until: Date.parse(row.locked_until) };
  if (row.failures < policy.delayAfter) return { kind: 'open' };
  const last = row.last_failure_at ? Date.parse(row.last_failure_at) : now;
  const steps = Math.min(row.failures - policy.delayAfter, 30);
  const until = last + Math.min(policy.baseDelayMs * 2 ** steps, policy.maxDelayMs);
  // At the lock threshold without a lock (attempts still in flight): wait for their outcome.
  if (row.failures >= policy.lockAfter || now < until) return { kind: 'delayed', until };
  return { kind: 'open' };
}

const pruneEvery = 100;

export class LoginThrottle {
  private admissions = 0;

  constructor(
    private readonly deps: {
      database: Database;
      audit: AuditAppender;
      store: KyselyLoginThrottleStore;
      clock: Clock;
    },
  ) {}

  // Lets an attempt through, reserving it as a failure until the password proves right (so
  // parallel guesses cannot all slip past one check), or refuses it: audited, then thrown.
  // The reservation is bookkeeping, like a token's last use; the attempt's outcome is audited.
  async admit(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    keys: ThrottleKey[],
  ): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const refusal = await this.deps.database.db.transaction().execute(async (tx) => {
      if (++this.admissions % pruneEvery === 0)
        await this.deps.store.prune(
          tx,
          new Date(now).toISOString(),
          new Date(now - nameThrottle.forgetAfterMs).toISOString(),
        );
      const rows = (
        await this.deps.store.lock(
          tx,
          keys.map((k) => k.key),
        )
      ).map((r, i) => fresh(r, keys[i]!.policy, now));
      const verdicts = rows.map((r, i) => verdictOf(r, keys[i]!.policy, now));
      const refused = verdicts.some((v) => v.kind !== 'open');
      const records: AuditRecord[] = [];
      let until = 0;
      for (const [i, row] of rows.entries()) {
        const verdict = verdicts[i]!;
        const policy = keys[i]!.policy;
        // A lock runs its course unextended; any other refusal counts as a failure.
        if (verdict.kind === 'locked') {
          until = Math.max(until, verdict.until);
          continue;
        }
        let next: ThrottleRow = {
          ...row,
          failures: row.failures + 1,
          last_failure_at: new Date(now).toISOString(),
        };
        if (refused && next.failures >= policy.lockAfter)
          next = this.lock(next, keys[i]!, now, records);
        await this.deps.store.save(tx, next);
        // When to come back, counting this refusal.
        const after = verdictOf(next, policy, now);
        if (after.kind !== 'open') until = Math.max(until, after.until);
      }
      if (!refused) return undefined;
      const def =
        verdicts.some((v) => v.kind === 'locked') || records.length > 0
          ? identityErrors.AUTH_LOGIN_LOCKED
          : identityErrors.AUTH_LOGIN_THROTTLED;
      const retryAfter = new Date(until).toISOString();
      await this.append(tx, ctx, [deniedRecord(keys, def, retryAfter), ...records]);
      return { def, retryAfter };
    });
    if (refusal) throw new DomainError(refusal.def, undefined, { retryAfter: refusal.retryAfter });
  }

  // The password was wrong: the reserved failure stands; keys at their limit lock now.
  async failed(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    keys: ThrottleKey[],
    denied: AuditRecord,
  ): Promise<void> {
    const now = this.deps.clock.now().getTime();
    await this.deps.database.db.transaction().execute(async (tx) => {
      const rows = await this.deps.store.lock(
        tx,
        keys.map((k) => k.key),
      );
      const records: AuditRecord[] = [denied];
      for (const [i, row] of rows.entries()) {
        const key = keys[i]!;
        if (row.locked_until || row.failures < key.policy.lockAfter) continue;
        await this.deps.store.save(tx, this.lock(row, key, now, records));
      }
      await this.append(tx, ctx, records);
    });
  }

  // The password was right (inside the session's transaction): the name's failures are
  // forgotten; the address gets back the attempt reserved for this login.
  async succeeded(tx: AnyTx, keys: ThrottleKey[]): Promise<void> {
    const rows = await this.deps.store.lock(
      tx,
      keys.map((k) => k.key),
    );
    for (const [i, row] of rows.entries()) {
      const reset = keys[i]!.resource.type === 'user';
      await this.deps.store.save(tx, {
        ...row,
        failures: reset ? 0 : Math.max(row.failures - 1, 0),
        ...(reset ? { last_failure_at: null } : {}),
      });
    }
  }

  private lock(
    row: ThrottleRow,
    key: ThrottleKey,
    now: number,
    records: AuditRecord[],
  ): ThrottleRow {
    const until = new Date(now + key.policy.lockMs).toISOString();
    records.push({
      action: 'identity.session.locked',
      resource: key.resource,
      outcome: 'denied',
      details: { code: identityErrors.AUTH_LOGIN_LOCKED.code, failures: row.failures, until },
    });
    return { ...row, locked_until: until };
  }

  private async append(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    records: AuditRecord[],
  ): Promise<void> {
    if (this.deps.audit.appendAll) await this.deps.audit.appendAll(tx, ctx, records);
    else for (const r of records) await this.deps.audit.append(tx, ctx, r);
  }
}

function deniedRecord(keys: ThrottleKey[], def: ErrorDefinition, retryAfter: string): AuditRecord {
  return {
    action: 'identity.session.denied',
    resource: keys[0]!.resource,
    outcome: 'denied',
    details: { code: def.code, retryAfter },
  };
}
