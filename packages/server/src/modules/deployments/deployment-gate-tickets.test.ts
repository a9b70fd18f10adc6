import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function serviceNow(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
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
  describe(`deployment gate with a ServiceNow change record (${dialect})`, () => {
    let t: TestApp;
    let sn: { server: Server; url: string };
    const clock = new ManualClock('2026-11-18T15:00:00Z');

    beforeAll(async () => {
      sn = await serviceNow();
      t = await createTestApp(dialect, { clock });
      const applied = await t.apply(`
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
    const codes = (d: { reasons: { code: string; blocking: boolean }[] }) =>
      d.reasons.filter((r) => r.blocking).map((r) => r.code);

    it('an approved change passes; new or assess blocks; no ticket blocks', async () => {
      const ok = await evaluate('production', 'CHG0040001');
      expect(ok.allowed).toBe(true);
      expect(ok.reasons.map((r) => r.code)).toContain('CHANGES_TICKET_APPROVED');
      for (const ticket of ['CHG0040002', 'CHG0040003']) {
        const refused = await evaluate('production', ticket);
        expect(refused.allowed).toBe(false);
        expect(refused.status).toBe('blocked');
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
  });
}
