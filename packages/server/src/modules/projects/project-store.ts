import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';

interface ProjectsTable {
  name: string;
  description: string;
  version: number;
  // JSON array of the policy names the project binds.
  policies: string;
}

interface EnvironmentsTable {
  project: string;
  name: string;
  type: string;
  spec: string;
  version: number;
  content_hash: string;
}

// `environment_changes` (migration 2026-11-22T0900) is no longer written: governed versions
// of every kind now live in the resources module (`resource_changes`).
interface ProjectTables {
  projects: ProjectsTable;
  environments: EnvironmentsTable;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<ProjectTables>;

export type EnvironmentRow = EnvironmentsTable;

export class KyselyProjectStore {
  async upsertProject(db: Db, row: ProjectsTable): Promise<void> {
    await k(db)
      .insertInto('projects')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          description: row.description,
          version: row.version,
          policies: row.policies,
        }),
      )
      .execute();
  }

  async projectPolicies(db: Db, name: string): Promise<string[]> {
    const row = await k(db)
      .selectFrom('projects')
      .select('policies')
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? (JSON.parse(row.policies) as string[]) : [];
  }

  async projectExists(db: Db, name: string): Promise<boolean> {
    return (
      (await k(db)
        .selectFrom('projects')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst()) !== undefined
    );
  }

  async upsertEnvironment(db: Db, row: EnvironmentsTable): Promise<void> {
    const { project: _p, name: _n, ...rest } = row;
    await k(db)
      .insertInto('environments')
      .values(row)
      .onConflict((oc) => oc.columns(['project', 'name']).doUpdateSet(rest))
      .execute();
  }

  async environment(db: Db, project: string, name: string): Promise<EnvironmentRow | undefined> {
    return k(db)
      .selectFrom('environments')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async environmentsOfType(db: Db, type: string): Promise<EnvironmentRow[]> {
    return k(db)
      .selectFrom('environments')
      .selectAll()
      .where('type', '=', type)
      .orderBy('project')
      .orderBy('name')
      .execute();
  }

  async environments(db: Db, project: string): Promise<EnvironmentRow[]> {
    return k(db)
      .selectFrom('environments')
      .selectAll()
      .where('project', '=', project)
      .orderBy('name')
      .execute();
  }
}
