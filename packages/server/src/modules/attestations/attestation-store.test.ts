import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/database.ts';
import { migrateToLatest } from '../../platform/db/migrator.ts';
import { createTestDatabase, dialects } from '../../platform/testing/test-databases.ts';
import { KyselyAttestationStore, type AttestationRow } from './attestation-store.ts';
import { attestationMigrations } from './migrations.ts';

const digestOf = (c: string) => `sha256:${c.repeat(64)}`;

function row(id: string, overrides: Partial<AttestationRow> = {}): AttestationRow {
  return {
    id,
    run_id: 'run_1',
    job_id: 'job_1',
    idx: 0,
    project: 'shop',
    predicate_type: 'https://slsa.dev/provenance/v1',
    subject_name: 'a',
    subject_digest: digestOf('a'),
    bundle: `{"id":"${id}"}`,
    digest: digestOf('f'),
    payload_digest: digestOf('e'),
    created_at: '2026-12-01T10:00:00.000Z',
    ...overrides,
  };
}

const subjects = [
  { name: 'a', digest: digestOf('a') },
  { name: 'b', digest: digestOf('b') },
];

for (const dialect of dialects) {
  describe(`KyselyAttestationStore [${dialect}]`, () => {
    let database: Database;
    const store = new KyselyAttestationStore();
    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      await migrateToLatest(database, [attestationMigrations]);
    });
    afterEach(async () => database?.destroy());

    it('keeps every column and the bundle text byte for byte', async () => {
      // Canonical JSON with a non-ASCII name: a changed byte would change the listed digest.
      const bundle = '{"dsseEnvelope":{"payload":"eyJ9"},"name":"caf\u00e9 \u{1f680}"}';
      await database.db
        .transaction()
        .execute((tx) => store.insert(tx, row('att_1', { bundle }), subjects));
      expect(await store.get(database.db, 'att_1')).toEqual(row('att_1', { bundle }));
      expect(await store.get(database.db, 'att_x')).toBeUndefined();
    });

    it("lists a run's attestations in issue order, each with all its subjects in order", async () => {
      await database.db.transaction().execute(async (tx) => {
        await store.insert(tx, row('att_b', { idx: 1 }), subjects.slice(0, 1));
        await store.insert(tx, row('att_a', { idx: 0 }), subjects);
        // A later job of the same run comes after, whatever its id.
        await store.insert(
          tx,
          row('att_0', { job_id: 'job_0', created_at: '2026-12-01T10:05:00.000Z' }),
          subjects.slice(1),
        );
        await store.insert(tx, row('att_other', { run_id: 'run_2' }), subjects);
      });
      const listed = await store.listByRun(database.db, 'run_1');
      expect(listed.map((l) => l.row.id)).toEqual(['att_a', 'att_b', 'att_0']);
      expect(listed.map((l) => l.subjects)).toEqual([
        subjects,
        subjects.slice(0, 1),
        subjects.slice(1),
      ]);
      expect(await store.listByRun(database.db, 'run_none')).toEqual([]);
    });

    it('refuses a second row with the same id, and rolls back with the transaction', async () => {
      await database.db.transaction().execute((tx) => store.insert(tx, row('att_1'), subjects));
      await expect(
        database.db.transaction().execute((tx) => store.insert(tx, row('att_1'), subjects)),
      ).rejects.toThrow();
      await expect(
        database.db.transaction().execute(async (tx) => {
          await store.insert(tx, row('att_2', { run_id: 'run_9' }), subjects);
          throw new Error('the job did not complete');
        }),
      ).rejects.toThrow('the job did not complete');
      expect(await store.listByRun(database.db, 'run_9')).toEqual([]);
      expect(await store.listByRun(database.db, 'run_1')).toHaveLength(1);
    });
  });
}
