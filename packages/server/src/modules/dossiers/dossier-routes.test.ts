import { readDossier, verifyDossier } from '@custody/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../platform/testing/test-databases.ts';
import { TestRunner } from '../../platform/testing/test-runner.ts';
import { DossierScenario, junitReports } from '../../platform/testing/change-scenario.ts';
import { KyselyDossierStore } from './dossier-store.ts';

const commitA = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
const commitB = 'd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4';

for (const dialect of dialects) {
  describe(`GET /api/v1/deployments/:run/:stage/dossier [${dialect}]`, () => {
    let s: DossierScenario;
    let deployment: string;
    let verifierKey: string;
    const url = (id: string) => `/api/v1/deployments/${id}/dossier`;
    const get = (id: string, token?: string) => s.t.request({ method: 'GET', url: url(id), token });
    const generated = async (id: string) =>
      (
        await s.t.app.services.audit.list({
          action: 'dossiers.dossier.generated',
          resourceId: id,
          limit: 100,
        })
      ).length;

    beforeAll(async () => {
      s = await DossierScenario.start(dialect);
      deployment = await s.normalChange(commitA, junitReports(1));
      await s.ticketUpdated('CHG0040001');
      s.clock.advance(60_000);
      verifierKey = s.t.app.services.ledger.service.verifierKey().verifierKey;
    }, 120_000);
    afterAll(async () => {
      await s?.close();
    });

    it('an auditor downloads a zip that verifies offline; a finished deployment’s dossier is built once and served again', async () => {
      const first = await get(deployment, s.tokens.auditor);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.headers['content-type']).toBe('application/zip');
      expect(first.headers['content-disposition']).toMatch(
        /^attachment; filename="dossier-.+\.zip"$/,
      );
      expect(first.headers['x-dossier-final']).toBe('true');
      const zip = new Uint8Array(first.rawPayload);
      const v = verifyDossier(zip, { verifierKey });
      expect(v.ok, JSON.stringify(v)).toBe(true);
      expect(readDossier(zip).has('change.json')).toBe(true);
      expect(await generated(deployment)).toBe(1);

      s.clock.advance(60_000);
      const again = await get(deployment, s.tokens.auditor);
      expect(Buffer.compare(again.rawPayload, first.rawPayload)).toBe(0);
      expect(await generated(deployment)).toBe(1);
      expect(await new KyselyDossierStore().count(s.t.app.database.db, deployment)).toBe(1);
      const entry = (
        await s.t.app.services.audit.list({
          action: 'dossiers.dossier.generated',
          resourceId: deployment,
          limit: 1,
        })
      )[0]!;
      expect(entry.actor.name).toBe('audrey');
      expect(entry.details).toMatchObject({ final: true, size: first.rawPayload.length });
    });

    it('a developer, a user without any binding and a runner token are refused, and each refusal is audited', async () => {
      const nobody = await s.t.user('nobody');
      const runner = await TestRunner.register(s.t, 'other-runner', ['default']);
      for (const token of [s.tokens.dev, s.tokens.rm1, nobody, runner.token]) {
        const res = await get(deployment, token);
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().error.code).toBe('AUTHZ_PERMISSION_DENIED');
      }
      // Reading dossiers of another project does not reach this one.
      const elsewhere = await s.t.user('auditor-elsewhere', ['auditor@project:elsewhere']);
      const scoped = await get(deployment, elsewhere);
      expect(scoped.statusCode, scoped.body).toBe(403);
      const denied = await s.t.app.services.audit.list({
        outcome: 'denied',
        limit: 1000,
        order: 'desc',
      });
      expect(
        denied.filter(
          (e) => (e.details as { permission?: string })?.permission === 'dossiers.dossier.read',
        ).length,
      ).toBeGreaterThanOrEqual(5);
      // An unknown deployment is a 404 for someone who may read dossiers; nothing is built.
      const missing = await get('run_nope/deploy-prod', s.tokens.auditor);
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('DOSSIERS_DEPLOYMENT_NOT_FOUND');
    });

    it('a running deployment’s dossier is built fresh each time and marked not final', async () => {
      const { deployment: running, finish } = await s.runningChange(commitB);
      const a = await get(running, s.tokens.auditor);
      expect(a.statusCode, a.body).toBe(200);
      expect(a.headers['x-dossier-final']).toBe('false');
      const meta = JSON.parse(
        new TextDecoder().decode(readDossier(new Uint8Array(a.rawPayload)).get('dossier.json')!),
      );
      expect(meta).toMatchObject({ final: false, deployment: running });
      s.clock.advance(1000);
      const b = await get(running, s.tokens.auditor);
      expect(b.statusCode).toBe(200);
      expect(await generated(running)).toBe(2);
      expect(verifyDossier(new Uint8Array(b.rawPayload), { verifierKey }).ok).toBe(true);
      // The leader's duty leaves it alone until it finishes.
      expect(await s.t.app.services.dossiers.buildPending()).not.toContain(running);
      // Once it finished, its dossier is final: built once more, then served as stored.
      await finish();
      // Just finished: not final until it settled (the ticket system is told just after).
      const settling = await get(running, s.tokens.auditor);
      expect(settling.headers['x-dossier-final']).toBe('false');
      expect(await s.t.app.services.dossiers.buildPending()).not.toContain(running);
      s.clock.advance(60_000);
      const c = await get(running, s.tokens.auditor);
      expect(c.headers['x-dossier-final']).toBe('true');
      const again = await get(running, s.tokens.auditor);
      expect(Buffer.compare(again.rawPayload, c.rawPayload)).toBe(0);
      expect(await generated(running)).toBe(4);
    });

    it('the leader duty builds the dossier of every finished production deployment once', async () => {
      const other = await s.normalChange(
        'e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5',
        junitReports(1),
      );
      const third = await s.normalChange(
        'f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6',
        junitReports(1),
      );
      // Two requests at once for a dossier not built yet: one is stored, both get its bytes.
      s.clock.advance(60_000);
      const [a, b] = await Promise.all([
        get(third, s.tokens.auditor),
        get(third, s.tokens.auditor),
      ]);
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      expect(Buffer.compare(a.rawPayload, b.rawPayload)).toBe(0);
      expect(await generated(third)).toBe(1);
      const built = await s.t.app.services.dossiers.buildPending();
      expect(built).toContain(other);
      expect(built).not.toContain(deployment); // it had one already
      expect(built).not.toContain(third);
      expect(await s.t.app.services.dossiers.buildPending()).toEqual([]);
      const entry = await s.t.app.services.audit.list({
        action: 'dossiers.dossier.generated',
        resourceId: other,
        limit: 10,
      });
      expect(entry).toHaveLength(1);
      expect(entry[0]!.actor).toMatchObject({ type: 'system', name: 'dossiers' });
      const served = await get(other, s.tokens.auditor);
      expect(served.statusCode).toBe(200);
      expect(await generated(other)).toBe(1);
    });
  });
}
