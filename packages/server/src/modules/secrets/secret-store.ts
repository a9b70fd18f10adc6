import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';
import type { SecretChangeRow } from './secret-change-store.ts';

export interface SecretRow {
  project: string;
  environment: string; // '' = every environment of the project
  name: string;
  version: number;
  pools: string;
  sealed: string;
  updated_by: string;
  updated_at: string;
  // The request a second person approved to put this version in force (null: immediate).
  approval_id: string | null;
  approved_by: string | null;
}

export type SecretKey = Pick<SecretRow, 'project' | 'environment' | 'name'>;

type Db = AnyDb | AnyTx;
const k = (db: Db) =>
  db as unknown as Kysely<{ secrets: SecretRow; secret_changes: SecretChangeRow }>;
type Named = Pick<SecretRow, 'environment' | 'name'>;
const byScopeAndName: KeyColumn<Named>[] = [
  { column: 'k.environment', type: 'string', value: (r) => r.environment },
  { column: 'k.name', type: 'string', value: (r) => r.name },
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

  /** Every secret of the project: with a version in force, or only one waiting for approval. */
  async listPage(db: Db, project: string, page: PageRequest): Promise<PageOf<Named>> {
    const inForce = k(db)
      .selectFrom('secrets')
      .select(['environment', 'name'])
      .where('project', '=', project);
    const waiting = k(db)
      .selectFrom('secret_changes')
      .select(['environment', 'name'])
      .where('project', '=', project)
      .where('state', '=', 'pending');
    const q = k(db).selectFrom(inForce.union(waiting).as('k')).select(['k.environment', 'k.name']);
    return fetchPage(q, byScopeAndName, page);
  }

  /** The versions in force of the named secrets of a project, any scope. */
  async ofNames(db: Db, project: string, names: readonly string[]): Promise<SecretRow[]> {
    if (names.length === 0) return [];
    return k(db)
      .selectFrom('secrets')
      .selectAll()
      .where('project', '=', project)
      .where('name', 'in', [...names])
      .execute();
  }

  /** The named secrets of a project, project-wide and of the given environments. */
  async named(
    db: Db,
    project: string,
    environments: readonly string[],
    names: readonly string[],
  ): Promise<SecretRow[]> {
    if (names.length === 0) return [];
    return k(db)
      .selectFrom('secrets')
      .selectAll()
      .where('project', '=', project)
      .where('environment', 'in', ['', ...environments])
      .where('name', 'in', [...names])
      .execute();
  }

  /** Name, scope and version of every secret a job of this scope could hold (no values). */
  async versions(
    db: Db,
    project: string,
    environment: string,
  ): Promise<Pick<SecretRow, 'environment' | 'name' | 'version'>[]> {
    return k(db)
      .selectFrom('secrets')
      .select(['environment', 'name', 'version'])
      .where('project', '=', project)
      .where('environment', 'in', ['', environment])
      .orderBy('environment')
      .orderBy('name')
      .execute();
  }

  async all(db: Db): Promise<SecretRow[]> {
    return k(db).selectFrom('secrets').selectAll().execute();
  }

  async replaceSealed(db: Db, key: SecretKey, from: string, to: string): Promise<boolean> {
    const r = await k(db)
      .updateTable('secrets')
      .set({ sealed: to })
      .where('project', '=', key.project)
      .where('environment', '=', key.environment)
      .where('name', '=', key.name)
      .where('sealed', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async anyNamed(db: Db, names: readonly string[]): Promise<boolean> {
    const r = await k(db)
      .selectFrom('secrets')
      .select('name')
      .where('environment', '=', '')
      .where('name', 'in', [...names])
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Removes project-wide secrets with these names and returns them (one transaction). */
  async take(db: Db, names: readonly string[]): Promise<SecretRow[]> {
    return k(db)
      .deleteFrom('secrets')
      .where('environment', '=', '')
      .where('name', 'in', [...names])
      .returningAll()
      .execute();
  }
}
