import type { Kysely } from 'kysely';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import {
  fetchPage,
  type KeyColumn,
  type PageOf,
  type PageRequest,
} from '../../platform/db/keyset.ts';

export interface ReportRow {
  id: string;
  project: string;
  run_id: string;
  job_id: string;
  stage: string;
  environment: string | null;
  step_idx: number;
  file_id: string;
  digest: string;
  path: string;
  type: string;
  format: string;
  figures: string;
  created_at: string;
}

export interface TestCaseRow {
  report_id: string;
  seq: number;
  name: string;
  class_name: string | null;
  file: string | null;
  suite: string | null;
  duration_ms: number | null;
  outcome: string;
  message: string | null;
  flaky: number;
}

export interface CoverageFileRow {
  report_id: string;
  seq: number;
  path: string;
  lines_found: number;
  lines_hit: number;
  branches_found: number;
  branches_hit: number;
}

export interface FindingRow {
  report_id: string;
  seq: number;
  fingerprint: string;
  tool: string;
  rule_id: string;
  message: string;
  path: string | null;
  start_line: number | null;
  severity: string;
  level: string | null;
  baseline_state: string | null;
  suppressed: number;
}

export interface ComponentRow {
  report_id: string;
  seq: number;
  name: string;
  version: string | null;
  purl: string | null;
  type: string | null;
  licenses: string;
}

export interface WaiverRow {
  id: string;
  project: string;
  environment: string | null;
  fingerprint: string | null;
  rule_id: string | null;
  reason: string;
  state: string;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  comment: string | null;
}

interface EvidenceTables {
  evidence_reports: ReportRow;
  evidence_test_cases: TestCaseRow;
  evidence_coverage_files: CoverageFileRow;
  evidence_findings: FindingRow;
  evidence_components: ComponentRow;
  evidence_waivers: WaiverRow;
}

type Db = AnyDb | AnyTx;
const k = (db: Db) => db as unknown as Kysely<EvidenceTables>;
// Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
const batch = 500;
type DetailTable =
  'evidence_test_cases' | 'evidence_coverage_files' | 'evidence_findings' | 'evidence_components';

const newestWaiversFirst: KeyColumn<WaiverRow>[] = [
  { column: 'requested_at', type: 'string', desc: true, value: (r) => r.requested_at },
  { column: 'id', type: 'string', value: (r) => r.id },
];

export class KyselyEvidenceStore {
  async insertReport(
    db: Db,
    report: ReportRow,
    details: {
      cases?: TestCaseRow[];
      coverage?: CoverageFileRow[];
      findings?: FindingRow[];
      components?: ComponentRow[];
    },
  ): Promise<void> {
    await k(db).insertInto('evidence_reports').values(report).execute();
    await this.insertMany(db, 'evidence_test_cases', details.cases);
    await this.insertMany(db, 'evidence_coverage_files', details.coverage);
    await this.insertMany(db, 'evidence_findings', details.findings);
    await this.insertMany(db, 'evidence_components', details.components);
  }

  private async insertMany<T extends DetailTable>(
    db: Db,
    table: T,
    rows: EvidenceTables[T][] | undefined,
  ): Promise<void> {
    if (!rows) return;
    for (let i = 0; i < rows.length; i += batch)
      await k(db)
        .insertInto(table)
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .values(rows.slice(i, i + batch) as any)
        .execute();
  }

  async report(db: Db, id: string): Promise<ReportRow | undefined> {
    return k(db).selectFrom('evidence_reports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async reportsOfRuns(db: Db, runIds: readonly string[]): Promise<ReportRow[]> {
    if (runIds.length === 0) return [];
    return k(db)
      .selectFrom('evidence_reports')
      .selectAll()
      .where('run_id', 'in', [...runIds])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async reportsOfJob(db: Db, jobId: string): Promise<ReportRow[]> {
    return k(db)
      .selectFrom('evidence_reports')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async testCases(
    db: Db,
    reportIds: readonly string[],
    outcomes?: readonly string[],
  ): Promise<TestCaseRow[]> {
    if (reportIds.length === 0) return [];
    let q = k(db)
      .selectFrom('evidence_test_cases')
      .selectAll()
      .where('report_id', 'in', [...reportIds]);
    if (outcomes) q = q.where('outcome', 'in', [...outcomes]);
    return q.orderBy('report_id').orderBy('seq').execute();
  }

  async coverageFiles(db: Db, reportId: string): Promise<CoverageFileRow[]> {
    return k(db)
      .selectFrom('evidence_coverage_files')
      .selectAll()
      .where('report_id', '=', reportId)
      .orderBy('seq')
      .execute();
  }

  async findings(db: Db, reportIds: readonly string[]): Promise<FindingRow[]> {
    if (reportIds.length === 0) return [];
    return k(db)
      .selectFrom('evidence_findings')
      .selectAll()
      .where('report_id', 'in', [...reportIds])
      .orderBy('report_id')
      .orderBy('seq')
      .execute();
  }

  async components(db: Db, reportIds: readonly string[]): Promise<ComponentRow[]> {
    if (reportIds.length === 0) return [];
    return k(db)
      .selectFrom('evidence_components')
      .selectAll()
      .where('report_id', 'in', [...reportIds])
      .orderBy('report_id')
      .orderBy('seq')
      .execute();
  }

  async insertWaiver(db: Db, row: WaiverRow): Promise<void> {
    await k(db).insertInto('evidence_waivers').values(row).execute();
  }

  async waiver(db: Db, id: string): Promise<WaiverRow | undefined> {
    return k(db).selectFrom('evidence_waivers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // Moves a waiver out of `from` (compare-and-set: two deciders cannot both win).
  async decideWaiver(
    db: Db,
    id: string,
    from: string,
    set: Pick<WaiverRow, 'state' | 'decided_by' | 'decided_at' | 'comment'>,
  ): Promise<boolean> {
    const r = await k(db)
      .updateTable('evidence_waivers')
      .set(set)
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // Approved waivers of a project not yet expired at `at`.
  async activeWaivers(db: Db, project: string, at: string): Promise<WaiverRow[]> {
    return k(db)
      .selectFrom('evidence_waivers')
      .selectAll()
      .where('project', '=', project)
      .where('state', '=', 'approved')
      .where('expires_at', '>', at)
      .orderBy('id')
      .execute();
  }

  async expiredWaivers(db: Db, project: string, at: string): Promise<WaiverRow[]> {
    return k(db)
      .selectFrom('evidence_waivers')
      .selectAll()
      .where('project', '=', project)
      .where('state', '=', 'approved')
      .where('expires_at', '<=', at)
      .orderBy('id')
      .execute();
  }

  async listWaivers(
    db: Db,
    filter: { project?: string | undefined; state?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<WaiverRow>> {
    let q = k(db).selectFrom('evidence_waivers').selectAll();
    if (filter.project) q = q.where('project', '=', filter.project);
    if (filter.state) q = q.where('state', '=', filter.state);
    return fetchPage(q, newestWaiversFirst, page);
  }
}
