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
  // The newest version, whatever its state.
  version: number;
  content_hash: string;
  deleted: number;
  // The version the owning module's tables hold; null while nothing was ever in force.
  in_force_version: number | null;
}

export type ChangeState = 'pending' | 'applied' | 'rejected' | 'withdrawn';

interface ResourceChangesTable {
  kind: string;
  project: string;
  name: string;
  version: number;
  content_hash: string;
  author: string;
  approval_id: string;
  state: ChangeState;
  // Why the version is governed (the kind's answer at apply time).
  reason: string;
  created_at: string;
  closed_by: string | null;
  closed_at: string | null;
  close_reason: string | null;
}

interface ResourceTables {
  resource_versions: ResourceVersionsTable;
  resource_heads: ResourceHeadsTable;
  resource_changes: ResourceChangesTable;
}

export type VersionRow = ResourceVersionsTable;
export type HeadRow = ResourceHeadsTable;
export type ChangeRow = ResourceChangesTable;

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<ResourceTables>;

export interface ResourceKey {
  kind: string;
  project: string; // '' for organization-wide kinds
  name: string;
}

const headsByProjectAndName: KeyColumn<HeadRow>[] = [
  { column: 'project', type: 'string', value: (r) => r.project },
  { column: 'name', type: 'string', value: (r) => r.name },
];
const byVersion: KeyColumn<VersionRow>[] = [
  { column: 'version', type: 'number', value: (r) => r.version },
];

export class KyselyResourceStore {
  async head(db: Db, key: ResourceKey): Promise<HeadRow | undefined> {
    const row = await k(db)
      .selectFrom('resource_heads')
      .selectAll()
      .where('kind', '=', key.kind)
      .where('project', '=', key.project)
      .where('name', '=', key.name)
      .executeTakeFirst();
    return row && { ...row, in_force_version: nullableNumber(row.in_force_version) };
  }

  // Stores a new newest version; the version in force moves only through `setInForce`.
  async insertVersion(db: Db, row: VersionRow): Promise<void> {
    await k(db).insertInto('resource_versions').values(row).execute();
    const head = { version: row.version, content_hash: row.content_hash, deleted: row.deleted };
    await k(db)
      .insertInto('resource_heads')
      .values({
        kind: row.kind,
        project: row.project,
        name: row.name,
        ...head,
        in_force_version: null,
      })
      .onConflict((oc) => oc.columns(['kind', 'project', 'name']).doUpdateSet(head))
      .execute();
  }

  async setInForce(db: Db, key: ResourceKey, version: number): Promise<void> {
    await k(db)
      .updateTable('resource_heads')
      .set({ in_force_version: version })
      .where('kind', '=', key.kind)
      .where('project', '=', key.project)
      .where('name', '=', key.name)
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

  // One page of the heads of a kind, by project and name (the heads' primary key).
  async heads(
    db: Db,
    filter: { kind: string; project?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<HeadRow>> {
    let q = k(db)
      .selectFrom('resource_heads')
      .selectAll()
      .where('kind', '=', filter.kind)
      .where('deleted', '=', 0);
    if (filter.project !== undefined) q = q.where('project', '=', filter.project);
    const rows = await fetchPage(q, headsByProjectAndName, page);
    return {
      items: rows.items.map((r) => ({
        ...r,
        in_force_version: nullableNumber(r.in_force_version),
      })),
      next: rows.next,
    };
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

  // The documents of a kind in force: what the owning module's tables hold.
  async inForceDocuments(db: Db, kind: string): Promise<string[]> {
    const rows = await k(db)
      .selectFrom('resource_heads as h')
      .innerJoin('resource_versions as v', (j) =>
        j
          .onRef('v.kind', '=', 'h.kind')
          .onRef('v.project', '=', 'h.project')
          .onRef('v.name', '=', 'h.name')
          .onRef('v.version', '=', 'h.in_force_version'),
      )
      .select('v.document')
      .where('h.kind', '=', kind)
      .where('h.deleted', '=', 0)
      .orderBy('h.project')
      .orderBy('h.name')
      .execute();
    return rows.map((r) => r.document);
  }

  // The same, with each version's number and content hash (what a control's evidence names).
  async inForceVersions(
    db: Db,
    kind: string,
  ): Promise<{ document: string; version: number; content_hash: string }[]> {
    return k(db)
      .selectFrom('resource_heads as h')
      .innerJoin('resource_versions as v', (j) =>
        j
          .onRef('v.kind', '=', 'h.kind')
          .onRef('v.project', '=', 'h.project')
          .onRef('v.name', '=', 'h.name')
          .onRef('v.version', '=', 'h.in_force_version'),
      )
      .select(['v.document', 'v.version', 'v.content_hash'])
      .where('h.kind', '=', kind)
      .where('h.deleted', '=', 0)
      .orderBy('h.project')
      .orderBy('h.name')
      .execute();
  }

  async pendingDocuments(db: Db, kind: string): Promise<string[]> {
    const rows = await k(db)
      .selectFrom('resource_changes as c')
      .innerJoin('resource_versions as v', (j) =>
        j
          .onRef('v.kind', '=', 'c.kind')
          .onRef('v.project', '=', 'c.project')
          .onRef('v.name', '=', 'c.name')
          .onRef('v.version', '=', 'c.version'),
      )
      .select('v.document')
      .where('c.kind', '=', kind)
      .where('c.state', '=', 'pending')
      .orderBy('c.project')
      .orderBy('c.name')
      .execute();
    return rows.map((r) => r.document);
  }

  async insertChange(db: Db, row: ChangeRow): Promise<void> {
    await k(db).insertInto('resource_changes').values(row).execute();
  }

  async changes(db: Db, key: ResourceKey): Promise<ChangeRow[]> {
    const rows = await k(db)
      .selectFrom('resource_changes')
      .selectAll()
      .where('kind', '=', key.kind)
      .where('project', '=', key.project)
      .where('name', '=', key.name)
      .orderBy('version')
      .execute();
    return rows.map(numberVersion);
  }

  async pendingChanges(db: Db, key: ResourceKey): Promise<ChangeRow[]> {
    return (await this.changes(db, key)).filter((c) => c.state === 'pending');
  }

  async changeByApproval(db: Db, approvalId: string): Promise<ChangeRow | undefined> {
    const row = await k(db)
      .selectFrom('resource_changes')
      .selectAll()
      .where('approval_id', '=', approvalId)
      .executeTakeFirst();
    return row && numberVersion(row);
  }

  // Conditional on `pending`, so a change is applied, rejected or withdrawn exactly once.
  async closeChange(
    db: Db,
    approvalId: string,
    next: { state: Exclude<ChangeState, 'pending'>; by: string; at: string; reason: string | null },
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('resource_changes')
      .set({
        state: next.state,
        closed_by: next.by,
        closed_at: next.at,
        close_reason: next.reason,
      })
      .where('approval_id', '=', approvalId)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}

// PostgreSQL returns integers as numbers here, but keep both dialects honest.
function nullableNumber(v: number | null): number | null {
  return v === null ? null : Number(v);
}

function numberVersion(row: ChangeRow): ChangeRow {
  return { ...row, version: Number(row.version) };
}
