import type { Kysely } from 'kysely';
import type { AnyDb } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface CheckStatesTable {
  id: string;
  check_id: string;
  project: string;
  environment: string;
  state: string;
  evidence: string;
  cause: string;
  from_at: string;
  until_at: string | null;
}
interface Tables {
  control_check_states: CheckStatesTable;
}
export type CheckStateRow = CheckStatesTable;

const k = (db: AnyDb) => db as unknown as Kysely<Tables>;

// Newest period first; ids break ties between periods that start at the same instant.
const newestFirst: KeyColumn<CheckStateRow>[] = [
  { column: 'from_at', type: 'string', desc: true, value: (r) => r.from_at },
  { column: 'id', type: 'string', desc: true, value: (r) => r.id },
];

export class KyselyControlStore {
  // The periods still open (until_at null): the state each check was last recorded in.
  async openStates(db: AnyDb): Promise<CheckStateRow[]> {
    return k(db)
      .selectFrom('control_check_states')
      .selectAll()
      .where('until_at', 'is', null)
      .execute();
  }

  async close(db: AnyDb, id: string, at: string): Promise<void> {
    await k(db)
      .updateTable('control_check_states')
      .set({ until_at: at })
      .where('id', '=', id)
      .where('until_at', 'is', null)
      .execute();
  }

  async open(db: AnyDb, row: CheckStateRow): Promise<void> {
    await k(db).insertInto('control_check_states').values(row).execute();
  }

  async history(
    db: AnyDb,
    filter: {
      check?: string | undefined;
      project?: string | undefined;
      environment?: string | undefined;
    },
    page: PageRequest,
  ): Promise<PageOf<CheckStateRow>> {
    let q = k(db).selectFrom('control_check_states').selectAll();
    if (filter.check) q = q.where('check_id', '=', filter.check);
    if (filter.project) q = q.where('project', '=', filter.project);
    if (filter.environment) q = q.where('environment', '=', filter.environment);
    return fetchPage(q, newestFirst, page);
  }
}
