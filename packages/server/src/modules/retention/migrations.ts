import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
//
// Retention is enforced by the database (ADR 12): triggers on the protected tables of other
// modules refuse a DELETE inside the row's retention period or under an active legal hold, and
// an UPDATE of content columns, whoever sends the SQL. They read this module's tables (periods,
// holds) and the protected row; job-level rows find their project through `runs`.

type Dialect = 'sqlite' | 'postgres';

// How a protected table's row tells its project, run, environment and time. `null` where the
// row has none (the conservative answer is then taken: the longest period, any active hold).
interface Protected {
  table: string;
  project: string;
  run: string;
  environment: string;
  at: string;
  // How a change hold's run (`hr.run_id`) matches this row; default `hr.run_id = <run>`.
  runMatch?: string;
  // Columns an UPDATE may not change; `all` when the application never updates the table.
  immutable: 'all' | readonly string[];
  // Extra UPDATE refusal (SQL over OLD/NEW), e.g. a value that may only be completed.
  updateRule?: string;
  // The primary key, and whether the application inserts with ON CONFLICT DO NOTHING.
  key: readonly string[];
  idempotent?: boolean;
}

// A project without a setting keeps rows this long (SOX); the organization minimum may raise it.
const defaultYears = 7;
const runOf = (col: string, run: string) => `(SELECT ${col} FROM runs WHERE id = ${run})`;
const reportOf = (col: string) => `(SELECT ${col} FROM evidence_reports WHERE id = OLD.report_id)`;

const evidenceChild = (table: string): Protected => ({
  table,
  key: ['report_id', 'seq'],
  project: reportOf('project'),
  run: reportOf('run_id'),
  environment: reportOf('environment'),
  at: reportOf('created_at'),
  immutable: 'all',
});

const protectedTables: readonly Protected[] = [
  {
    table: 'runs',
    key: ['id'],
    project: 'OLD.project',
    run: 'OLD.id',
    environment: 'NULL',
    at: 'OLD.created_at',
    immutable: [
      'id',
      'project',
      'pipeline',
      'pipeline_version',
      'content_hash',
      'repository',
      'branch',
      'inputs',
      'trigger',
      'created_by',
      'created_at',
    ],
    // The runner resolves a pinned prefix to the full commit: completing it is allowed.
    updateRule:
      'OLD.commit_sha IS NOT NULL AND (NEW.commit_sha IS NULL OR substr(NEW.commit_sha, 1, length(OLD.commit_sha)) <> OLD.commit_sha)',
  },
  {
    table: 'run_stages',
    key: ['run_id', 'idx'],
    project: runOf('project', 'OLD.run_id'),
    run: 'OLD.run_id',
    environment: 'OLD.environment',
    at: runOf('created_at', 'OLD.run_id'),
    immutable: ['run_id', 'idx', 'name', 'type', 'environment'],
  },
  {
    table: 'log_chunks',
    key: ['job_id', 'attempt', 'step_idx', 'seq'],
    idempotent: true,
    project: runOf('project', 'OLD.run_id'),
    run: 'OLD.run_id',
    environment: 'NULL',
    at: 'OLD.created_at',
    immutable: 'all',
  },
  {
    table: 'run_files',
    key: ['id'],
    project: runOf('project', 'OLD.run_id'),
    run: 'OLD.run_id',
    environment: 'NULL',
    at: 'OLD.created_at',
    immutable: 'all',
  },
  {
    table: 'evidence_reports',
    key: ['id'],
    project: 'OLD.project',
    run: 'OLD.run_id',
    environment: 'OLD.environment',
    at: 'OLD.created_at',
    immutable: 'all',
  },
  evidenceChild('evidence_test_cases'),
  evidenceChild('evidence_coverage_files'),
  evidenceChild('evidence_findings'),
  evidenceChild('evidence_components'),
  {
    table: 'evidence_waivers',
    key: ['id'],
    project: 'OLD.project',
    run: 'NULL',
    environment: 'OLD.environment',
    at: 'OLD.requested_at',
    // A decision moves state, decided_by, decided_at and comment; the request never changes.
    immutable: [
      'id',
      'project',
      'environment',
      'fingerprint',
      'rule_id',
      'reason',
      'requested_by',
      'requested_at',
      'expires_at',
    ],
  },
  {
    // Documents (policy inputs) name no project: the longest period and any hold apply.
    table: 'evidence_documents',
    key: ['digest'],
    idempotent: true,
    project: 'NULL',
    run: 'NULL',
    environment: 'NULL',
    at: 'OLD.created_at',
    immutable: 'all',
  },
  {
    table: 'policy_decisions',
    key: ['id'],
    project: 'OLD.project',
    run: 'NULL',
    environment: "NULLIF(OLD.environment, '')",
    at: 'OLD.decided_at',
    runMatch: "(OLD.subject_id = hr.run_id OR OLD.subject_id LIKE hr.run_id || '/%')",
    immutable: 'all',
  },
];

