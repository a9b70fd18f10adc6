import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

async function listen(
  handler: (req: IncomingMessage, body: unknown, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as unknown) : undefined;
      seen.push({
        method: req.method!,
        url: req.url!,
        authorization: req.headers.authorization,
        body,
      });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (res: ServerResponse, status: number, body?: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
};

// Change Management API records: every field as { value, display_value }.
const snField = (value: string, display = value) => ({ value, display_value: display });
const snChanges: Record<
  string,
  { sys_id: string; state: string; stateName: string; approval: string }
> = {
  CHG0030001: { sys_id: 'a1b2c3', state: '-2', stateName: 'Scheduled', approval: 'approved' },
  CHG0030002: { sys_id: 'd4e5f6', state: '-5', stateName: 'New', approval: 'not requested' },
  CHG0030003: { sys_id: 'g7h8i9', state: '-4', stateName: 'Assess', approval: 'requested' },
};

const secret = 'sn-Pa55w0rd-never-shown';
const jiraToken = 'jira-api-token-never-shown';

function serviceNow(req: IncomingMessage, body: unknown, res: ServerResponse): void {
  const url = new URL(req.url!, 'http://x');
  if (req.headers.authorization !== `Basic ${Buffer.from(`custody:${secret}`).toString('base64')}`)
    return json(res, 401, {
      error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
      status: 'failure',
    });
  if (req.method === 'GET' && url.pathname === '/api/sn_chg_rest/v1/change') {
    const number = /^number=(.+)$/.exec(url.searchParams.get('sysparm_query') ?? '')?.[1] ?? '';
    const c = snChanges[number];
    return json(res, 200, {
      result: c
        ? [
            {
              sys_id: snField(c.sys_id),
              number: snField(number),
              state: snField(c.state, c.stateName),
              approval: snField(c.approval, c.approval),
              type: snField('normal', 'Normal'),
            },
          ]
        : [],
    });
  }
  const patch = /^\/api\/sn_chg_rest\/v1\/change\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'PATCH' && patch) {
    return json(res, 200, {
      result: { sys_id: snField(patch[1]!), work_notes: snField('', ''), ...(body as object) },
    });
  }
  json(res, 404, {
    error: { message: 'Requested URI does not represent any resource' },
    status: 'failure',
  });
}

function jira(req: IncomingMessage, _body: unknown, res: ServerResponse): void {
  const url = new URL(req.url!, 'http://x');
  if (
    req.headers.authorization !==
    `Basic ${Buffer.from(`ops@example.com:${jiraToken}`).toString('base64')}`
  )
    return json(res, 401, { errorMessages: ['You are not authenticated.'], errors: {} });
  const m = /^\/rest\/api\/3\/issue\/([A-Z]+-\d+)(\/comment|\/transitions)?$/.exec(url.pathname);
  const statuses: Record<string, string> = { 'CAB-1': 'Approved', 'CAB-2': 'Awaiting CAB' };
  if (!m || !statuses[m[1]!])
    return json(res, 404, {
      errorMessages: ['Issue does not exist or you do not have permission to see it.'],
      errors: {},
    });
  if (req.method === 'GET' && !m[2])
    return json(res, 200, {
      id: '10001',
      key: m[1],
      fields: {
        status: { name: statuses[m[1]!], id: '10002', statusCategory: { key: 'indeterminate' } },
      },
    });
  if (req.method === 'POST' && m[2] === '/comment')
    return json(res, 201, { id: '20001', body: _body });
  if (req.method === 'GET' && m[2] === '/transitions')
    return json(res, 200, { transitions: [{ id: '31', name: 'Deployed', to: { name: 'Done' } }] });
  if (req.method === 'POST' && m[2] === '/transitions') {
    res.writeHead(204);
    return void res.end();
  }
  json(res, 405, { errorMessages: ['method not allowed'] });
}

