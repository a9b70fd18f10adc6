import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { SecretKey } from './secret-store.ts';

export type SecretChangeState = 'pending' | 'applied' | 'rejected' | 'withdrawn';

// A version of a secret waiting for (or closed by) a second person's decision.
export interface SecretChangeRow {
  project: string;
  environment: string; // '' = project-wide
  name: string;
  version: number;
  pools: string;
  // Sealed under the version's own context; null once decided or withdrawn.
  sealed: string | null;
  // sha256 of the sealed value as it was set: part of the approval's subject hash.
  sealed_digest: string;
  content_hash: string;
  // JSON: the production environments the version reaches.
  reaches: string;
  author: string;
  approval_id: string;
  state: SecretChangeState;
  created_at: string;
  closed_by: string | null;
  closed_at: string | null;
  close_reason: string | null;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<{ secret_changes: SecretChangeRow }>;

export class KyselySecretChangeStore {
  async insert(db: Db, row: SecretChangeRow): Promise<void> {
    await k(db).insertInto('secret_changes').values(row).execute();
  }

  async byApproval(db: Db, approval: string): Promise<SecretChangeRow | undefined> {
    return k(db)
      .selectFrom('secret_changes')
      .selectAll()
      .where('approval_id', '=', approval)
      .executeTakeFirst();
  }

  async pending(db: Db, key: SecretKey): Promise<SecretChangeRow[]> {
    return k(db)
      .selectFrom('secret_changes')
      .selectAll()
      .where('project', '=', key.project)
      .where('environment', '=', key.environment)
      .where('name', '=', key.name)
      .where('state', '=', 'pending')
      .orderBy('version')
      .execute();
  }

  /** The pending versions of the named secrets of a project (for listings). */
  async pendingNamed(
    db: Db,
    project: string,
    names: readonly string[],
  ): Promise<SecretChangeRow[]> {
    if (names.length === 0) return [];
    return k(db)
      .selectFrom('secret_changes')
      .selectAll()
      .where('project', '=', project)
      .where('state', '=', 'pending')
      .where('name', 'in', [...names])
      .execute();
  }

  /** The highest version number ever given to the secret here (0 when none). */
  async newestVersion(db: Db, key: SecretKey): Promise<number> {
    const r = await k(db)
      .selectFrom('secret_changes')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('project', '=', key.project)
      .where('environment', '=', key.environment)
      .where('name', '=', key.name)
      .executeTakeFirst();
    return Number(r?.v ?? 0);
  }

  // Conditional on `pending`, so a decision and a withdrawal cannot both win. The sealed value
  // goes with the close: an applied one now lives in `secrets`, a refused one nowhere.
  async close(
    db: Db,
    approval: string,
    next: {
      state: Exclude<SecretChangeState, 'pending'>;
      by: string;
      at: string;
      reason: string | null;
    },
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('secret_changes')
      .set({
        state: next.state,
        sealed: null,
        closed_by: next.by,
        closed_at: next.at,
        close_reason: next.reason,
      })
      .where('approval_id', '=', approval)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Every value still sealed (pending versions), for the sealing check and `reseal`. */
  async sealed(db: Db): Promise<(SecretChangeRow & { sealed: string })[]> {
    const rows = await k(db)
      .selectFrom('secret_changes')
      .selectAll()
      .where('state', '=', 'pending')
      .where('sealed', 'is not', null)
      .execute();
    return rows as (SecretChangeRow & { sealed: string })[];
  }

  async replaceSealed(
    db: Db,
    key: SecretKey & { version: number },
    from: string,
    to: string,
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('secret_changes')
      .set({ sealed: to })
      .where('project', '=', key.project)
      .where('environment', '=', key.environment)
      .where('name', '=', key.name)
      .where('version', '=', key.version)
      .where('state', '=', 'pending')
      .where('sealed', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
