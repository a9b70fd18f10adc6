import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface ApprovalRequestRow {
  id: string;
  run_id: string;
  stage: string;
  project: string;
  environment: string;
  intent_hash: string;
  intent: string;
  // pending | approved | rejected | voided (the intent changed) | withdrawn (the run ended)
  state: string;
  created_at: string;
  updated_at: string;
}

export interface VoteRow {
  request_id: string;
  principal: string;
  decision: string; // approve | reject
  comment: string | null;
  decided_at: string;
}

export interface DecisionRow {
  id: string;
  run_id: string;
  stage: string;
  project: string;
  environment: string;
  point: string;
  allowed: number;
  status: string;
  intent_hash: string;
  reasons: string;
  fingerprint: string;
  decided_at: string;
}

interface DeploymentTables {
  deployment_approval_requests: ApprovalRequestRow;
  deployment_approval_votes: VoteRow;
  deployment_gate_decisions: DecisionRow;
}

type Db = AnyDb | AnyTx;
const newestFirst: KeyColumn<ApprovalRequestRow>[] = [
  { column: 'created_at', type: 'string', desc: true, value: (r) => r.created_at },
  { column: 'id', type: 'string', desc: true, value: (r) => r.id },
];
const k = (db: Db) => db as unknown as Kysely<DeploymentTables>;

export class KyselyDeploymentStore {
  async insertRequest(db: Db, row: ApprovalRequestRow): Promise<void> {
    await k(db).insertInto('deployment_approval_requests').values(row).execute();
  }

  async request(db: Db, id: string): Promise<ApprovalRequestRow | undefined> {
    return k(db)
      .selectFrom('deployment_approval_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  // The live (not voided) request of a deploy stage.
  async latestRequest(
    db: Db,
    runId: string,
    stage: string,
  ): Promise<ApprovalRequestRow | undefined> {
    return k(db)
      .selectFrom('deployment_approval_requests')
      .selectAll()
      .where('run_id', '=', runId)
      .where('stage', '=', stage)
      .where('state', 'not in', ['voided', 'withdrawn']) // at most one live request per run and stage
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async requestsOfRun(db: Db, runId: string): Promise<ApprovalRequestRow[]> {
    return k(db)
      .selectFrom('deployment_approval_requests')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  // Newest first, a page at a time.
  async requests(
    db: Db,
    filter: { state?: string | undefined; project?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<ApprovalRequestRow>> {
    let q = k(db).selectFrom('deployment_approval_requests').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.project) q = q.where('project', '=', filter.project);
    return fetchPage(q, newestFirst, page);
  }

  // A refusal of any request for this run and stage, whatever intent it was for.
  async rejectedRequest(
    db: Db,
    runId: string,
    stage: string,
  ): Promise<ApprovalRequestRow | undefined> {
    return k(db)
      .selectFrom('deployment_approval_requests')
      .selectAll()
      .where('run_id', '=', runId)
      .where('stage', '=', stage)
      .where('state', '=', 'rejected')
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
  }

  async pendingRequestsOfRun(db: Db, runId: string): Promise<ApprovalRequestRow[]> {
    return k(db)
      .selectFrom('deployment_approval_requests')
      .selectAll()
      .where('run_id', '=', runId)
      .where('state', '=', 'pending')
      .execute();
  }

  // Conditional on the state it was read in, so concurrent writers cannot both win.
  async setRequestState(
    db: Db,
    id: string,
    from: string,
    to: string,
    at: string,
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('deployment_approval_requests')
      .set({ state: to, updated_at: at })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async votes(db: Db, requestId: string): Promise<VoteRow[]> {
    return k(db)
      .selectFrom('deployment_approval_votes')
      .selectAll()
      .where('request_id', '=', requestId)
      .orderBy('decided_at')
      .execute();
  }

  async insertVote(db: Db, row: VoteRow): Promise<boolean> {
    const r = await k(db)
      .insertInto('deployment_approval_votes')
      .values(row)
      .onConflict((oc) => oc.columns(['request_id', 'principal']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async insertDecision(db: Db, row: DecisionRow): Promise<void> {
    await k(db).insertInto('deployment_gate_decisions').values(row).execute();
  }

  async latestDecision(db: Db, runId: string, stage: string): Promise<DecisionRow | undefined> {
    return k(db)
      .selectFrom('deployment_gate_decisions')
      .selectAll()
      .where('run_id', '=', runId)
      .where('stage', '=', stage)
      .orderBy('decided_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async decisions(db: Db, runId: string): Promise<DecisionRow[]> {
    return k(db)
      .selectFrom('deployment_gate_decisions')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('decided_at')
      .orderBy('id')
      .execute();
  }
}
