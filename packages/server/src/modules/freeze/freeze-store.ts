import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

interface FreezeWindowsTable {
  name: string;
  spec: string;
  version: number;
}

interface FreezeOverridesTable {
  id: string;
  project: string;
  environment: string;
  reason: string;
  created_by: string;
  starts_at: string;
  ends_at: string;
  created_at: string;
  // JSON array of window names the override covers; [] = every window.
  windows: string;
}

interface FreezeTables {
  freeze_windows: FreezeWindowsTable;
  freeze_overrides: FreezeOverridesTable;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<FreezeTables>;
const newestFirst: KeyColumn<FreezeOverrideRow>[] = [
  { column: 'created_at', type: 'string', desc: true, value: (r) => r.created_at },
  { column: 'id', type: 'string', value: (r) => r.id },
];

export type FreezeWindowRow = FreezeWindowsTable;
export type FreezeOverrideRow = FreezeOverridesTable;

export class KyselyFreezeStore {
  async upsertWindow(db: Db, row: FreezeWindowRow): Promise<void> {
    await k(db)
      .insertInto('freeze_windows')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ spec: row.spec, version: row.version }))
      .execute();
  }

  async windows(db: Db): Promise<FreezeWindowRow[]> {
    return k(db).selectFrom('freeze_windows').selectAll().orderBy('name').execute();
  }

  async insertOverride(db: Db, row: FreezeOverrideRow): Promise<void> {
    await k(db).insertInto('freeze_overrides').values(row).execute();
  }

  // Overrides of one environment in force at `at` (ISO instant).
  async overridesAt(
    db: Db,
    target: { project: string; environment: string; at: string },
  ): Promise<FreezeOverrideRow[]> {
    return k(db)
      .selectFrom('freeze_overrides')
      .selectAll()
      .where('project', '=', target.project)
      .where('environment', '=', target.environment)
      .where('starts_at', '<=', target.at)
      .where('ends_at', '>', target.at)
      .orderBy('created_at')
      .execute();
  }

  async listOverrides(
    db: Db,
    filter: {
      project?: string | undefined;
      environment?: string | undefined;
      since?: string | undefined;
      until?: string | undefined;
    },
    page: PageRequest,
  ): Promise<PageOf<FreezeOverrideRow>> {
    let q = k(db).selectFrom('freeze_overrides').selectAll();
    if (filter.project) q = q.where('project', '=', filter.project);
    if (filter.environment) q = q.where('environment', '=', filter.environment);
    if (filter.since) q = q.where('created_at', '>=', filter.since);
    if (filter.until) q = q.where('created_at', '<', filter.until);
    return fetchPage(q, newestFirst, page);
  }
}
