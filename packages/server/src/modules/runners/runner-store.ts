import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface RunnerRow {
  id: string;
  name: string;
  pools: string;
  principal: string;
  registered_at: string;
  last_seen_at: string;
}

interface RunnerTables {
  runners: RunnerRow;
  runner_grants: { principal: string; pools: string; created_at: string };
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<RunnerTables>;
const newestFirst: KeyColumn<RunnerRow>[] = [
  { column: 'registered_at', type: 'string', desc: true, value: (r) => r.registered_at },
  { column: 'id', type: 'string', value: (r) => r.id },
];

export class KyselyRunnerStore {
  async insert(db: Db, row: RunnerRow): Promise<void> {
    await k(db).insertInto('runners').values(row).execute();
  }

  async get(db: Db, id: string): Promise<RunnerRow | undefined> {
    return k(db).selectFrom('runners').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // The registration a principal made under this name before, if any (the newest).
  async findByName(db: Db, principal: string, name: string): Promise<RunnerRow | undefined> {
    return k(db)
      .selectFrom('runners')
      .selectAll()
      .where('principal', '=', principal)
      .where('name', '=', name)
      .orderBy('registered_at', 'desc')
      .executeTakeFirst();
  }

  async reregister(db: Db, id: string, pools: string, at: string): Promise<void> {
    await k(db)
      .updateTable('runners')
      .set({ pools, registered_at: at, last_seen_at: at })
      .where('id', '=', id)
      .execute();
  }

  async touch(db: Db, id: string, at: string): Promise<void> {
    await k(db).updateTable('runners').set({ last_seen_at: at }).where('id', '=', id).execute();
  }

  // Newest registration first.
  async list(db: Db, page: PageRequest): Promise<PageOf<RunnerRow>> {
    return fetchPage(k(db).selectFrom('runners').selectAll(), newestFirst, page);
  }

  async grant(db: Db, principal: string, pools: string[], at: string): Promise<void> {
    await k(db)
      .insertInto('runner_grants')
      .values({ principal, pools: JSON.stringify(pools), created_at: at })
      .onConflict((oc) =>
        oc.column('principal').doUpdateSet({ pools: JSON.stringify(pools), created_at: at }),
      )
      .execute();
  }

  async grantedPools(db: Db, principal: string): Promise<string[]> {
    const row = await k(db)
      .selectFrom('runner_grants')
      .select('pools')
      .where('principal', '=', principal)
      .executeTakeFirst();
    return row ? (JSON.parse(row.pools) as string[]) : [];
  }
}
