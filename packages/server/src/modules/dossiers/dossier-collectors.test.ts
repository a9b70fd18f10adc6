import { leafHash, verifyInclusion, fromBase64 } from '@custody/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../platform/testing/test-databases.ts';
import {
  DossierScenario,
  hostile,
  junitReports,
  secrets,
} from '../../platform/testing/change-scenario.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const commitA = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
const commitB = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';

for (const dialect of dialects) {
  describe(`dossier collectors [${dialect}]`, () => {
    let s: DossierScenario;
    let normal: string;
    let emergency: { deployment: string; change: string };

    beforeAll(async () => {
      s = await DossierScenario.start(dialect);
      normal = await s.normalChange(commitA, junitReports(1));
      emergency = await s.emergencyChange(commitB);
      await s.ticketUpdated('CHG0040001');
      // Past the settling time after the deployments finished.
      s.clock.advance(60_000);
    }, 120_000);
    afterAll(async () => {
      await s?.close();
    });

    const collect = (id: string) => s.t.app.services.dossiers.collect(id);

    it('a normal change: the ticket and its state at deploy time, the commits and their review, two approvers', async () => {
      const c = await collect(normal);
      const sec = c.sections as Obj;
      expect(c.final).toBe(true);
      expect(sec['dossier.json']).toMatchObject({
        deployment: normal,
        final: true,
        state: 'succeeded',
      });

      const change = sec['change.json'];
      expect(change.class).toBe('normal');
      expect(change.changeRecordRequired).toBe('servicenow');
      expect(change.ticket).toMatchObject({
        collected: true,
        id: 'CHG0040001',
        system: 'servicenow',
      });
      expect(change.ticket.stateAtDeploy.map((r: Obj) => r.code)).toContain(
        'CHANGES_TICKET_APPROVED',
      );
      expect(change.request).toMatchObject({ collected: false });
      expect(change.emergency).toEqual({ collected: false, reason: 'not an emergency change' });

      const commits = sec['commits.json'];
      expect(commits).toMatchObject({ collected: true, since: null, head: commitA });
      expect(commits.commits).toEqual([
        expect.objectContaining({
          sha: commitA,
          authorEmail: 'dev@example.com',
          signature: 'good',
        }),
      ]);
      expect(commits.changes).toEqual([
        expect.objectContaining({
          number: 7,
          title: `Fix checkout ${hostile}`,
          reviews: [expect.objectContaining({ reviewer: 'github:rm1-gh', verdict: 'approved' })],
        }),
      ]);

      const pipeline = sec['pipeline.json'];
      expect(pipeline).toMatchObject({
        collected: true,
        name: 'release',
        version: 1,
        matchesRun: true,
      });
      expect(
        new TextDecoder().decode(c.files.find((f) => f.path === 'pipeline.yaml')!.bytes),
      ).toContain('name: release');
      const env = sec['environment.json'];
      expect(env).toMatchObject({ collected: true, name: 'prod', type: 'production', version: 1 });
      expect(env.document.spec.approvals.rules[0]).toMatchObject({
        group: 'releasers',
        required: 2,
      });

      const gate = sec['gate-decisions.json'];
      expect(gate.collected).toBe(true);
      expect(gate.decisions.at(-1)).toMatchObject({ allowed: true });
      expect(gate.decisions.flatMap((d: Obj) => d.reasons.map((r: Obj) => r.check))).toEqual(
        expect.arrayContaining(['change', 'approvals']),
      );

      const approvals = sec['approvals.json'];
      expect(approvals.collected).toBe(true);
      const req = approvals.requests.find((r: Obj) => r.state === 'approved');
      expect(req.intent).toMatchObject({ environment: 'shop/prod', commit: commitA });
      expect(req.votes).toEqual([
        expect.objectContaining({
          principal: 'user:rm1',
          decision: 'approve',
          comment: 'ok from rm1',
        }),
        expect.objectContaining({
          principal: 'user:rm2',
          decision: 'approve',
          comment: 'ok from rm2',
        }),
      ]);

      // No policy is bound anywhere: said so, never an empty list.
      expect(sec['policy-decisions.json']).toEqual({
        collected: false,
        reason: expect.stringContaining('no custody.deploy'),
      });
      expect(sec['dossier.json'].sections['policy-decisions.json']).toMatchObject({
        collected: false,
      });

      const evidence = sec['evidence.json'];
      expect(evidence.collected).toBe(true);
      expect(evidence.summary.tests).toMatchObject({ tests: 2, passed: 2 });
      expect(evidence.summary.artifacts[0]).toMatchObject({ name: 'app' });
      const attest = sec['attestations/index.json'];
      expect(attest.collected).toBe(true);
      expect(attest.attestations.length).toBeGreaterThan(0);
      for (const a of attest.attestations)
        expect(c.files.some((f) => f.path === a.file)).toBe(true);

      const run = sec['run.json'];
      expect(run.deployment).toMatchObject({ stage: 'deploy-prod', state: 'succeeded' });
      expect(run.deployment.jobs[0].steps).toEqual([
        expect.objectContaining({ name: 'ship', state: 'succeeded', exitCode: 0 }),
      ]);
      expect(run.run.triggeredBy).toBe('user:dev');
    });

    it('the ledger section: the run, gate, approvals and pipeline entries, each proven against one checkpoint', async () => {
      const c = await collect(normal);
      const actions = c.ledger.entries.map(
        (e) => (JSON.parse(new TextDecoder().decode(e.leaf)) as { action: string }).action,
      );
      expect(actions).toEqual(
        expect.arrayContaining([
          'executions.run.created',
          'deployments.gate.allowed',
          'executions.artifact.recorded',
          'attestations.attestation.issued',
          'resources.pipeline.created',
          'resources.environment.created',
          // The ticket system was told of the outcome.
          'changes.ticket.updated',
          // The pipeline version deploys to production: its second person's approval.
          'approvals.request.created',
          'approvals.request.approved',
        ]),
      );
      expect(actions.filter((a) => a.startsWith('deployments.approval.'))).toEqual([
        'deployments.approval.requested',
        'deployments.approval.approved',
        'deployments.approval.approved',
        'deployments.approval.granted',
      ]);
      const size = Number(c.ledger.checkpoint.split('\n')[1]);
      const root = fromBase64(c.ledger.checkpoint.split('\n')[2]!);
      expect(c.ledger.entries.map((e) => e.index)).toEqual(
        [...c.ledger.entries.map((e) => e.index)].sort((a, b) => a - b),
      );
      c.ledger.entries.forEach((e, i) => {
        expect(e.index).toBeLessThan(size);
        expect(verifyInclusion(leafHash(e.leaf), e.index, size, c.ledger.proofs[i]!, root)).toBe(
          true,
        );
      });
    });

    it('an emergency change: class, reason, and its review, not final until reviewed', async () => {
      const before = await collect(emergency.deployment);
      expect(before.final).toBe(false);
      const change = (before.sections as Obj)['change.json'];
      expect(change.class).toBe('emergency');
      expect(change.request).toMatchObject({
        id: emergency.change,
        requestedBy: 'user:dev',
        activatedBy: 'user:rm1',
      });
      expect(change.request.usedByThisDeployment).toHaveLength(1);
      expect(change.emergency).toMatchObject({
        reason: `INC-9 ${hostile}`,
        review: { status: 'pending' },
      });
      // The emergency change stood in for the approvals: said so.
      expect((before.sections as Obj)['approvals.json']).toEqual({
        collected: false,
        reason: expect.stringContaining('emergency change'),
      });
      // The ticket the environment requires was not given: only break-glass stood in.
      expect(change.ticket).toMatchObject({ collected: false });

      await s.review(emergency.change, 'root cause: expired certificate; fixed');
      const after = await collect(emergency.deployment);
      expect(after.final).toBe(true);
      const reviewed = (after.sections as Obj)['change.json'].emergency.review;
      expect(reviewed).toMatchObject({
        status: 'done',
        reviewedBy: 'user:rm2',
        notes: 'root cause: expired certificate; fixed',
      });
      const actions = after.ledger.entries.map(
        (e) => (JSON.parse(new TextDecoder().decode(e.leaf)) as { action: string }).action,
      );
      expect(actions).toEqual(
        expect.arrayContaining([
          'changes.request.created',
          'changes.request.used',
          'changes.request.reviewed',
        ]),
      );
    });

    it('no secret goes in; secret-named inputs are redacted and listed; index.html escapes every value', async () => {
      const c = await collect(normal);
      const all = c.files.map((f) => new TextDecoder().decode(f.bytes)).join('\n');
      for (const value of Object.values(secrets)) expect(all).not.toContain(value);
      const run = (c.sections as Obj)['run.json'];
      expect(run.run.inputs).toEqual({ ticket: 'CHG0040001', api_token: '[redacted]' });
      expect((c.sections as Obj)['dossier.json'].redacted['run.json']).toContain(
        '$.run.inputs.api_token',
      );

      const html = new TextDecoder().decode(c.files.find((f) => f.path === 'index.html')!.bytes);
      expect(html).not.toMatch(/<script/i);
      expect(html).toContain(
        'Fix checkout &lt;script&gt;alert(&quot;dossier&quot;)&lt;/script&gt;',
      );
      const em = await collect(emergency.deployment);
      const emHtml = new TextDecoder().decode(em.files.find((f) => f.path === 'index.html')!.bytes);
      expect(emHtml).not.toMatch(/<script/i);
      expect(emHtml).toContain('INC-9 &lt;script&gt;');
    });
  });

  describe(`dossier collectors with a bound custody.deploy policy [${dialect}]`, () => {
    let s: DossierScenario;
    beforeAll(async () => {
      s = await DossierScenario.start(dialect, { policies: true });
    }, 120_000);
    afterAll(async () => {
      await s?.close();
    });

    it('every policy decision about the deployment, with its ledger entries', async () => {
      const id = await s.normalChange(commitA, junitReports(1));
      s.clock.advance(60_000);
      const c = await s.t.app.services.dossiers.collect(id);
      const p = (c.sections as Obj)['policy-decisions.json'];
      expect(p.collected).toBe(true);
      expect(p.decisions.length).toBeGreaterThan(0);
      for (const d of p.decisions) {
        expect(d).toMatchObject({ point: 'deploy', subject: { type: 'stage', id } });
        expect(d.warn).toEqual([expect.objectContaining({ message: 'deploying to production' })]);
        expect(d.policies[0]).toMatchObject({ name: 'deploy-check' });
      }
      const resources = c.ledger.entries.map(
        (e) =>
          (
            JSON.parse(new TextDecoder().decode(e.leaf)) as {
              resource: { type: string; id: string };
            }
          ).resource,
      );
      for (const d of p.decisions)
        expect(resources).toContainEqual({ type: 'policy-decision', id: d.id });
    });
  });
}
