import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

interface ChangeRequestsTable {
  id: string;
  project: string;
  environment: string;
  risk_class: string;
  state: string;
  title: string;
  reason: string;
  template: string | null;
  // The commit an emergency change is bound to.
  commit_sha: string | null;
  requested_by: string;
  created_at: string;
  expires_after_ms: number;
  review_within_ms: number | null;
  activated_by: string | null;
  activated_at: string | null;
  expires_at: string | null;
  review_due_at: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_notes: string | null;
}

interface ChangeUsesTable {
  change_id: string;
  run_id: string;
  stage: string;
  environment: string;
  commit_sha: string | null;
  intent_hash: string;
  used_at: string;
}

interface SpecTable {
  name: string;
  spec: string;
  version: number;
}

interface ConnectorsTable extends SpecTable {
  type: string;
}

interface CredentialsTable {
  connector: string;
  auth: string;
  username: string | null;
  secret: string;
  updated_at: string;
  updated_by: string;
}

interface ChangeTables {
  change_requests: ChangeRequestsTable;
  change_uses: ChangeUsesTable;
  change_templates: SpecTable;
  change_connectors: ConnectorsTable;
  change_connector_credentials: CredentialsTable;
}

type Db = AnyDb | AnyTx;

const newestFirst: KeyColumn<ChangeRequestRow>[] = [
  { column: 'created_at', type: 'string', desc: true, value: (r) => r.created_at },
  { column: 'id', type: 'string', value: (r) => r.id },
];
const byReviewDeadline: KeyColumn<ChangeRequestRow>[] = [
  { column: 'review_due_at', type: 'string', value: (r) => r.review_due_at ?? '' },
  { column: 'id', type: 'string', value: (r) => r.id },
];
const k = (db: Db) => db as unknown as Kysely<ChangeTables>;

export type ChangeRequestRow = ChangeRequestsTable;
export type ChangeUseRow = ChangeUsesTable;
export type ChangeTemplateRow = SpecTable;
export type ChangeConnectorRow = ConnectorsTable;
export type ConnectorCredentialsRow = CredentialsTable;

export class KyselyChangeStore {
  async insert(db: Db, row: ChangeRequestRow): Promise<void> {
    await k(db).insertInto('change_requests').values(row).execute();
  }

  async get(db: Db, id: string): Promise<ChangeRequestRow | undefined> {
    return k(db).selectFrom('change_requests').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // Conditional transition: only one of two concurrent callers wins.
  async update(
    db: Db,
    id: string,
    fromState: string,
    set: Partial<ChangeRequestRow>,
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('change_requests')
      .set(set)
      .where('id', '=', id)
      .where('state', '=', fromState)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // Newest first.
  async list(
    db: Db,
    filter: {
      project?: string | undefined;
      environment?: string | undefined;
      riskClass?: string | undefined;
      state?: string | undefined;
    },
    page: PageRequest,
  ): Promise<PageOf<ChangeRequestRow>> {
    let q = k(db).selectFrom('change_requests').selectAll();
    if (filter.project) q = q.where('project', '=', filter.project);
    if (filter.environment) q = q.where('environment', '=', filter.environment);
    if (filter.riskClass) q = q.where('risk_class', '=', filter.riskClass);
    if (filter.state) q = q.where('state', '=', filter.state);
    return fetchPage(q, newestFirst, page);
  }

  // Records that a deployment relied on the change; false if this run and stage already did.
  async insertUse(db: Db, row: ChangeUseRow): Promise<boolean> {
    const r = await k(db)
      .insertInto('change_uses')
      .values(row)
      .onConflict((oc) => oc.columns(['change_id', 'run_id', 'stage']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async uses(db: Db, changeId: string): Promise<ChangeUseRow[]> {
    return k(db)
      .selectFrom('change_uses')
      .selectAll()
      .where('change_id', '=', changeId)
      .orderBy('used_at')
      .execute();
  }

  // Emergency changes whose review deadline passed without a review, or whose review came
  // after it; by deadline.
  async controlFailures(db: Db, now: string, page: PageRequest): Promise<PageOf<ChangeRequestRow>> {
    const q = k(db)
      .selectFrom('change_requests')
      .selectAll()
      .where('review_due_at', 'is not', null)
      .where((eb) =>
        eb.or([
          eb.and([eb('reviewed_at', 'is', null), eb('review_due_at', '<=', now)]),
          eb.and([
            eb('reviewed_at', 'is not', null),
            eb('reviewed_at', '>', eb.ref('review_due_at')),
          ]),
        ]),
      );
    return fetchPage(q, byReviewDeadline, page);
  }

  async upsertTemplate(db: Db, row: ChangeTemplateRow): Promise<void> {
    await k(db)
      .insertInto('change_templates')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ spec: row.spec, version: row.version }))
      .execute();
  }

  async template(db: Db, name: string): Promise<ChangeTemplateRow | undefined> {
    return k(db)
      .selectFrom('change_templates')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async upsertConnector(db: Db, row: ChangeConnectorRow): Promise<void> {
    await k(db)
      .insertInto('change_connectors')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ type: row.type, spec: row.spec, version: row.version }),
      )
      .execute();
  }

  async connector(db: Db, name: string): Promise<ChangeConnectorRow | undefined> {
    return k(db)
      .selectFrom('change_connectors')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async connectorsOfType(db: Db, type: string): Promise<ChangeConnectorRow[]> {
    return k(db)
      .selectFrom('change_connectors')
      .selectAll()
      .where('type', '=', type)
      .orderBy('name')
      .execute();
  }

  async setCredentials(db: Db, row: ConnectorCredentialsRow): Promise<void> {
    const { connector: _c, ...rest } = row;
    await k(db)
      .insertInto('change_connector_credentials')
      .values(row)
      .onConflict((oc) => oc.column('connector').doUpdateSet(rest))
      .execute();
  }

  async credentials(db: Db, connector: string): Promise<ConnectorCredentialsRow | undefined> {
    return k(db)
      .selectFrom('change_connector_credentials')
      .selectAll()
      .where('connector', '=', connector)
      .executeTakeFirst();
  }

  async allCredentials(db: Db): Promise<ConnectorCredentialsRow[]> {
    return k(db).selectFrom('change_connector_credentials').selectAll().execute();
  }

  // For re-sealing under a new key: only while the value is still `from`.
  async replaceCredentialSecret(
    db: Db,
    connector: string,
    from: string,
    to: string,
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('change_connector_credentials')
      .set({ secret: to })
      .where('connector', '=', connector)
      .where('secret', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
