import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';

interface ProjectsTable {
  name: string;
  description: string;
  version: number;
}

interface EnvironmentsTable {
  project: string;
  name: string;
  type: string;
  spec: string;
  version: number;
  content_hash: string;
}

interface EnvironmentChangesTable {
  project: string;
  name: string;
  version: number;
  type: string;
  spec: string;
  content_hash: string;
  author: string;
  approval_id: string;
  // pending -> applied | rejected | superseded
  state: string;
  created_at: string;
}

interface ProjectTables {
  projects: ProjectsTable;
  environments: EnvironmentsTable;
  environment_changes: EnvironmentChangesTable;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<ProjectTables>;

export type EnvironmentRow = EnvironmentsTable;
export type EnvironmentChangeRow = EnvironmentChangesTable;

export class KyselyProjectStore {
  async upsertProject(db: Db, row: ProjectsTable): Promise<void> {
    await k(db)
      .insertInto('projects')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ description: row.description, version: row.version }),
      )
      .execute();
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

  async environments(db: Db, project: string): Promise<EnvironmentRow[]> {
    return k(db)
      .selectFrom('environments')
      .selectAll()
      .where('project', '=', project)
      .orderBy('name')
      .execute();
  }

  async insertChange(db: Db, row: EnvironmentChangeRow): Promise<void> {
    await k(db).insertInto('environment_changes').values(row).execute();
  }

  async pendingChanges(db: Db, project: string, name: string): Promise<EnvironmentChangeRow[]> {
    return k(db)
      .selectFrom('environment_changes')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .where('state', '=', 'pending')
      .orderBy('version')
      .execute();
  }

  async changeByApproval(db: Db, approvalId: string): Promise<EnvironmentChangeRow | undefined> {
    return k(db)
      .selectFrom('environment_changes')
      .selectAll()
      .where('approval_id', '=', approvalId)
      .executeTakeFirst();
  }

  // Conditional on `pending`, so a change is applied, rejected or superseded exactly once.
  async closeChange(db: Db, approvalId: string, state: string): Promise<boolean> {
    const r = await k(db)
      .updateTable('environment_changes')
      .set({ state })
      .where('approval_id', '=', approvalId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