// The longest period in force for `scope` from the period in force at `at` onwards: lowering a
// period never shortens the retention of rows stored before the lowering.
function periodAt(scope: string, at: string): string {
  return `(SELECT MAX(p.years) FROM retention_periods p WHERE p.scope = ${scope} AND p.effective_at >= COALESCE((SELECT MAX(q.effective_at) FROM retention_periods q WHERE q.scope = ${scope} AND q.effective_at <= ${at}), ''))`;
}

function yearsOf(d: Dialect, t: Protected): string {
  const greatest = d === 'sqlite' ? 'MAX' : 'GREATEST';
  const project = `CASE WHEN ${t.project} IS NULL THEN (SELECT MAX(years) FROM retention_periods) ELSE ${periodAt(t.project, t.at)} END`;
  return `${greatest}(COALESCE(${periodAt("'*'", t.at)}, ${defaultYears}), COALESCE(${project}, ${defaultYears}))`;
}

function insideRetention(d: Dialect, t: Protected): string {
  const years = yearsOf(d, t);
  const cutoff =
    d === 'sqlite'
      ? `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (${years}) || ' years')`
      : `to_char((now() AT TIME ZONE 'UTC') - make_interval(years => (${years})::int), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  // Byte order, not the database's collation, compares the ISO instants.
  const at = d === 'sqlite' ? t.at : `(${t.at}) COLLATE "C"`;
  return `(${t.at} IS NULL OR ${at} > ${cutoff})`;
}

// A hold counts as released only when the release is also in the audit trail: a row inserted
// into retention_hold_events by hand does not lift it (forging the entry breaks its MAC).
const released = `(EXISTS (SELECT 1 FROM retention_hold_events e WHERE e.hold_id = h.id AND e.kind = 'released') AND EXISTS (SELECT 1 FROM audit_entries a WHERE a.resource_type = 'LegalHold' AND a.resource_id = h.id AND a.action = 'retention.hold.released' AND a.outcome = 'succeeded'))`;

function underHold(t: Protected): string {
  const runMatch = t.runMatch ?? `hr.run_id = ${t.run}`;
  const env = `(h.environment = ${t.environment} OR EXISTS (SELECT 1 FROM run_stages s WHERE s.run_id = ${t.run} AND s.environment = h.environment))`;
  const targets = `(h.target = 'project' OR (h.target = 'environment' AND ${env}) OR (h.target = 'change' AND EXISTS (SELECT 1 FROM retention_hold_runs hr WHERE hr.hold_id = h.id AND ${runMatch})))`;
  return `EXISTS (SELECT 1 FROM retention_holds h WHERE NOT ${released} AND (${t.project} IS NULL OR (h.project = ${t.project} AND ${targets})))`;
}

function contentChanged(d: Dialect, t: Protected): string {
  if (t.immutable === 'all') return d === 'sqlite' ? '1' : 'TRUE';
  const differs = d === 'sqlite' ? 'IS NOT' : 'IS DISTINCT FROM';
  const cols = t.immutable.map((c) => `OLD.${c} ${differs} NEW.${c}`);
  return `(${[...cols, ...(t.updateRule ? [`(${t.updateRule})`] : [])].join(' OR ')})`;
}

const messages = {
  retention: (t: string) => `retention: a ${t} row inside its retention period cannot be deleted`,
  hold: (t: string) => `retention: a ${t} row under a legal hold cannot be deleted`,
  update: (t: string) => `retention: the content of a ${t} row cannot be changed`,
  blob: 'retention: a blob that run_files or evidence_reports refer to cannot be deleted',
  own: (t: string) => `retention: ${t} is append-only`,
  replace: (t: string) => `retention: a ${t} row cannot be replaced`,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function exec(db: Kysely<any>, text: string): Promise<void> {
  await sql.raw(text).execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function guardSqlite(db: Kysely<any>, t: Protected): Promise<void> {
  const raise = (m: string) => `BEGIN SELECT RAISE(ABORT, '${m.replace(/'/g, "''")}'); END`;
  await exec(
    db,
    `CREATE TRIGGER retention_${t.table}_retained BEFORE DELETE ON ${t.table} FOR EACH ROW WHEN ${insideRetention('sqlite', t)} ${raise(messages.retention(t.table))}`,
  );
  await exec(
    db,
    `CREATE TRIGGER retention_${t.table}_held BEFORE DELETE ON ${t.table} FOR EACH ROW WHEN ${underHold(t)} ${raise(messages.hold(t.table))}`,
  );
  await exec(
    db,
    `CREATE TRIGGER retention_${t.table}_immutable BEFORE UPDATE ON ${t.table} FOR EACH ROW WHEN ${contentChanged('sqlite', t)} ${raise(messages.update(t.table))}`,
  );
  await noReplace(db, t.table, t.key, t.idempotent === true);
}

