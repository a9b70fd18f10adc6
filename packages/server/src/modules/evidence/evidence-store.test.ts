import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/database.ts';
import { migrateToLatest } from '../../platform/db/migrator.ts';
import { createTestDatabase, dialects } from '../../platform/testing/test-databases.ts';
import { KyselyEvidenceStore, type ReportRow, type WaiverRow } from './evidence-store.ts';
import { evidenceMigrations } from './migrations.ts';

const at = '2026-12-01T10:00:00.000Z';
const report = (
  id: string,
  run: string,
  format: string,
  environment: string | null = null,
): ReportRow => ({
  id,
  project: 'shop',
  run_id: run,
  job_id: `job-${run}`,
  stage: environment ? `deploy-${environment}` : 'build',
  environment,
  step_idx: 0,
  file_id: `file-${id}`,
  digest: `sha256:${'a'.repeat(64)}`,
  path: 'reports/junit.xml',
  type: format,
  format,
  figures: JSON.stringify({ tests: 1200 }),
  created_at: at,
});
const waiver = (id: string, state: string, expires: string): WaiverRow => ({
  id,
  project: 'shop',
  environment: null,
  fingerprint: `fp-${id}`,
  rule_id: null,
  reason: 'known',
  state,
  requested_by: 'user:dana',
  requested_at: at,
  expires_at: expires,
  decided_by: null,
  decided_at: null,
  comment: null,
});

for (const dialect of dialects) {
  describe(`evidence store [${dialect}]`, () => {
    let database: Database;
    const store = new KyselyEvidenceStore();
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      await migrateToLatest(database, [evidenceMigrations]);
    });
    afterAll(async () => {
      await database?.destroy();
    });

    it('keeps a report with every case, in batches, and reads them back by run, job and outcome', async () => {
      const cases = Array.from({ length: 1200 }, (_, seq) => ({
        report_id: 'evr_1',
        seq,
        name: `case ${seq} — ünïcode`,
        class_name: seq % 2 ? 'shop.CartTest' : null,
        file: null,
        suite: 'shop',
        duration_ms: seq,
        outcome: seq % 400 === 7 ? 'failed' : 'passed',
        message: seq % 400 === 7 ? 'expected 1 but was 2' : null,
        flaky: 0,
      }));
      await database.db.transaction().execute(async (tx) => {
        await store.insertReport(tx, report('evr_1', 'run_1', 'junit'), { cases });
        await store.insertReport(tx, report('evr_2', 'run_1', 'sarif'), {
          findings: [
            {
              report_id: 'evr_2',
              seq: 0,
              fingerprint: 'fp1',
              tool: 'semgrep',
              rule_id: 'py.sqli',
              message: 'm',
              path: 'a.py',
              start_line: 3,
              severity: 'high',
              level: 'error',
              baseline_state: null,
              suppressed: 0,
            },
          ],
        });
        await store.insertReport(tx, report('evr_3', 'run_2', 'junit', 'prod'), {});
      });
      const ofRun = await store.reportsOfRuns(database.db, ['run_1']);
      expect(ofRun.map((r) => r.id)).toEqual(['evr_1', 'evr_2']);
      expect((await store.reportsOfJob(database.db, 'job-run_2'))[0]!.environment).toBe('prod');
      expect(await store.testCases(database.db, ['evr_1'])).toHaveLength(1200);
      const failed = await store.testCases(database.db, ['evr_1'], ['failed', 'error']);
      expect(failed.map((c) => c.seq)).toEqual([7, 407, 807]);
      expect(failed[0]!.name).toBe('case 7 — ünïcode');
      expect((await store.findings(database.db, ['evr_2']))[0]).toMatchObject({
        fingerprint: 'fp1',
        start_line: 3,
      });
      expect(await store.reportsOfRuns(database.db, [])).toEqual([]);
    });

    it('a report whose rows fail to insert leaves nothing behind', async () => {
      const dup = {
        report_id: 'evr_x',
        seq: 0,
        path: 'a',
        lines_found: 1,
        lines_hit: 1,
        branches_found: 0,
        branches_hit: 0,
      };
      await expect(
        database.db.transaction().execute(async (tx) => {
          await store.insertReport(tx, report('evr_x', 'run_x', 'lcov'), { coverage: [dup, dup] });
        }),
      ).rejects.toThrow();
      expect(await store.report(database.db, 'evr_x')).toBeUndefined();
      expect(await store.coverageFiles(database.db, 'evr_x')).toEqual([]);
    });

    it('decides a waiver once (compare-and-set) and applies only approved, unexpired ones', async () => {
      await store.insertWaiver(database.db, waiver('w1', 'pending', '2026-12-03T10:00:00.000Z'));
      await store.insertWaiver(database.db, waiver('w2', 'approved', '2026-12-01T11:00:00.000Z'));
      const set = { state: 'approved', decided_by: 'user:rita', decided_at: at, comment: null };
      const both = await Promise.all([
        store.decideWaiver(database.db, 'w1', 'pending', set),
        store.decideWaiver(database.db, 'w1', 'pending', { ...set, state: 'rejected' }),
      ]);
      expect(both.filter(Boolean)).toHaveLength(1);
      const active = await store.activeWaivers(database.db, 'shop', '2026-12-01T12:00:00.000Z');
      expect(active.map((w) => w.id)).toEqual(both[0] ? ['w1'] : []);
      expect(
        (await store.expiredWaivers(database.db, 'shop', '2026-12-01T12:00:00.000Z')).map(
          (w) => w.id,
        ),
      ).toEqual(['w2']);
      const page = await store.listWaivers(
        database.db,
        { project: 'shop' },
        { limit: 1, after: undefined },
      );
      expect(page.items).toHaveLength(1);
      expect(page.next).not.toBeNull();
    });
  });
}
