import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// A ServiceNow Change Management API (GET /api/sn_chg_rest/v1/change?sysparm_query=number=…)
// answering with { value, display_value } fields, as the vendor documents it.
const field = (value: string, display = value) => ({ value, display_value: display });
const tickets: Record<string, { state: string; name: string; approval: string }> = {
  CHG0040001: { state: '-2', name: 'Scheduled', approval: 'approved' },
  CHG0040002: { state: '-5', name: 'New', approval: 'not requested' },
  CHG0040003: { state: '-4', name: 'Assess', approval: 'requested' },
};
const password = 'sn-gate-secret';

const patches: { url: string; body: string }[] = [];

async function serviceNow(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method === 'PATCH') {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        patches.push({ url: req.url!, body: raw });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: { sys_id: field('x') } }));
      });
      return;
    }
    const url = new URL(req.url!, 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (
      req.headers.authorization !== `Basic ${Buffer.from(`custody:${password}`).toString('base64')}`
    )
      return send(401, { error: { message: 'User Not Authenticated' }, status: 'failure' });
    const number = /^number=(.+)$/.exec(url.searchParams.get('sysparm_query') ?? '')?.[1] ?? '';
    const c = tickets[number];
    return send(200, {
      result: c
        ? [
            {
              sys_id: field(`sys-${number}`),
              number: field(number),
              state: field(c.state, c.name),
              approval: field(c.approval),
              type: field('normal', 'Normal'),
            },
          ]
        : [],
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

for (const dialect of dialects) {
  describe(`deployment gate with a ServiceNow change record [${dialect}]`, () => {
    let t: TestApp;
    let sn: { server: Server; url: string };
    const clock = new ManualClock('2026-11-18T15:00:00Z');

    beforeAll(async () => {
      sn = await serviceNow();
      t = await createTestApp(dialect, { clock });
      const applied = await t.applyApproved(`
apiVersion: custody/v1
kind: Project
metadata: { name: tix }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: tix }
spec: { type: production, changeRecord: servicenow }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: dr, project: tix }
spec: { type: production, changeRecord: servicenow }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow }
spec:
  type: servicenow
  baseUrl: ${sn.url}
  scope: { environments: [tix/production] }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow-down }
spec:
  type: servicenow
  baseUrl: http://127.0.0.1:1
  timeout: 2s
  scope: { environments: [tix/dr] }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: tix }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  inputs: [{ name: ticket }]
  stages:
    - name: deploy
      type: deploy
      environment: production
      steps: [{ name: deploy, run: ./deploy.sh }]
`);
      expect(applied.statusCode, applied.body).toBe(200);
      for (const name of ['snow', 'snow-down'])
        expect(
          (
            await t.request({
              method: 'PUT',
              url: `/api/v1/changes/connectors/${name}/credentials`,
              json: { username: 'custody', password },
            })
          ).statusCode,
        ).toBe(200);
    });
    afterAll(async () => {
      await t?.close();
      await new Promise((r) => sn?.server.close(r));
    });

    const evaluate = (environment: string, ticket?: string) =>
      t.app.database.db.transaction().execute((tx) =>
        t.app.services.gate.evaluate(tx, () => {}, {
          run: {
            id: 'run_tickets',
            project: 'tix',
            pipeline: 'release',
            pipelineVersion: 1,
            contentHash: 'sha256:00',
            branch: 'main',
            commit: null,
            inputs: ticket ? { ticket } : {},
            trigger: { type: 'manual' },
            createdBy: 'user:dev',
          },
          stage: { name: 'deploy' },
          environment,
          at: clock.now(),
        }),
      );
    // The change check's own verdict: a ticket never stands in for the four eyes of a
    // production environment, so the approval checks block on their own.
    const codes = (d: { reasons: { check: string; code: string; blocking: boolean }[] }) =>
      d.reasons.filter((r) => r.blocking && r.check === 'change').map((r) => r.code);

    it('an approved change passes; new or assess blocks; no ticket blocks', async () => {
      const ok = await evaluate('production', 'CHG0040001');
      expect(codes(ok)).toEqual([]);
      expect(ok.reasons.map((r) => r.code)).toContain('CHANGES_TICKET_APPROVED');
      // Only the second person's approval is missing (the pipeline version's and the deployment's).
      expect(
        ok.reasons
          .filter((r) => r.blocking)
          .map((r) => r.code)
          .sort(),
      ).toEqual(['APPROVAL_REQUIRED', 'PIPELINE_VERSION_NOT_APPROVED']);
      for (const ticket of ['CHG0040002', 'CHG0040003']) {
        const refused = await evaluate('production', ticket);
        expect(refused.allowed).toBe(false);
        expect(refused.status).toBe('blocked');
        expect(refused.reasons.find((r) => r.check === 'change')?.blocking).toBe(true);
        expect(codes(refused)).toEqual(['CHANGES_TICKET_NOT_APPROVED']);
      }
      expect(codes(await evaluate('production'))).toEqual(['CHANGES_RECORD_REQUIRED']);
      expect(codes(await evaluate('production', 'CHG0049999'))).toEqual([
        'CHANGES_TICKET_NOT_FOUND',
      ]);
    });

    it('a connector that cannot be reached blocks the deployment with a clear error (fail closed)', async () => {
      const down = await evaluate('dr', 'CHG0040001');
      expect(down.allowed).toBe(false);
      const reason = down.reasons.find((r) => r.check === 'change')!;
      expect(reason.code).toMatch(/^CHANGES_CONNECTOR_/);
      expect(reason.message.length).toBeGreaterThan(10);
      expect(reason.unblock).toContain('servicenow');
    });

    it('the referenced ticket is updated when the deployment succeeds', async () => {
      const ctx = systemContext(t.app, 'test');
      const pending = (
        await t.app.services.approvals.list(ctx, { state: 'pending', project: 'tix' })
      ).items;
      const rita = await t.user('rita', ['release-manager@project:tix']);
      for (const a of pending)
        expect(
          (
            await t.request({
              method: 'POST',
              url: `/api/v1/approvals/${a.id}/approve`,
              token: rita,
              json: {},
            })
          ).statusCode,
        ).toBe(200);
      const run = await t.app.services.engine.runs.create(ctx, {
        project: 'tix',
        pipeline: 'release',
        inputs: { ticket: 'CHG0040001' },
      });
      // Four eyes: the approved ticket is checked, and a second person still approves.
      const waiting = (
        await t.app.services.deployments.list(ctx, { state: 'pending', project: 'tix' })
      ).items;
      expect(waiting.map((w) => w.run)).toContain(run.id);
      const dap = waiting.find((w) => w.run === run.id)!;
      expect(
        (
          await t.request({
            method: 'POST',
            url: `/api/v1/deployments/approvals/${dap.id}/approve`,
            token: rita,
            json: {},
          })
        ).statusCode,
      ).toBe(200);
      await t.app.services.engine.tick();
      const job = await t.app.services.engine.leasing.lease(ctx, {
        runnerId: 'runner-test',
        pools: ['default'],
      });
      expect(job?.stage).toBe('deploy');
      const reports = t.app.services.engine.reports;
      await reports.stepStarted(ctx, job!.jobId, job!.leaseId, 0);
      await reports.stepFinished(ctx, job!.jobId, job!.leaseId, 0, {
        result: 'succeeded',
        exitCode: 0,
        attempts: 1,
      });
      await reports.completeJob(ctx, job!.jobId, job!.leaseId, { result: 'succeeded' });
      for (let i = 0; i < 50 && patches.length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(patches.length).toBe(1);
      expect(patches[0]!.url).toContain('sys-CHG0040001');
      expect(patches[0]!.body).toContain(run.id);
      for (let i = 0; i < 50; i++) {
        const audit = await t.app.services.audit.list({ limit: 1000 });
        if (audit.some((e) => e.action === 'changes.ticket.updated')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const audit = await t.app.services.audit.list({ limit: 1000 });
      expect(audit.find((e) => e.action === 'changes.ticket.updated')?.outcome).toBe('succeeded');
      patches.length = 0;
    });
  });
}