// SQLite's INSERT OR REPLACE deletes the row it replaces without firing delete triggers
// (recursive triggers are off): an insert over an existing key is refused, or skipped where
// the application inserts with ON CONFLICT DO NOTHING (the same outcome for it).
async function noReplace(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  table: string,
  key: readonly string[],
  idempotent: boolean,
): Promise<void> {
  const same = key.map((c) => `x.${c} = NEW.${c}`).join(' AND ');
  const action = idempotent
    ? 'SELECT RAISE(IGNORE);'
    : `SELECT RAISE(ABORT, '${messages.replace(table)}');`;
  await exec(
    db,
    `CREATE TRIGGER retention_${table}_no_replace BEFORE INSERT ON ${table} FOR EACH ROW WHEN EXISTS (SELECT 1 FROM ${table} x WHERE ${same}) BEGIN ${action} END`,
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function guardPostgres(db: Kysely<any>, t: Protected): Promise<void> {
  const fn = `retention_guard_${t.table}`;
  await exec(
    db,
    `CREATE FUNCTION ${fn}() RETURNS trigger AS $$ BEGIN
  IF TG_OP = 'DELETE' THEN
    IF ${insideRetention('postgres', t)} THEN RAISE EXCEPTION '${messages.retention(t.table)}'; END IF;
    IF ${underHold(t)} THEN RAISE EXCEPTION '${messages.hold(t.table)}'; END IF;
    RETURN OLD;
  END IF;
  IF ${contentChanged('postgres', t)} THEN RAISE EXCEPTION '${messages.update(t.table)}'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql`,
  );
  await exec(
    db,
    `CREATE TRIGGER retention_${t.table}_guard BEFORE UPDATE OR DELETE ON ${t.table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
  );
  await exec(
    db,
    `CREATE TRIGGER retention_${t.table}_no_truncate BEFORE TRUNCATE ON ${t.table} FOR EACH STATEMENT EXECUTE FUNCTION retention_refuse_truncate()`,
  );
}

const blobInUse =
  'EXISTS (SELECT 1 FROM run_files f WHERE f.digest = OLD.digest) OR EXISTS (SELECT 1 FROM evidence_reports r WHERE r.digest = OLD.digest)';
const ownTables = [
  'retention_periods',
  'retention_holds',
  'retention_hold_runs',
  'retention_hold_events',
];

export const retentionMigrations: ModuleMigrations = {
  '2026-12-04T0600-retention-periods-holds-guards': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      const d: Dialect = db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'postgres';
      // Every period that was ever in force: `*` is the organization minimum, else a project.
      await db.schema
        .createTable('retention_periods')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('years', 'integer', (c) => c.notNull())
        .addColumn('effective_at', 'text', (c) => c.notNull())
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('retention_periods_scope')
        .on('retention_periods')
        .columns(['scope', 'effective_at'])
        .execute();
      // target: project | environment | change (a change request or a deployment).
      await db.schema
        .createTable('retention_holds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('environment', 'text')
        .addColumn('change_id', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('placed_by', 'text', (c) => c.notNull())
        .addColumn('placed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('retention_holds_project')
        .on('retention_holds')
        .column('project')
        .execute();
      // The runs a change hold covers.
      await db.schema
        .createTable('retention_hold_runs')
        .addColumn('hold_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('retention_hold_runs_pk', ['hold_id', 'run_id'])
        .execute();
      // kind: release-requested | released (a release names the request it approves).
      await db.schema
        .createTable('retention_hold_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hold_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('request_id', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('retention_hold_events_hold')
        .on('retention_hold_events')
        .columns(['hold_id', 'at'])
        .execute();
      // A hold is released once: two approvers racing cannot both write the release.
      await exec(
        db,
        `CREATE UNIQUE INDEX retention_hold_events_released ON retention_hold_events (hold_id) WHERE kind = 'released'`,
      );

      if (d === 'postgres') {
        await exec(
          db,
          `CREATE FUNCTION retention_refuse_truncate() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'retention: % cannot be truncated', TG_TABLE_NAME; END $$ LANGUAGE plpgsql`,
        );
        await exec(
          db,
          `CREATE FUNCTION retention_append_only() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'retention: % is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql`,
        );
        await exec(
          db,
          `CREATE FUNCTION retention_guard_blobs() RETURNS trigger AS $$ BEGIN
  IF TG_OP = 'DELETE' THEN
    IF ${blobInUse} THEN RAISE EXCEPTION '${messages.blob}'; END IF;
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '${messages.update('blobs')}';
END $$ LANGUAGE plpgsql`,
        );
        await exec(
          db,
          `CREATE TRIGGER retention_blobs_guard BEFORE UPDATE OR DELETE ON blobs FOR EACH ROW EXECUTE FUNCTION retention_guard_blobs()`,
        );
        await exec(
          db,
          `CREATE TRIGGER retention_blobs_no_truncate BEFORE TRUNCATE ON blobs FOR EACH STATEMENT EXECUTE FUNCTION retention_refuse_truncate()`,
        );
        for (const t of ownTables) {
          await exec(
            db,
            `CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION retention_append_only()`,
          );
          await exec(
            db,
            `CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION retention_refuse_truncate()`,
          );
        }
        for (const t of protectedTables) await guardPostgres(db, t);
      } else {
        await exec(
          db,
          `CREATE TRIGGER retention_blobs_in_use BEFORE DELETE ON blobs FOR EACH ROW WHEN ${blobInUse} BEGIN SELECT RAISE(ABORT, '${messages.blob}'); END`,
        );
        await exec(
          db,
          `CREATE TRIGGER retention_blobs_immutable BEFORE UPDATE ON blobs BEGIN SELECT RAISE(ABORT, '${messages.update('blobs')}'); END`,
        );
        await noReplace(db, 'blobs', ['digest'], true);
        for (const t of ownTables) {
          for (const op of ['UPDATE', 'DELETE'])
            await exec(
              db,
              `CREATE TRIGGER ${t}_no_${op.toLowerCase()} BEFORE ${op} ON ${t} BEGIN SELECT RAISE(ABORT, '${messages.own(t)}'); END`,
            );
        }
        for (const t of protectedTables) await guardSqlite(db, t);
      }
    },
  },
};
