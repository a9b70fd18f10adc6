import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const policyMigrations: ModuleMigrations = {
  '2026-12-04T0200-policies-versions-decisions': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // Every version that came into force, kept for replay; `policies` points at the one in
      // force. `project` is '' for organization-wide policies.
      await db.schema
        .createTable('policy_versions')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('decision_point', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('in_force_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_versions_pk', ['project', 'name', 'version'])
        .execute();
      await db.schema
        .createTable('policies')
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('decision_point', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policies_pk', ['project', 'name'])
        .execute();
      await db.schema
        .createTable('policy_decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('point', 'text', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        // The environment name (within project) the decision was about, '' when none.
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('subject_type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('policies', 'text', (c) => c.notNull())
        .addColumn('input_hash', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('deny', 'text', (c) => c.notNull())
        .addColumn('warn', 'text', (c) => c.notNull())
        .addColumn('errors', 'text', (c) => c.notNull())
        .addColumn('duration_us', 'integer', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('policy_decisions_subject')
        .on('policy_decisions')
        .columns(['subject_type', 'subject_id', 'decided_at'])
        .execute();
      await db.schema
        .createIndex('policy_decisions_scope')
        .on('policy_decisions')
        .columns(['project', 'environment', 'decided_at'])
        .execute();
      await db.schema
        .createIndex('policy_decisions_point')
        .on('policy_decisions')
        .columns(['point', 'decided_at'])
        .execute();
    },
  },
  '2026-12-04T0210-policies-documents': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      // The whole resource document, so its content hash can be recomputed before use.
      for (const table of ['policy_versions', 'policies'])
        await db.schema.alterTable(table).addColumn('document', 'text').execute();
    },
  },
};
