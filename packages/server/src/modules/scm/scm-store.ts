import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface CommitRow {
  provider: string;
  project: string;
  repository: string;
  sha: string;
  ref: string;
  author: string;
  committer: string;
  pushed_by: string;
  received_at: string;
}

export interface ChangeRow {
  provider: string;
  project: string;
  repository: string;
  number: number;
  title: string;
  author: string;
  state: string;
  head_sha: string | null;
  merge_commit_sha: string | null;
  merged: number;
  target_branch: string | null;
  updated_at: string;
}

export interface ReviewRow {
  provider: string;
  project: string;
  repository: string;
  number: number;
  reviewer: string;
  verdict: string;
  commit_sha: string | null;
  submitted_at: string;
}

export interface WebhookSecretRow {
  project: string;
  provider: string;
  version: number;
  sealed: string;
  updated_by: string;
  updated_at: string;
}

interface DeliveryRow {
  provider: string;
  project: string;
  delivery: string;
  event: string;
  received_at: string;
}

interface ScmTables {
  scm_commits: CommitRow;
  scm_changes: ChangeRow;
  scm_reviews: ReviewRow;
  scm_webhook_secrets: WebhookSecretRow;
  scm_deliveries: DeliveryRow;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<ScmTables>;
// Pull requests by repository, newest number first; updated_at would move rows between pages.
const changesOrder: KeyColumn<ChangeRow>[] = [
  { column: 'repository', type: 'string', value: (r) => r.repository },
  { column: 'number', type: 'number', desc: true, value: (r) => r.number },
  { column: 'provider', type: 'string', value: (r) => r.provider },
];
const commitsOrder: KeyColumn<CommitRow>[] = [
  { column: 'received_at', type: 'string', value: (r) => r.received_at },
  { column: 'provider', type: 'string', value: (r) => r.provider },
  { column: 'repository', type: 'string', value: (r) => r.repository },
  { column: 'sha', type: 'string', value: (r) => r.sha },
];

export class KyselyScmStore {
  async addCommit(db: Db, row: CommitRow): Promise<void> {
    await k(db)
      .insertInto('scm_commits')
      .values(row)
      .onConflict((oc) => oc.columns(['provider', 'project', 'repository', 'sha']).doNothing())
      .execute();
  }

  async change(
    db: Db,
    key: Pick<ChangeRow, 'provider' | 'project' | 'repository' | 'number'>,
  ): Promise<ChangeRow | undefined> {
    return k(db)
      .selectFrom('scm_changes')
      .selectAll()
      .where('provider', '=', key.provider)
      .where('project', '=', key.project)
      .where('repository', '=', key.repository)
      .where('number', '=', key.number)
      .executeTakeFirst();
  }

  async upsertChange(db: Db, row: ChangeRow): Promise<void> {
    const { provider: _a, project: _b, repository: _c, number: _d, ...rest } = row;
    await k(db)
      .insertInto('scm_changes')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['provider', 'project', 'repository', 'number']).doUpdateSet(rest),
      )
      .execute();
  }

  async addReview(db: Db, row: ReviewRow): Promise<void> {
    await k(db).insertInto('scm_reviews').values(row).execute();
  }

  async changes(db: Db, project: string): Promise<ChangeRow[]> {
    return k(db)
      .selectFrom('scm_changes')
      .selectAll()
      .where('project', '=', project)
      .orderBy('updated_at', 'desc')
      .limit(500)
      .execute();
  }

  async reviews(db: Db, project: string): Promise<ReviewRow[]> {
    return k(db)
      .selectFrom('scm_reviews')
      .selectAll()
      .where('project', '=', project)
      .orderBy('submitted_at')
      .execute();
  }

  async commits(db: Db, project: string): Promise<CommitRow[]> {
    return k(db)
      .selectFrom('scm_commits')
      .selectAll()
      .where('project', '=', project)
      .orderBy('received_at')
      .limit(1000)
      .execute();
  }

  // The recorded pushes of these commits (exact SHAs), for segregation of duties.
  async commitsWithShas(db: Db, project: string, shas: readonly string[]): Promise<CommitRow[]> {
    if (shas.length === 0) return [];
    return k(db)
      .selectFrom('scm_commits')
      .selectAll()
      .where('project', '=', project)
      .where('sha', 'in', [...shas])
      .execute();
  }

  // Pull/merge requests whose head or merge commit is one of these commits.
  async changesForCommits(db: Db, project: string, shas: readonly string[]): Promise<ChangeRow[]> {
    if (shas.length === 0) return [];
    return k(db)
      .selectFrom('scm_changes')
      .selectAll()
      .where('project', '=', project)
      .where((eb) =>
        eb.or([eb('head_sha', 'in', [...shas]), eb('merge_commit_sha', 'in', [...shas])]),
      )
      .execute();
  }

  // For the API's listings, a page at a time.
  async changesPage(db: Db, project: string, page: PageRequest): Promise<PageOf<ChangeRow>> {
    const q = k(db).selectFrom('scm_changes').selectAll().where('project', '=', project);
    return fetchPage(q, changesOrder, page);
  }

  async reviewsOf(db: Db, project: string, changes: readonly ChangeRow[]): Promise<ReviewRow[]> {
    if (changes.length === 0) return [];
    const rows = await k(db)
      .selectFrom('scm_reviews')
      .selectAll()
      .where('project', '=', project)
      .where('repository', 'in', [...new Set(changes.map((c) => c.repository))])
      .where('number', 'in', [...new Set(changes.map((c) => c.number))])
      .orderBy('submitted_at')
      .execute();
    const wanted = new Set(changes.map((c) => `${c.provider} ${c.repository} ${c.number}`));
    return rows.filter((r) => wanted.has(`${r.provider} ${r.repository} ${r.number}`));
  }

  async commitsPage(db: Db, project: string, page: PageRequest): Promise<PageOf<CommitRow>> {
    const q = k(db).selectFrom('scm_commits').selectAll().where('project', '=', project);
    return fetchPage(q, commitsOrder, page);
  }

  // ---- webhook secrets (platform secrets, never job secrets) and deliveries

  async webhookSecret(
    db: Db,
    project: string,
    provider: string,
  ): Promise<WebhookSecretRow | undefined> {
    return k(db)
      .selectFrom('scm_webhook_secrets')
      .selectAll()
      .where('project', '=', project)
      .where('provider', '=', provider)
      .executeTakeFirst();
  }

  async webhookSecrets(db: Db, project?: string): Promise<WebhookSecretRow[]> {
    let q = k(db).selectFrom('scm_webhook_secrets').selectAll();
    if (project !== undefined) q = q.where('project', '=', project);
    return q.orderBy('project').orderBy('provider').execute();
  }

  async upsertWebhookSecret(db: Db, row: WebhookSecretRow): Promise<void> {
    const { project: _p, provider: _q, ...rest } = row;
    await k(db)
      .insertInto('scm_webhook_secrets')
      .values(row)
      .onConflict((oc) => oc.columns(['project', 'provider']).doUpdateSet(rest))
      .execute();
  }

  async replaceWebhookSecret(
    db: Db,
    key: { project: string; provider: string },
    from: string,
    to: string,
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('scm_webhook_secrets')
      .set({ sealed: to })
      .where('project', '=', key.project)
      .where('provider', '=', key.provider)
      .where('sealed', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Records a delivery id; false when it was processed before (a replay). */
  async claimDelivery(db: Db, row: DeliveryRow): Promise<boolean> {
    const r = await k(db)
      .insertInto('scm_deliveries')
      .values(row)
      .onConflict((oc) => oc.columns(['provider', 'project', 'delivery']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