for (const dialect of dialects) {
  describe(`ServiceNow and Jira connectors [${dialect}]`, () => {
    let t: TestApp;
    let sn: Awaited<ReturnType<typeof listen>>;
    let jr: Awaited<ReturnType<typeof listen>>;
    let hanging: Awaited<ReturnType<typeof listen>>;
    let broken: Awaited<ReturnType<typeof listen>>;
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const prod = { project: 'payments', environment: 'prod' };
    const commit = 'feed0000feed0000feed0000feed0000feed0000';
    const run = { id: 'run_tickets', triggeredBy: 'user:alice', commit };
    const check = (ticket: string | undefined, environment = 'prod') =>
      t.app.services.changes.records.check({
        project: 'payments',
        environment,
        ticket,
        at: clock.now(),
        run,
      });

    beforeAll(async () => {
      sn = await listen(serviceNow);
      jr = await listen(jira);
      hanging = await listen(() => undefined); // accepts, never answers
      broken = await listen((_req, _body, res) =>
        json(res, 503, { error: { message: 'maintenance' } }),
      );
      t = await createTestApp(dialect, { clock });
      const res = await t.applyApproved(`apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec: { type: production, changeRecord: servicenow }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: eu, project: payments }
spec: { type: production, changeRecord: jira }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: dr, project: payments }
spec: { type: production, changeRecord: servicenow }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow }
spec:
  type: servicenow
  baseUrl: ${sn.url}
  scope: { projects: [payments] }
  transitions: { succeeded: review }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow-dr }
spec:
  type: servicenow
  baseUrl: http://127.0.0.1:1
  timeout: 2s
  scope: { environments: [payments/dr] }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: slow, project: payments }
spec: { type: production, changeRecord: servicenow }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: broken, project: payments }
spec: { type: production, changeRecord: servicenow }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow-slow }
spec:
  type: servicenow
  baseUrl: ${hanging.url}
  timeout: 200ms
  scope: { environments: [payments/slow] }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: snow-broken }
spec:
  type: servicenow
  baseUrl: ${broken.url}
  scope: { environments: [payments/broken] }
---
apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: jira }
spec:
  type: jira
  baseUrl: ${jr.url}
  approvedStates: [Approved]
  transitions: { succeeded: Deployed }
`);
      expect(res.statusCode).toBe(200);
      for (const [connector, body] of [
        ['snow', { username: 'custody', password: secret }],
        ['snow-dr', { username: 'custody', password: secret }],
        ['snow-slow', { username: 'custody', password: secret }],
        ['snow-broken', { username: 'custody', password: secret }],
        ['jira', { username: 'ops@example.com', password: jiraToken }],
      ] as const) {
        const set = await t.request({
          method: 'PUT',
          url: `/api/v1/changes/connectors/${connector}/credentials`,
          json: body,
        });
        expect(set.statusCode).toBe(200);
        expect(JSON.stringify(set.json())).not.toContain(body.password);
      }
    });
    afterAll(async () => {
      await t?.close();
      sn?.server.close();
      jr?.server.close();
      hanging?.server.closeAllConnections();
      hanging?.server.close();
      broken?.server.close();
    });

    it('ServiceNow: an approved, scheduled change passes', async () => {
      const r = await check('CHG0030001');
      expect(r).toMatchObject({ ok: true, ticket: { found: true, approved: true } });
      expect(sn.seen.at(-1)).toMatchObject({
        method: 'GET',
        url: '/api/sn_chg_rest/v1/change?sysparm_query=number%3DCHG0030001&sysparm_limit=1',
      });
    });

    it('ServiceNow: a change in new or assess blocks, and so does an unknown number', async () => {
      const fresh = await check('CHG0030002');
      expect(fresh).toMatchObject({
        ok: false,
        reasons: [{ code: 'CHANGES_TICKET_NOT_APPROVED' }],
      });
      expect(fresh.reasons[0]!.message).toContain('new');
      const assess = await check('CHG0030003');
      expect(assess).toMatchObject({
        ok: false,
        reasons: [{ code: 'CHANGES_TICKET_NOT_APPROVED' }],
      });
      expect(assess.reasons[0]!.message).toContain('assess');
      expect((await check('CHG0099999')).reasons[0]!.code).toBe('CHANGES_TICKET_NOT_FOUND');
      expect((await check(undefined)).reasons[0]!.code).toBe('CHANGES_RECORD_REQUIRED');
      const before = sn.seen.length;
      const injected = await check('CHG0030002^ORnumber=CHG0030001');
      expect(injected).toMatchObject({
        ok: false,
        reasons: [{ code: 'CHANGES_TICKET_NOT_FOUND' }],
      });
      expect(sn.seen.length).toBe(before); // refused before any request
    });

    it('a native normal change does not stand in for a required ServiceNow ticket; active break-glass does', async () => {
      clock.set('2026-03-02T09:00:00Z');
      const ctx = (name: string) => ({
        actor: { type: 'user' as const, id: name, name, authMethod: 'token' as const, ip: null },
        requestId: `test-${name}`,
        guard: { require: async () => undefined, can: async () => true },
      });
      const normal = await t.app.services.changes.requests.create(ctx('alice'), {
        ...prod,
        riskClass: 'normal',
        title: 'release',
      });
      const withNormal = await t.app.services.changes.records.check({
        ...prod,
        changeId: normal.id,
        at: clock.now(),
        run,
      });
      expect(withNormal).toMatchObject({
        ok: false,
        bypassApprovals: false,
        reasons: [{ code: 'CHANGES_RECORD_REQUIRED' }],
      });
      const withBoth = await t.app.services.changes.records.check({
        ...prod,
        changeId: normal.id,
        ticket: 'CHG0030001',
        at: clock.now(),
        run,
      });
      expect(withBoth).toMatchObject({
        ok: true,
        bypassApprovals: false,
        ticket: { approved: true },
      });
      const emergency = await t.app.services.changes.requests.create(ctx('alice'), {
        ...prod,
        riskClass: 'emergency',
        title: 'hotfix',
        reason: 'outage',
        commit,
      });
      await t.app.services.changes.requests.activate(ctx('carol'), { id: emergency.id });
      expect(
        await t.app.services.changes.records.check({
          ...prod,
          changeId: emergency.id,
          at: clock.now(),
          run,
        }),
      ).toMatchObject({
        ok: true,
        bypassFreeze: true,
      });
    });

    it('ServiceNow down: the deployment is blocked with CHANGES_CONNECTOR_UNAVAILABLE (fail closed)', async () => {
      const r = await check('CHG0030001', 'dr');
      expect(r.ok).toBe(false);
      expect(r.reasons[0]!.code).toBe('CHANGES_CONNECTOR_UNAVAILABLE');
      expect(r.reasons[0]!.message).toContain('snow-dr');
      const route = await t.request({
        method: 'POST',
        url: '/api/v1/changes/connectors/snow-dr/check',
        json: { ticket: 'CHG0030001' },
      });
      expect(route.statusCode).toBe(503);
      expect(route.json().error.code).toBe('CHANGES_CONNECTOR_UNAVAILABLE');
    });

    it('a ticket system that hangs or answers 503 blocks with CHANGES_CONNECTOR_UNAVAILABLE', async () => {
      const slow = await check('CHG0030001', 'slow');
      expect(slow.reasons[0]).toMatchObject({
        code: 'CHANGES_CONNECTOR_UNAVAILABLE',
        message: expect.stringContaining('timed out'),
      });
      const down = await check('CHG0030001', 'broken');
      expect(down.reasons[0]).toMatchObject({
        code: 'CHANGES_CONNECTOR_UNAVAILABLE',
        message: expect.stringContaining('503'),
      });
      expect(slow.ok || down.ok).toBe(false);
    });

    it('a failed ticket update is an error with the code and a failed audit entry', async () => {
      const system = {
        type: 'system' as const,
        id: null,
        name: 'custody',
        authMethod: 'system' as const,
        ip: null,
      };
      const seq = await t.app.services.audit.size();
      await expect(
        t.app.services.changes.tickets.updateTicket(
          { actor: system, requestId: 'test' },
          {
            project: 'payments',
            environment: 'dr',
            ticket: 'CHG0030001',
            outcome: 'failed',
            note: 'deploy failed',
          },
        ),
      ).rejects.toMatchObject({ code: 'CHANGES_CONNECTOR_UNAVAILABLE' });
      expect(await t.app.services.audit.list({ afterSeq: seq - 1, limit: 10 })).toMatchObject([
        {
          action: 'changes.ticket.updated',
          outcome: 'failed',
          resource: { type: 'change-ticket', id: 'CHG0030001' },
          details: { outcome: 'failed', code: 'CHANGES_CONNECTOR_UNAVAILABLE' },
        },
      ]);
    });

    it('wrong credentials fail closed with CHANGES_CONNECTOR_AUTH_FAILED', async () => {
      await t.request({
        method: 'PUT',
        url: '/api/v1/changes/connectors/snow/credentials',
        json: { username: 'custody', password: 'wrong' },
      });
      expect((await check('CHG0030001')).reasons[0]!.code).toBe('CHANGES_CONNECTOR_AUTH_FAILED');
      await t.request({
        method: 'PUT',
        url: '/api/v1/changes/connectors/snow/credentials',
        json: { username: 'custody', password: secret },
      });
      expect((await check('CHG0030001')).ok).toBe(true);
    });

    it('ServiceNow: a successful deployment adds a work note and moves the change to review', async () => {
      await t.app.services.changes.tickets.updateTicket(
        {
          actor: { type: 'system', id: null, name: 'custody', authMethod: 'system', ip: null },
          requestId: 'test',
        },
        {
          ...prod,
          ticket: 'CHG0030001',
          outcome: 'succeeded',
          note: 'Deployed payments 1.2 by run run_1',
        },
      );
      expect(sn.seen.at(-1)).toMatchObject({
        method: 'PATCH',
        url: '/api/sn_chg_rest/v1/change/a1b2c3',
        body: { work_notes: 'Deployed payments 1.2 by run run_1', state: '0' },
      });
    });

    it('Jira: status decides; success comments and transitions', async () => {
      expect(await check('CAB-1', 'eu')).toMatchObject({ ok: true });
      expect((await check('CAB-2', 'eu')).reasons[0]).toMatchObject({
        code: 'CHANGES_TICKET_NOT_APPROVED',
        message: expect.stringContaining('Awaiting CAB'),
      });
      expect((await check('CAB-404', 'eu')).reasons[0]!.code).toBe('CHANGES_TICKET_NOT_FOUND');
      const before = jr.seen.length;
      await t.app.services.changes.tickets.updateTicket(
        {
          actor: { type: 'system', id: null, name: 'custody', authMethod: 'system', ip: null },
          requestId: 'test',
        },
        {
          project: 'payments',
          environment: 'eu',
          ticket: 'CAB-1',
          outcome: 'succeeded',
          note: 'Deployed 1.2',
        },
      );
      expect(jr.seen.slice(before).map((s) => `${s.method} ${s.url}`)).toEqual([
        'POST /rest/api/3/issue/CAB-1/comment',
        'GET /rest/api/3/issue/CAB-1/transitions',
        'POST /rest/api/3/issue/CAB-1/transitions',
      ]);
      expect(jr.seen.at(-1)!.body).toEqual({ transition: { id: '31' } });
      expect(jr.seen.at(-3)!.body).toMatchObject({ body: { type: 'doc', version: 1 } });
    });

    it('credentials never appear in responses, resource versions or the audit trail', async () => {
      const doc = await t.request({ method: 'GET', url: '/api/v1/resources/ChangeConnector/snow' });
      const history = await t.request({
        method: 'GET',
        url: '/api/v1/resources/ChangeConnector/snow/versions',
      });
      expect(doc.statusCode).toBe(200);
      expect(history.statusCode).toBe(200);
      expect(JSON.stringify(doc.json())).toContain(sn.url);
      const audit = await t.app.services.audit.list({ limit: 1000 });
      const everything = JSON.stringify([doc.json(), history.json(), audit]);
      expect(audit.some((e) => e.action === 'changes.connector.credentials-set')).toBe(true);
      expect(everything).not.toContain(secret);
      // Sealed at rest: the database row holds no plaintext either.
      const rows = await t.app.database.db
        .selectFrom('change_connector_credentials')
        .selectAll()
        .execute();
      expect(rows).toHaveLength(5);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect(JSON.stringify(rows)).not.toContain(jiraToken);
      expect(everything).not.toContain(jiraToken);
      expect(everything).not.toContain(Buffer.from(`custody:${secret}`).toString('base64'));
    });
  });
}
