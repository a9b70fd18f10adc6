import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TestApp } from '../../platform/testing/test-app.ts';

// Rows planted with plain SQL, as an insider with the application's database connection would
// write them: one run with a deploy stage, a log chunk, an artifact and its blob, an evidence
// report with a finding, a decision and a document, all at `at`.
export interface Planted {
  run: string;
  stage: string;
  digest: string;
  report: string;
  decision: string;
  document: string;
}

const iso = (d: Date) => d.toISOString();
export const yearsAgo = (years: number, days = 0) =>
  new Date(Date.now() - (years * 365.25 + days) * 86_400_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;
export const rawDb = (t: TestApp) => t.app.database.db as unknown as AnyKysely;

export async function plant(
  t: TestApp,
  o: { project: string; environment: string; at: Date },
): Promise<Planted> {
  const db = rawDb(t);
  const id = randomBytes(6).toString('hex');
  const run = `run_${id}`;
  const at = iso(o.at);
  await db
    .insertInto('runs')
    .values({
      id: run,
      project: o.project,
      pipeline: 'build',
      pipeline_version: 1,
      content_hash: 'sha256:' + '0'.repeat(64),
      repository: 'https://example.invalid/shop.git',
      branch: 'main',
      commit_sha: null,
      inputs: '{}',
      trigger: '{}',
      state: 'succeeded',
      reason: null,
      cancel_requested: 0,
      created_by: 'user:dev',
      created_at: at,
      started_at: at,
      finished_at: at,
    })
    .execute();
  await db
    .insertInto('run_stages')
    .values({
      run_id: run,
      idx: 0,
      name: 'deploy',
      type: 'deploy',
      environment: o.environment,
      pool: 'default',
      state: 'succeeded',
      generation: 0,
      reason: null,
      started_at: at,
      finished_at: at,
    })
    .execute();
  await db
    .insertInto('log_chunks')
    .values({
      run_id: run,
      job_id: `job_${id}`,
      attempt: 1,
      step_idx: 0,
      seq: 0,
      content: 'deployed\n',
      sha256: createHash('sha256').update('deployed\n').digest('hex'),
      created_at: at,
    })
    .execute();
  const bytes = Buffer.from(`artifact ${id}`);
  const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  await db
    .insertInto('blobs')
    .values({ digest, size: bytes.length, content_base64: bytes.toString('base64') })
    .execute();
  await db
    .insertInto('run_files')
    .values({
      id: `file_${id}`,
      run_id: run,
      job_id: `job_${id}`,
      step_idx: 0,
      kind: 'artifact',
      name: 'app',
      type: 'file',
      path: 'dist/app.tar',
      digest,
      size: bytes.length,
      created_at: at,
    })
    .execute();
  const report = `rep_${id}`;
  await db
    .insertInto('evidence_reports')
    .values({
      id: report,
      project: o.project,
      run_id: run,
      job_id: `job_${id}`,
      stage: 'deploy',
      environment: o.environment,
      step_idx: 0,
      file_id: `file_${id}`,
      digest,
      path: 'report.sarif',
      type: 'findings',
      format: 'sarif',
      figures: '{}',
      created_at: at,
    })
    .execute();
  await db
    .insertInto('evidence_findings')
    .values({
      report_id: report,
      seq: 0,
      fingerprint: `fp-${id}`,
      tool: 'scanner',
      rule_id: 'R1',
      message: 'a finding',
      path: null,
      start_line: null,
      severity: 'high',
      level: null,
      baseline_state: null,
      suppressed: 0,
    })
    .execute();
  const decision = `pdc_${id}`;
  await db
    .insertInto('policy_decisions')
    .values({
      id: decision,
      point: 'deploy',
      project: o.project,
      environment: o.environment,
      subject_type: 'deployment',
      subject_id: `${run}/deploy`,
      policies: '[]',
      input_hash: 'sha256:' + '1'.repeat(64),
      result: 'allow',
      deny: '[]',
      warn: '[]',
      errors: '[]',
      duration_us: 1,
      fingerprint: 'f',
      actor: 'system:deployment-gate',
      decided_at: at,
    })
    .execute();
  const body = JSON.stringify({ input: id });
  const document = 'sha256:' + createHash('sha256').update(body).digest('hex');
  await db
    .insertInto('evidence_documents')
    .values({ digest: document, media_type: 'application/json', body, created_at: at })
    .execute();
  return { run, stage: 'deploy', digest, report, decision, document };
}

// Every delete an insider would send for one planted run, children first.
export function deletes(p: Planted): [string, (db: AnyKysely) => Promise<unknown>][] {
  return [
    [
      'evidence_findings',
      (db) => db.deleteFrom('evidence_findings').where('report_id', '=', p.report).execute(),
    ],
    [
      'evidence_reports',
      (db) => db.deleteFrom('evidence_reports').where('id', '=', p.report).execute(),
    ],
    [
      'policy_decisions',
      (db) => db.deleteFrom('policy_decisions').where('id', '=', p.decision).execute(),
    ],
    ['log_chunks', (db) => db.deleteFrom('log_chunks').where('run_id', '=', p.run).execute()],
    ['run_files', (db) => db.deleteFrom('run_files').where('run_id', '=', p.run).execute()],
    ['blobs', (db) => db.deleteFrom('blobs').where('digest', '=', p.digest).execute()],
    ['run_stages', (db) => db.deleteFrom('run_stages').where('run_id', '=', p.run).execute()],
    ['runs', (db) => db.deleteFrom('runs').where('id', '=', p.run).execute()],
    [
      'evidence_documents',
      (db) => db.deleteFrom('evidence_documents').where('digest', '=', p.document).execute(),
    ],
  ];
}
