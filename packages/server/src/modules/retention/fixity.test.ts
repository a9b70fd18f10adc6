import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import type { FixityResult } from './fixity.ts';
import { plant, rawDb } from './retention-fixture.ts';

for (const dialect of dialects) {
  describe(`fixity re-hashes stored blobs and documents [${dialect}]`, () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp(dialect, { config: { fixityInterval: '1h' } });
    }, 60_000);
    afterAll(() => t?.close());

    const check = async (token?: string) => {
      const res = await t.request({ method: 'POST', url: '/api/v1/evidence/fixity', token });
      return {
        status: res.statusCode,
        body: res.json() as FixityResult & { error?: { code: string } },
      };
    };

    it('finds a blob a superuser rewrote with the guard switched off, and records it in the ledger', async () => {
      const a = await plant(t, { project: 'shop', environment: 'prod', at: new Date() });
      const b = await plant(t, { project: 'shop', environment: 'prod', at: new Date() });
      const clean = await check();
      expect(clean.status).toBe(200);
      expect(clean.body.blobs).toMatchObject({ checked: 2, mismatched: 0 });
      expect(clean.body.documents).toMatchObject({ checked: 2, mismatched: 0 });
      expect(clean.body.blobs.firstDigest! < clean.body.blobs.lastDigest!).toBe(true);
      expect(clean.body.mismatches).toEqual([]);
      expect(clean.body.guards).toEqual({ intact: true, missing: [] });

      // The trigger refuses the rewrite; what only a table owner or superuser can do is switch
      // it off first. Fixity is what finds that.
      const db = rawDb(t);
      const forged = Buffer.from('a different artifact').toString('base64');
      await expect(
        db
          .updateTable('blobs')
          .set({ content_base64: forged })
          .where('digest', '=', a.digest)
          .execute(),
      ).rejects.toThrow(/cannot be changed/);
      if (dialect === 'postgres') {
        await sql`ALTER TABLE blobs DISABLE TRIGGER retention_blobs_guard`.execute(db);
        await db
          .updateTable('blobs')
          .set({ content_base64: forged })
          .where('digest', '=', a.digest)
          .execute();
        await sql`ALTER TABLE blobs ENABLE TRIGGER retention_blobs_guard`.execute(db);
      } else {
        await sql`DROP TRIGGER retention_blobs_immutable`.execute(db);
        await db
          .updateTable('blobs')
          .set({ content_base64: forged })
          .where('digest', '=', a.digest)
          .execute();
      }

      const damaged = await check();
      // A dropped trigger is reported; a re-enabled one is not.
      expect(damaged.body.guards.missing).toEqual(
        dialect === 'sqlite' ? ['retention_blobs_immutable'] : [],
      );
      expect(damaged.body.blobs).toMatchObject({ checked: 2, mismatched: 1 });
      expect(damaged.body.mismatches).toHaveLength(1);
      const [m] = damaged.body.mismatches;
      expect(m).toMatchObject({ source: 'blob', digest: a.digest, sizeActual: 20 });
      expect(m!.actual).not.toBe(a.digest);
      expect(m!.usedBy).toEqual([
        {
          run: a.run,
          job: expect.any(String),
          kind: 'artifact',
          name: 'app',
          path: 'dist/app.tar',
        },
      ]);
      expect(damaged.body.mismatches.some((x) => x.digest === b.digest)).toBe(false);

      const mismatches = await t.app.services.audit.list({
        action: 'retention.fixity.mismatch',
        limit: 10,
      });
      expect(
        mismatches.map((e) => [
          e.resource.id,
          e.outcome,
          (e.details.usedBy as { run: string }[])[0]?.run,
        ]),
      ).toEqual([[a.digest, 'failed', a.run]]);
      const checks = await t.app.services.audit.list({
        action: 'retention.fixity.checked',
        limit: 10,
      });
      expect(
        checks.map((e) => [(e.details.blobs as { mismatched: number }).mismatched, e.outcome]),
      ).toEqual([
        [0, 'succeeded'],
        [1, 'failed'],
      ]);
      expect(checks[0]!.details).toMatchObject({
        durationMs: expect.any(Number),
        blobs: { firstDigest: expect.any(String) },
      });
    });

    it('finds a rewritten evidence document', async () => {
      const p = await plant(t, { project: 'shop', environment: 'prod', at: new Date() });
      const db = rawDb(t);
      if (dialect === 'postgres')
        await sql`ALTER TABLE evidence_documents DISABLE TRIGGER retention_evidence_documents_guard`.execute(
          db,
        );
      else await sql`DROP TRIGGER retention_evidence_documents_immutable`.execute(db);
      await db
        .updateTable('evidence_documents')
        .set({ body: '{"input":"forged"}' })
        .where('digest', '=', p.document)
        .execute();
      const res = await check();
      expect(
        res.body.mismatches.filter((m) => m.source === 'document').map((m) => m.digest),
      ).toEqual([p.document]);
      expect(res.body.guards.missing).toContain(
        dialect === 'sqlite'
          ? 'retention_evidence_documents_immutable'
          : 'retention_evidence_documents_guard',
      );
      const last = (
        await t.app.services.audit.list({
          action: 'retention.fixity.checked',
          limit: 1,
          order: 'desc',
        })
      )[0]!;
      expect(last.details.guardsMissing).toEqual(res.body.guards.missing);
      expect(await t.app.services.retention.periods.guards()).toEqual(res.body.guards);
    });

    it('runs on schedule only when the interval has passed since the last recorded check', async () => {
      const fixity = t.app.services.retention.fixity;
      expect(await fixity.due(3_600_000)).toBeUndefined();
      const ran = await fixity.due(0);
      expect(ran?.blobs.checked).toBeGreaterThan(0);
      const last = (
        await t.app.services.audit.list({
          action: 'retention.fixity.checked',
          limit: 1,
          order: 'desc',
        })
      )[0]!;
      expect(last.actor.type).toBe('system');
    });

    it('pages through more blobs than one page holds, each once', async () => {
      const db = rawDb(t);
      const rows = Array.from({ length: 450 }, (_, i) => {
        const bytes = Buffer.from(`blob ${i}`);
        return {
          digest: 'sha256:' + createHash('sha256').update(bytes).digest('hex'),
          size: bytes.length,
          content_base64: bytes.toString('base64'),
        };
      });
      await db.insertInto('blobs').values(rows).execute();
      const { count } = await db
        .selectFrom('blobs')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      const res = await check();
      expect(res.body.blobs.checked).toBe(Number(count));
      // The blob rewritten earlier is still the only mismatch.
      expect(res.body.blobs.mismatched).toBe(1);
    });

    it('needs retention.fixity.check: an auditor reads, but does not run it', async () => {
      const auditor = await t.user('auditor-ann', ['auditor']);
      const res = await check(auditor);
      expect([res.status, res.body.error?.code]).toEqual([403, 'AUTHZ_PERMISSION_DENIED']);
    });
  });

  describe(`fixity runs as a leader duty [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { config: { fixityInterval: '1h' } });
    }, 60_000);
    afterAll(() => t?.close());

    it('checks once when the server starts leading, then waits for the interval', async () => {
      await plant(t, { project: 'shop', environment: 'prod', at: new Date() });
      const checks = () =>
        t.app.services.audit.list({ action: 'retention.fixity.checked', limit: 10 });
      t.app.background.start();
      const deadline = Date.now() + 20_000;
      while ((await checks()).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const [first, ...more] = await checks();
      expect(first?.actor.type).toBe('system');
      expect(first?.details.blobs).toMatchObject({ checked: 1, mismatched: 0 });
      expect(more).toEqual([]);
      await t.app.background.stop();
    }, 30_000);
  });
}
