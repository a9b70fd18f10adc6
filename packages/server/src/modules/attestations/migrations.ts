import type { Kysely } from 'kysely';
import type { ModuleMigrations } from '../../platform/db/migrator.ts';

// Frozen: never edit a migration that has landed; add a new one.
export const attestationMigrations: ModuleMigrations = {
  '2026-12-05T0900-attestations-bundles': {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('attestations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        // Order of issue within the job (provenance first, then tests, then SBOMs).
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('predicate_type', 'text', (c) => c.notNull())
        // The first subject (the only one of a provenance statement); all in attestation_subjects.
        .addColumn('subject_name', 'text', (c) => c.notNull())
        .addColumn('subject_digest', 'text', (c) => c.notNull())
        // The Sigstore bundle as canonical JSON (RFC 8785) text; digest = sha256 of its bytes.
        .addColumn('bundle', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        // sha256 of the DSSE payload: the exact statement bytes that were signed.
        .addColumn('payload_digest', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('attestations_run')
        .on('attestations')
        .columns(['run_id', 'job_id', 'idx'])
        .execute();
      await db.schema
        .createTable('attestation_subjects')
        .addColumn('attestation_id', 'text', (c) =>
          c.notNull().references('attestations.id').onDelete('cascade'),
        )
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('attestation_subjects_pk', ['attestation_id', 'position'])
        .execute();
    },
  },
};
