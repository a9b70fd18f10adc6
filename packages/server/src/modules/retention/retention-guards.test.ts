import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { deletes, plant, rawDb, yearsAgo, type Planted } from './retention-fixture.ts';

const manifest = (project: string, retention = '') => `
apiVersion: custody/v1
kind: Project
metadata: { name: ${project} }
spec: { description: shop${retention} }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: ${project} }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: ${project} }
spec: { type: production }
`;

const retained = /inside its retention period/;
const held = /under a legal hold/;
const immutable = /cannot be changed/;

// The database refuses, whoever sends the SQL: every statement here goes through the very
// connection the application uses (its database user), not through the API.
for (const dialect of dialects) {
  describe(`retention is enforced by the database [${dialect}]`, () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp(dialect);
      for (const p of ['shop', 'ledgerline'])
        expect((await t.applyApproved(manifest(p))).statusCode).toBe(200);
      expect(
        (await t.applyApproved(manifest('archive', ', retention: { years: 12 }'))).statusCode,
      ).toBe(200);
    }, 60_000);
    afterAll(() => t?.close());

    const hold = async (json: Record<string, string>) => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/legal-holds',
        json: { reason: 'litigation 2026-17', ...json },
      });
      expect(res.statusCode, res.body).toBe(201);
      return (res.json() as { id: string }).id;
    };
    // Documents name no project: the longest period of any project, and any active hold.
    const expectDeletes = async (
      p: Planted,
      outcome: RegExp | 'deleted',
      document: RegExp | 'deleted' = outcome,
    ) => {
      for (const [table, del] of deletes(p)) {
        const expected = table === 'evidence_documents' ? document : outcome;
        if (expected === 'deleted') await expect(del(rawDb(t)), table).resolves.toBeDefined();
        // A blob stays while the run file that names it does.
        else
          await expect(del(rawDb(t)), table).rejects.toThrow(
            table === 'blobs' ? /refer to/ : expected,
          );
      }
    };

    it('refuses a DELETE of any protected row inside its retention period', async () => {
      const p = await plant(t, { project: 'shop', environment: 'qa', at: new Date() });
      // The blob goes with its run file; everything else on its own retention.
      for (const [table, del] of deletes(p))
        await expect(del(rawDb(t)), table).rejects.toThrow(
          table === 'blobs' ? /refer to/ : retained,
        );
      // Plain SQL text, not the query builder: the same.
      await expect(sql`DELETE FROM runs`.execute(rawDb(t))).rejects.toThrow(retained);
      await expect(sql`DELETE FROM evidence_documents`.execute(rawDb(t))).rejects.toThrow(retained);
      expect(
        await rawDb(t).selectFrom('runs').select('id').where('id', '=', p.run).execute(),
      ).toHaveLength(1);
    });

    it('refuses UPDATEs of content, time and ownership, and leaves the application its updates', async () => {
      const p = await plant(t, { project: 'shop', environment: 'qa', at: new Date() });
      const db = rawDb(t);
      const refused: [string, () => Promise<unknown>][] = [
        [
          'backdate',
          () =>
            db
              .updateTable('runs')
              .set({ created_at: yearsAgo(20).toISOString() })
              .where('id', '=', p.run)
              .execute(),
        ],
        [
          'move',
          () =>
            db.updateTable('runs').set({ project: 'ledgerline' }).where('id', '=', p.run).execute(),
        ],
        [
          'pipeline',
          () =>
            db
              .updateTable('runs')
              .set({ content_hash: 'sha256:forged' })
              .where('id', '=', p.run)
              .execute(),
        ],
        [
          'env',
          () =>
            db
              .updateTable('run_stages')
              .set({ environment: 'nowhere' })
              .where('run_id', '=', p.run)
              .execute(),
        ],
        [
          'log',
          () =>
            db
              .updateTable('log_chunks')
              .set({ content: 'nothing happened' })
              .where('run_id', '=', p.run)
              .execute(),
        ],
        [
          'file',
          () =>
            db
              .updateTable('run_files')
              .set({ digest: 'sha256:other' })
              .where('run_id', '=', p.run)
              .execute(),
        ],
        [
          'blob',
          () =>
            db
              .updateTable('blobs')
              .set({ content_base64: 'AAAA' })
              .where('digest', '=', p.digest)
              .execute(),
        ],
        [
          'report',
          () =>
            db
              .updateTable('evidence_reports')
              .set({ figures: '{"failures":0}' })
              .where('id', '=', p.report)
              .execute(),
        ],
        [
          'finding',
          () =>
            db
              .updateTable('evidence_findings')
              .set({ severity: 'low' })
              .where('report_id', '=', p.report)
              .execute(),
        ],
        [
          'decision',
          () =>
            db
              .updateTable('policy_decisions')
              .set({ result: 'deny' })
              .where('id', '=', p.decision)
              .execute(),
        ],
        [
          'document',
          () =>
            db
              .updateTable('evidence_documents')
              .set({ body: '{}' })
              .where('digest', '=', p.document)
              .execute(),
        ],
      ];
      for (const [what, q] of refused) await expect(q(), what).rejects.toThrow(immutable);
      // What the engine legitimately moves: run and stage state, the resolved commit, the pool.
      await db
        .updateTable('runs')
        .set({ state: 'failed', reason: 'x', finished_at: new Date().toISOString() })
        .where('id', '=', p.run)
        .execute();
      await db.updateTable('runs').set({ commit_sha: 'abc123' }).where('id', '=', p.run).execute();
      await db
        .updateTable('runs')
        .set({ commit_sha: 'abc123def456' })
        .where('id', '=', p.run)
        .execute();
      await expect(
        db.updateTable('runs').set({ commit_sha: 'ffff' }).where('id', '=', p.run).execute(),
      ).rejects.toThrow(immutable);
      await db
        .updateTable('run_stages')
        .set({ state: 'failed', pool: 'other', generation: 3 })
        .where('run_id', '=', p.run)
        .execute();
      const run = await db
        .selectFrom('runs')
        .selectAll()
        .where('id', '=', p.run)
        .executeTakeFirstOrThrow();
      expect([run.state, run.commit_sha, run.project]).toEqual(['failed', 'abc123def456', 'shop']);
    });

    it('refuses a rewrite by insert-or-replace (SQLite) or insert-on-conflict-update (PostgreSQL)', async () => {
      const p = await plant(t, { project: 'shop', environment: 'qa', at: new Date() });
      const db = rawDb(t);
      const forged = Buffer.from('forged').toString('base64');
      if (dialect === 'sqlite') {
        await expect(
          sql`INSERT OR REPLACE INTO runs (id, project, pipeline, pipeline_version, content_hash, repository, branch, inputs, trigger, state, cancel_requested, created_by, created_at) VALUES (${p.run}, 'ledgerline', 'x', 1, 'h', 'r', 'b', '{}', '{}', 'succeeded', 0, 'u', '2000-01-01T00:00:00.000Z')`.execute(
            db,
          ),
        ).rejects.toThrow(/cannot be replaced/);
        // Where the application inserts idempotently the replace is skipped, not applied.
        await sql`INSERT OR REPLACE INTO blobs (digest, size, content_base64) VALUES (${p.digest}, 6, ${forged})`.execute(
          db,
        );
        await sql`INSERT INTO blobs (digest, size, content_base64) VALUES (${p.digest}, 6, ${forged}) ON CONFLICT (digest) DO NOTHING`.execute(
          db,
        );
      } else {
        await expect(
          sql`INSERT INTO blobs (digest, size, content_base64) VALUES (${p.digest}, 6, ${forged}) ON CONFLICT (digest) DO UPDATE SET content_base64 = EXCLUDED.content_base64`.execute(
            db,
          ),
        ).rejects.toThrow(immutable);
      }
      const blob = await db
        .selectFrom('blobs')
        .selectAll()
        .where('digest', '=', p.digest)
        .executeTakeFirstOrThrow();
      expect(blob.content_base64).not.toBe(forged);
      const run = await db
        .selectFrom('runs')
        .selectAll()
        .where('id', '=', p.run)
        .executeTakeFirstOrThrow();
      expect(run.project).toBe('shop');
    });

    if (dialect === 'postgres')
      it('refuses TRUNCATE of protected tables', async () => {
        for (const table of [
          'runs',
          'log_chunks',
          'blobs',
          'evidence_documents',
          'policy_decisions',
          'retention_holds',
        ])
          await expect(
            sql.raw(`TRUNCATE ${table} CASCADE`).execute(rawDb(t)),
            table,
          ).rejects.toThrow(/cannot be truncated/);
      });

    it('lets rows past retention be deleted, and a project period longer than the default keeps them', async () => {
      const old = await plant(t, { project: 'ledgerline', environment: 'qa', at: yearsAgo(8) });
      await expectDeletes(old, 'deleted', retained);
      // `archive` keeps its records 12 years: 8 years old is still inside.
      const kept = await plant(t, { project: 'archive', environment: 'qa', at: yearsAgo(8) });
      await expect(deletes(kept)[0]![1](rawDb(t))).rejects.toThrow(retained);
      const older = await plant(t, { project: 'archive', environment: 'qa', at: yearsAgo(12, 2) });
      await expectDeletes(older, 'deleted');
    });

    it('keeps its own records: periods and holds cannot be rewritten or removed', async () => {
      const db = rawDb(t);
      await expect(db.updateTable('retention_periods').set({ years: 0 }).execute()).rejects.toThrow(
        /append-only/,
      );
      await expect(db.deleteFrom('retention_periods').execute()).rejects.toThrow(/append-only/);
      // Appending a shorter period does not shorten what is already stored.
      await db
        .insertInto('retention_periods')
        .values({
          id: 'rtp_forged',
          scope: 'archive',
          years: 1,
          effective_at: new Date().toISOString(),
          recorded_by: 'dba',
        })
        .execute();
      const kept = await plant(t, { project: 'archive', environment: 'qa', at: yearsAgo(8) });
      await expect(deletes(kept)[0]![1](db)).rejects.toThrow(retained);
    });

    it('refuses deletes past retention under a hold on the environment, the change or the project', async () => {
      const db = rawDb(t);
      const prod = await plant(t, { project: 'shop', environment: 'prod', at: yearsAgo(9) });
      const qa = await plant(t, { project: 'shop', environment: 'qa', at: yearsAgo(9) });
      const envHold = await hold({ project: 'shop', environment: 'prod' });
      // Everything of a run that deployed to prod is held, its build-side rows included.
      await expectDeletes(prod, held, /retention period|legal hold/);
      // (Its document is both inside archive's 12 years and waiting for any hold.)
      await expectDeletes(qa, 'deleted', /retention period|legal hold/);
      // A forged release row (no ledger entry behind it) lifts nothing.
      await db
        .insertInto('retention_hold_events')
        .values({
          id: 'hrel_forged',
          hold_id: envHold,
          kind: 'released',
          actor: 'user:dba',
          reason: null,
          request_id: null,
          at: new Date().toISOString(),
        })
        .execute();
      await expect(deletes(prod)[0]![1](db)).rejects.toThrow(held);
      await expect(
        db.deleteFrom('retention_holds').where('id', '=', envHold).execute(),
      ).rejects.toThrow(/append-only/);

      // A change hold: only the run of that deployment.
      const a = await plant(t, { project: 'ledgerline', environment: 'qa', at: yearsAgo(9) });
      const b = await plant(t, { project: 'ledgerline', environment: 'qa', at: yearsAgo(9) });
      await hold({ project: 'ledgerline', change: `${a.run}/deploy` });
      await expectDeletes(a, held, /retention period|legal hold/);
      await expectDeletes(b, 'deleted', /retention period|legal hold/);

      // A project hold: every row of the project; documents (no project) wait for any hold.
      const c = await plant(t, { project: 'archive', environment: 'qa', at: yearsAgo(13) });
      await hold({ project: 'archive' });
      await expectDeletes(c, held);
    });
  });
}
