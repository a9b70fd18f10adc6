import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/database.ts';
import { migrateToLatest } from '../../platform/db/migrator.ts';
import { createTestDatabase, dialects } from '../../platform/testing/test-databases.ts';
import { ExecutionReads, parseDeploymentId } from './execution-reads.ts';
import { KyselyExecutionStore, type RunRow, type StageRow } from './execution-store.ts';
import { executionMigrations } from './migrations.ts';

const run = (id: string, project: string, trigger: object = { type: 'manual' }): RunRow => ({
  id,
  project,
  pipeline: 'release',
  pipeline_version: 3,
  content_hash: `sha256:${'c'.repeat(64)}`,
  repository: 'https://git.example/shop.git',
  branch: 'main',
  commit_sha: 'a'.repeat(40),
  inputs: JSON.stringify({ region: 'eu' }),
  trigger: JSON.stringify(trigger),
  state: 'succeeded',
  reason: null,
  cancel_requested: 0,
  created_by: 'user:dana',
  created_at: '2026-07-01T08:00:00.000Z',
  started_at: '2026-07-01T08:00:00.000Z',
  finished_at: null,
});
const stage = (
  runId: string,
  idx: number,
  name: string,
  environment: string | null,
  startedAt: string | null,
  type = 'deploy',
): StageRow => ({
  run_id: runId,
  idx,
  name,
  type,
  environment,
  pool: 'default',
  state: startedAt ? 'succeeded' : 'pending',
  generation: 0,
  reason: null,
  waiting_since: null,
  started_at: startedAt,
  finished_at: null,
});

for (const dialect of dialects) {
  describe(`deployments read port [${dialect}]`, () => {
    let database: Database;
    const store = new KyselyExecutionStore(dialect);
    const reads = new ExecutionReads(store);
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      await migrateToLatest(database, [executionMigrations]);
      const db = database.db;
      await store.insertRun(db, run('run_a', 'shop'), [
        stage('run_a', 0, 'build', null, '2026-07-01T08:00:00.000Z', 'ci'),
        stage('run_a', 1, 'qa', 'qa', '2026-07-01T09:00:00.000Z'),
        stage('run_a', 2, 'prod', 'prod', '2026-07-02T09:00:00.000Z'),
      ]);
      await store.insertRun(
        db,
        run('run_b', 'shop', { type: 'rollback', environment: 'prod', release: 'run_a' }),
        [stage('run_b', 0, 'prod', 'prod', '2026-07-03T09:00:00.000Z')],
      );
      await store.insertRun(db, run('run_c', 'shop'), [stage('run_c', 0, 'prod', 'prod', null)]);
      await store.insertRun(db, run('run_d', 'bank'), [
        stage('run_d', 0, 'prod', 'prod', '2026-07-02T10:00:00.000Z'),
      ]);
    });
    afterAll(async () => {
      await database?.destroy();
    });

    it('lists deploy stages that started, oldest first, filtered by environment and period', async () => {
      const all = await reads.deployments(database.db, {}, { limit: 10, after: undefined });
      expect(all.items.map((d) => d.id)).toEqual([
        'run_a/qa',
        'run_a/prod',
        'run_d/prod',
        'run_b/prod',
      ]);
      const prod = await reads.deployments(
        database.db,
        {
          environments: [{ project: 'shop', environment: 'prod' }],
          from: '2026-07-02T00:00:00.000Z',
          to: '2026-07-04T00:00:00.000Z',
        },
        { limit: 10, after: undefined },
      );
      expect(prod.items.map((d) => [d.id, d.rollbackOf])).toEqual([
        ['run_a/prod', null],
        ['run_b/prod', 'run_a'],
      ]);
      expect(prod.items[0]).toMatchObject({
        project: 'shop',
        environment: 'prod',
        pipelineVersion: 3,
        inputs: { region: 'eu' },
        createdBy: 'user:dana',
      });
      const none = await reads.deployments(
        database.db,
        { environments: [] },
        { limit: 10, after: undefined },
      );
      expect(none.items).toEqual([]);
    });

    it('pages without repeating or skipping a deployment', async () => {
      const seen: string[] = [];
      let after: (string | number)[] | undefined;
      for (;;) {
        const page = await reads.deployments(database.db, {}, { limit: 1, after });
        seen.push(...page.items.map((d) => d.id));
        if (!page.next) break;
        after = [...page.next];
      }
      expect(seen).toEqual(['run_a/qa', 'run_a/prod', 'run_d/prod', 'run_b/prod']);
    });

    it('reads one deployment by id, and nothing for a stage that never started or is no deploy', async () => {
      expect((await reads.deployment(database.db, 'run_b/prod'))?.rollbackOf).toBe('run_a');
      expect(await reads.deployment(database.db, 'run_c/prod')).toBeUndefined();
      expect(await reads.deployment(database.db, 'run_a/build')).toBeUndefined();
      expect(await reads.deployment(database.db, 'run_a')).toBeUndefined();
      expect(parseDeploymentId('run_a/deploy/eu')).toEqual({ runId: 'run_a', stage: 'deploy/eu' });
    });
  });
}
