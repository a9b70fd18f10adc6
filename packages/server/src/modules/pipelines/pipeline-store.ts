import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';

export interface PipelineVersionRow {
  project: string;
  name: string;
  version: number;
  content_hash: string;
  spec: string;
  governed: number;
  author: string;
  created_at: string;
}

interface PipelineTables {
  pipeline_versions: PipelineVersionRow;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<PipelineTables>;

export class KyselyPipelineStore {
  async insertVersion(db: Db, row: PipelineVersionRow): Promise<void> {
    await k(db).insertInto('pipeline_versions').values(row).execute();
  }

  async version(
    db: Db,
    project: string,
    name: string,
    version: number | 'latest',
  ): Promise<PipelineVersionRow | undefined> {
    let q = k(db)
      .selectFrom('pipeline_versions')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name);
    q = version === 'latest' ? q.orderBy('version', 'desc') : q.where('version', '=', version);
    return q.limit(1).executeTakeFirst();
  }

  async latestOfProject(db: Db, project: string): Promise<PipelineVersionRow[]> {
    const rows = await k(db)
      .selectFrom('pipeline_versions')
      .selectAll()
      .where('project', '=', project)
      .orderBy('name')
      .orderBy('version', 'desc')
      .execute();
    const seen = new Set<string>();
    return rows.filter((r) => (seen.has(r.name) ? false : (seen.add(r.name), true)));
  }
}
