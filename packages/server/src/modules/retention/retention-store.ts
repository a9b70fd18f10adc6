import { sql, type Kysely } from 'kysely';
import type { AnyDb, AnyTx, DialectName } from '../../platform/db/database.ts';
import { fetchPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';

type Db = AnyDb | AnyTx;

export interface PeriodRow {
  id: string;
  // `*`: the organization minimum; otherwise a project name.
  scope: string;
  years: number;
  effective_at: string;
  recorded_by: string;
}

export interface HoldRow {
  id: string;
  project: string;
  target: 'project' | 'environment' | 'change';
  environment: string | null;
  change_id: string | null;
  reason: string;
  placed_by: string;
  placed_at: string;
}

export interface HoldEventRow {
  id: string;
  hold_id: string;
  kind: 'release-requested' | 'released';
  actor: string;
  reason: string | null;
  request_id: string | null;
  at: string;
}

interface Tables {
  retention_periods: PeriodRow;
  retention_holds: HoldRow;
  retention_hold_runs: { hold_id: string; run_id: string };
  retention_hold_events: HoldEventRow;
}

const k = (db: Db) => db as unknown as Kysely<Tables>;

// Every table here is append-only in the database (the migration's triggers): a period that is
// no longer in force, a released hold and each step of its release stay.
export class KyselyRetentionStore {
  async insertPeriod(db: Db, row: PeriodRow): Promise<void> {
    await k(db).insertInto('retention_periods').values(row).execute();
  }

  // The period recorded last for a scope (the one an apply or a start-up set).
  async latestPeriod(db: Db, scope: string): Promise<PeriodRow | undefined> {
    return k(db)
      .selectFrom('retention_periods')
      .selectAll()
      .where('scope', '=', scope)
      .orderBy('effective_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async insertHold(db: Db, row: HoldRow, runs: readonly string[]): Promise<void> {
    await k(db).insertInto('retention_holds').values(row).execute();
    if (runs.length)
      await k(db)
        .insertInto('retention_hold_runs')
        .values(runs.map((run_id) => ({ hold_id: row.id, run_id })))
        .execute();
  }

  async hold(db: Db, id: string): Promise<HoldRow | undefined> {
    return k(db).selectFrom('retention_holds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async holdRuns(db: Db, id: string): Promise<string[]> {
    const rows = await k(db)
      .selectFrom('retention_hold_runs')
      .select('run_id')
      .where('hold_id', '=', id)
      .orderBy('run_id')
      .execute();
    return rows.map((r) => r.run_id);
  }

  async listHolds(
    db: Db,
    filter: { project?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<HoldRow>> {
    let q = k(db).selectFrom('retention_holds').selectAll();
    if (filter.project) q = q.where('project', '=', filter.project);
    return fetchPage(
      q,
      [
        { column: 'placed_at', type: 'string', desc: true, value: (r) => r.placed_at },
        { column: 'id', type: 'string', desc: true, value: (r) => r.id },
      ],
      page,
    );
  }

  async events(db: Db, holdId: string): Promise<HoldEventRow[]> {
    return k(db)
      .selectFrom('retention_hold_events')
      .selectAll()
      .where('hold_id', '=', holdId)
      .orderBy('at')
      .orderBy('id')
      .execute();
  }

  async insertEvent(db: Db, row: HoldEventRow): Promise<void> {
    await k(db).insertInto('retention_hold_events').values(row).execute();
  }

  // The retention triggers the database has and enforces (a disabled PostgreSQL trigger is
  // not enforced, so it is not listed).
  async enforcedTriggers(db: Db, dialect: DialectName): Promise<string[]> {
    const rows =
      dialect === 'sqlite'
        ? await sql<{
            name: string;
          }>`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'retention%'`.execute(
            db,
          )
        : await sql<{
            name: string;
          }>`SELECT tgname AS name FROM pg_trigger WHERE tgname LIKE 'retention%' AND tgenabled <> 'D'`.execute(
            db,
          );
    return rows.rows.map((r) => r.name).sort();
  }
}
