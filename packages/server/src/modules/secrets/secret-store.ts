import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface SecretRow {
  project: string;
  environment: string; // '' = every environment of the project
  name: string;
  version: number;
  pools: string;
  sealed: string;
  updated_by: string;
  updated_at: string;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<{ secrets: SecretRow }>;
const byScopeAndName: KeyColumn<SecretRow>[] = [
  { column: 'environment', type: 'string', value: (r) => r.environment },
  { column: 'name', type: 'string', value: (r) => r.name },
];

export class KyselySecretStore {
  async get(
    db: Db,
    project: string,
    environment: string,
    name: string,
  ): Promise<SecretRow | undefined> {
    return k(db)
      .selectFrom('secrets')
      .selectAll()
      .where('project', '=', project)
      .where('environment', '=', environment)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async upsert(db: Db, row: SecretRow): Promise<void> {
    const { project: _p, environment: _e, name: _n, ...rest } = row;
    await k(db)
      .insertInto('secrets')
      .values(row)
      .onConflict((oc) => oc.columns(['project', 'environment', 'name']).doUpdateSet(rest))
      .execute();
  }

  async ofProject(db: Db, project: string): Promise<SecretRow[]> {
    return k(db)
      .selectFrom('secrets')
      .selectAll()
      .where('project', '=', project)
      .orderBy('environment')
      .orderBy('name')
      .execute();
  }

  async listPage(db: Db, project: string, page: PageRequest): Promise<PageOf<SecretRow>> {
    const q = k(db).selectFrom('secrets').selectAll().where('project', '=', project);
    return fetchPage(q, byScopeAndName, page);
  }
}
