import type { Kysely } from 'kysely';
import type { AnyTx, DialectName } from '../../platform/db/database.ts';
import type { IdentityTables, LoginThrottleTable } from './identity-tables.ts';

const k = (db: AnyTx) => db as unknown as Kysely<IdentityTables>;

export type ThrottleRow = LoginThrottleTable;

export class KyselyLoginThrottleStore {
  constructor(private readonly dialect: DialectName) {}

  // The rows of these keys, created if missing and locked until the transaction ends (SQLite
  // transactions are serialized already), so concurrent attempts on other replicas queue.
  async lock(tx: AnyTx, keys: readonly string[]): Promise<ThrottleRow[]> {
    await k(tx)
      .insertInto('identity_login_throttle')
      .values(keys.map((key) => ({ key, failures: 0, last_failure_at: null, locked_until: null })))
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const q = k(tx)
      .selectFrom('identity_login_throttle')
      .selectAll()
      .where('key', 'in', [...keys])
      .orderBy('key');
    const rows = await (this.dialect === 'postgres' ? q.forUpdate() : q).execute();
    return keys.map((key) => rows.find((r) => r.key === key)!);
  }

  async save(tx: AnyTx, row: ThrottleRow): Promise<void> {
    const { key, ...rest } = row;
    await k(tx).updateTable('identity_login_throttle').set(rest).where('key', '=', key).execute();
  }

  // Forgets keys with nothing left to remember (no lock in force, last failure long ago).
  async prune(tx: AnyTx, now: string, forgottenBefore: string): Promise<void> {
    await k(tx)
      .deleteFrom('identity_login_throttle')
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .where((eb) =>
        eb.or([eb('last_failure_at', 'is', null), eb('last_failure_at', '<', forgottenBefore)]),
      )
      .execute();
  }
}
