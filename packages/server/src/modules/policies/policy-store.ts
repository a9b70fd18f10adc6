import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

type Db = AnyDb | AnyTx;

export interface PolicyRow {
  project: string;
  name: string;
  version: number;
  content_hash: string;
  decision_point: string;
  spec: string;
  // The resource document as applied (hashes to content_hash); what is compiled.
  document: string | null;
}

export interface PolicyVersionRow extends PolicyRow {
  in_force_at: string;
}

export interface DecisionRow {
  id: string;
  point: string;
  project: string;
  environment: string;
  subject_type: string;
  subject_id: string;
  policies: string;
  input_hash: string;
  result: string;
  deny: string;
  warn: string;
  errors: string;
  duration_us: number;
  fingerprint: string;
  actor: string;
  decided_at: string;
}

interface PolicyTables {
  policies: PolicyRow;
  policy_versions: PolicyVersionRow;
  policy_decisions: DecisionRow;
}

const k = (db: Db) => db as unknown as Kysely<PolicyTables>;

const newestFirst: KeyColumn<DecisionRow>[] = [
  { column: 'decided_at', type: 'string', desc: true, value: (r) => r.decided_at },
  { column: 'id', type: 'string', desc: true, value: (r) => r.id },
];

export interface DecisionFilter {
  readonly project?: string | undefined;
  readonly environment?: string | undefined;
  readonly point?: string | undefined;
  readonly subject?: { type: string; id: string } | undefined;
  readonly since?: string | undefined;
}

export class KyselyPolicyStore {
  async putInForce(db: Db, row: PolicyRow, at: string): Promise<void> {
    await k(db)
      .insertInto('policy_versions')
      .values({ ...row, in_force_at: at })
      .onConflict((oc) => oc.columns(['project', 'name', 'version']).doNothing())
      .execute();
    await k(db)
      .insertInto('policies')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['project', 'name']).doUpdateSet({
          version: row.version,
          content_hash: row.content_hash,
          decision_point: row.decision_point,
          spec: row.spec,
          document: row.document,
        }),
      )
      .execute();
  }

  async inForce(db: Db, project: string, name: string): Promise<PolicyRow | undefined> {
    return k(db)
      .selectFrom('policies')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async named(db: Db, project: string, names: readonly string[]): Promise<PolicyRow[]> {
    if (names.length === 0) return [];
    return k(db)
      .selectFrom('policies')
      .selectAll()
      .where('project', 'in', [project, ''])
      .where('name', 'in', [...names])
      .execute();
  }

  async organizationWide(db: Db, point: string): Promise<PolicyRow[]> {
    return k(db)
      .selectFrom('policies')
      .selectAll()
      .where('project', '=', '')
      .where('decision_point', '=', point)
      .orderBy('name')
      .execute();
  }

  async version(
    db: Db,
    project: string,
    name: string,
    version: number,
  ): Promise<PolicyVersionRow | undefined> {
    return k(db)
      .selectFrom('policy_versions')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
  }

  async insertDecision(db: Db, row: DecisionRow): Promise<void> {
    await k(db).insertInto('policy_decisions').values(row).execute();
  }

  async decision(db: Db, id: string): Promise<DecisionRow | undefined> {
    return k(db).selectFrom('policy_decisions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async latestForSubject(
    db: Db,
    point: string,
    subject: { type: string; id: string },
  ): Promise<DecisionRow | undefined> {
    return k(db)
      .selectFrom('policy_decisions')
      .selectAll()
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .where('point', '=', point)
      .orderBy('decided_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async decisions(db: Db, filter: DecisionFilter, page: PageRequest): Promise<PageOf<DecisionRow>> {
    let q = k(db).selectFrom('policy_decisions').selectAll();
    if (filter.project !== undefined) q = q.where('project', '=', filter.project);
    if (filter.environment !== undefined) q = q.where('environment', '=', filter.environment);
    if (filter.point !== undefined) q = q.where('point', '=', filter.point);
    if (filter.subject)
      q = q
        .where('subject_type', '=', filter.subject.type)
        .where('subject_id', '=', filter.subject.id);
    if (filter.since !== undefined) q = q.where('decided_at', '>=', filter.since);
    return fetchPage(q, newestFirst, page);
  }
}
