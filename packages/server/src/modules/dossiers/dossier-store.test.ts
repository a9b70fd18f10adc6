import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { KyselyDossierStore, type DossierRow } from './dossier-store.ts';

const row = (id: string, final: number): DossierRow => ({
  id,
  deployment_id: 'run_x/deploy',
  final,
  manifest_sha256: 'ab'.repeat(32),
  size: 3,
  created_at: '2026-12-04T06:00:00.000Z',
  created_by: 'user:audrey',
  zip: new Uint8Array([1, 2, 3]),
});

for (const dialect of dialects) {
  describe(`built dossiers are append-only in the database [${dialect}]`, () => {
    let t: TestApp;
    const store = new KyselyDossierStore();
    beforeAll(async () => {
      t = await createTestApp(dialect);
      await store.insert(t.app.database.db, row('dsr_1', 0));
      await store.insert(t.app.database.db, row('dsr_2', 1));
    });
    afterAll(async () => {
      await t?.close();
    });

    it('keeps the bytes as stored', async () => {
      const got = await store.final(t.app.database.db, 'run_x/deploy');
      expect(got).toMatchObject({ id: 'dsr_2', size: 3 });
      expect([...got!.zip]).toEqual([1, 2, 3]);
      expect([
        ...(await store.withFinal(t.app.database.db, ['run_x/deploy', 'run_y/deploy'])),
      ]).toEqual(['run_x/deploy']);
    });

    it('refuses UPDATE, DELETE (and TRUNCATE) even as the application’s own database user', async () => {
      const db = t.app.database.db;
      await expect(
        sql`UPDATE dossiers SET zip = ${Buffer.from([9])} WHERE id = 'dsr_2'`.execute(db),
      ).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM dossiers WHERE id = 'dsr_1'`.execute(db)).rejects.toThrow(
        /append-only/,
      );
      if (dialect === 'postgres')
        await expect(sql`TRUNCATE dossiers`.execute(db)).rejects.toThrow(/append-only/);
      expect(await store.count(db, 'run_x/deploy')).toBe(2);
      expect([...(await store.final(db, 'run_x/deploy'))!.zip]).toEqual([1, 2, 3]);
    });

    it('holds one final dossier per deployment: a second one is refused', async () => {
      await expect(store.insert(t.app.database.db, row('dsr_3', 1))).rejects.toThrow();
      // Dossiers of a running deployment (not final) may be many.
      await store.insert(t.app.database.db, row('dsr_4', 0));
      expect(await store.count(t.app.database.db, 'run_x/deploy')).toBe(3);
    });
  });
}
