import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const evidenceMigrations: ModuleMigrations = {
  '2026-12-03T1000-evidence-reports-findings-waivers': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('evidence_reports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        // The environment of a deploy stage; null for build-side stages (what evidence is).
        .addColumn('environment', 'text')
        .addColumn('step_idx', 'integer', (c) => c.notNull())
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('figures', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('evidence_reports_run')
        .on('evidence_reports')
        .columns(['run_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('evidence_reports_job')
        .on('evidence_reports')
        .column('job_id')
        .execute();
      await db.schema
        .createTable('evidence_test_cases')
        .addColumn('report_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('class_name', 'text')
        .addColumn('file', 'text')
        .addColumn('suite', 'text')
        .addColumn('duration_ms', 'integer')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .addColumn('flaky', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_test_cases_pk', ['report_id', 'seq'])
        .execute();
      await db.schema
        .createTable('evidence_coverage_files')
        .addColumn('report_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('lines_found', 'integer', (c) => c.notNull())
        .addColumn('lines_hit', 'integer', (c) => c.notNull())
        .addColumn('branches_found', 'integer', (c) => c.notNull())
        .addColumn('branches_hit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_coverage_files_pk', ['report_id', 'seq'])
        .execute();
      await db.schema
        .createTable('evidence_findings')
        .addColumn('report_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('tool', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('path', 'text')
        .addColumn('start_line', 'integer')
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('level', 'text')
        .addColumn('baseline_state', 'text')
        .addColumn('suppressed', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_findings_pk', ['report_id', 'seq'])
        .execute();
      await db.schema
        .createTable('evidence_components')
        .addColumn('report_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('purl', 'text')
        .addColumn('type', 'text')
        .addColumn('licenses', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_components_pk', ['report_id', 'seq'])
        .execute();
      await db.schema
        .createTable('evidence_waivers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        // Null: every environment of the project.
        .addColumn('environment', 'text')
        .addColumn('fingerprint', 'text')
        .addColumn('rule_id', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('comment', 'text')
        .execute();
      await db.schema
        .createIndex('evidence_waivers_project')
        .on('evidence_waivers')
        .columns(['project', 'state', 'expires_at'])
        .execute();
    },
  },
  '2026-12-04T0100-evidence-documents': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('evidence_documents')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
