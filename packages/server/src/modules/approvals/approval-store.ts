import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface ApprovalRow {
  id: string;
  subject_type: string;
  subject_id: string;
  subject_hash: string;
  project: string | null;
  environment: string | null;
  summary: string;
  author: string;
  state: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  created_at: string;
}

interface ApprovalTables {
  approval_requests: ApprovalRow;
}

type Db = AnyDb | AnyTx;
const newestFirst: KeyColumn<ApprovalRow>[] = [
  { column: 'created_at', type: 'string', desc: true, value: (r) => r.created_at },
  { column: 'id', type: 'string', desc: true, value: (r) => r.id },
];
const k = (db: Db) => db as unknown as Kysely<ApprovalTables>;

export class KyselyApprovalStore {
  async insert(db: Db, row: ApprovalRow): Promise<void> {
    await k(db).insertInto('approval_requests').values(row).execute();
  }

  async get(db: Db, id: string): Promise<ApprovalRow | undefined> {
    return k(db)
      .selectFrom('approval_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async forSubject(db: Db, type: string, id: string): Promise<ApprovalRow | undefined> {
    return k(db)
      .selectFrom('approval_requests')
      .selectAll()
      .where('subject_type', '=', type)
      .where('subject_id', '=', id)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  // Conditional on `pending`, so two concurrent decisions cannot both win.
  async decide(
    db: Db,
    id: string,
    next: { state: string; decided_by: string; decided_at: string; reason: string | null },
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('approval_requests')
      .set(next)
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // Newest first, a page at a time.
  async list(
    db: Db,
    filter: { state?: string | undefined; project?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<ApprovalRow>> {
    let q = k(db).selectFrom('approval_requests').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.project) q = q.where('project', '=', filter.project);
    return fetchPage(q, newestFirst, page);
  }
}
