import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

interface ResourceVersionsTable {
  kind: string;
  project: string;
  name: string;
  version: number;
  content_hash: string;
  document: string;
  applied_by: string;
  applied_at: string;
  deleted: number;
}

interface ResourceHeadsTable {
  kind: string;
  project: string;
  name: string;
  version: number;
  content_hash: string;
  deleted: number;
}

interface ResourceTables {
  resource_versions: ResourceVersionsTable;
  resource_heads: ResourceHeadsTable;
}

export type VersionRow = ResourceVersionsTable;
export type HeadRow = ResourceHeadsTable;

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<ResourceTables>;

export interface ResourceKey {
  kind: string;
  project: string; // '' for organization-wide kinds
  name: string;
}

const byProjectAndName: KeyColumn<VersionRow>[] = [
  { column: 'h.project', type: 'string', value: (r) => r.project },
  { column: 'h.name', type: 'string', value: (r) => r.name },
];
const byVersion: KeyColumn<VersionRow>[] = [
  { column: 'version', type: 'number', value: (r) => r.version },
];

export class KyselyResourceStore {
  async head(db: Db, key: ResourceKey): Promise<HeadRow | undefined> {
    return k(db)
      .selectFrom('resource_heads')
      .selectAll()
      .where('kind', '=', key.kind)
      .where('project', '=', key.project)
      .where('name', '=', key.name)
      .executeTakeFirst();
  }

  async insertVersion(db: Db, row: VersionRow): Promise<void> {
    await k(db).insertInto('resource_versions').values(row).execute();
    const head = { version: row.version, content_hash: row.content_hash, deleted: row.deleted };
    await k(db)
      .insertInto('resource_heads')
      .values({ kind: row.kind, project: row.project, name: row.name, ...head })
      .onConflict((oc) => oc.columns(['kind', 'project', 'name']).doUpdateSet(head))
      .execute();
  }

  async version(db: Db, key: ResourceKey, version: number): Promise<VersionRow | undefined> {
    return k(db)
      .selectFrom('resource_versions')
      .selectAll()
      .where('kind', '=', key.kind)
      .where('project', '=', key.project)
      .where('name', '=', key.name)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  async current(db: Db, key: ResourceKey): Promise<VersionRow | undefined> {
    const head = await this.head(db, key);
    if (!head || head.deleted) return undefined;
    return this.version(db, key, head.version);
  }

  // One page of current resources of a kind, by project and name (the heads' primary key).
  async list(
    db: Db,
    filter: { kind: string; project?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<VersionRow>> {
    let q = k(db)
      .selectFrom('resource_heads as h')
      .innerJoin('resource_versions as v', (j) =>
        j
          .onRef('v.kind', '=', 'h.kind')
          .onRef('v.project', '=', 'h.project')
          .onRef('v.name', '=', 'h.name')
          .onRef('v.version', '=', 'h.version'),
      )
      .selectAll('v')
      .where('h.kind', '=', filter.kind)
      .where('h.deleted', '=', 0);
    if (filter.project !== undefined) q = q.where('h.project', '=', filter.project);
    return fetchPage(q, byProjectAndName, page);
  }

  async history(db: Db, key: ResourceKey, page: PageRequest): Promise<PageOf<VersionRow>> {
    const q = k(db)
      .selectFrom('resource_versions')
      .selectAll()
      .where('kind', '=', key.kind)
      .where('project', '=', key.project)
      .where('name', '=', key.name);
    return fetchPage(q, byVersion, page);
  }
}
