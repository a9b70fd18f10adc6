import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// A Jira that answers every issue with one status, and remembers who asked.
async function jira(status: string): Promise<{ server: Server; url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ? 'with-credentials' : ''}`);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const key = /^\/rest\/api\/3\/issue\/([A-Z]+-\d+)$/.exec(path)?.[1];
    res.writeHead(key ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(key ? { id: '1', key, fields: { status: { name: status } } } : {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const setup = (jiraUrl: string) => `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production, changeRecord: jira }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: shop }
spec: { type: pre-production }
---
${connector(jiraUrl)}`;
const connector = (
  baseUrl: string,
  name = 'jira',
  scope = 'scope: { environments: [shop/prod] }',
) =>
  `apiVersion: custody/v1
kind: ChangeConnector
metadata: { name: ${name} }
spec:
  type: jira
  baseUrl: ${baseUrl}
  approvedStates: [Approved]
  ${scope}
`;
const template = (name: string, scope: string) => `apiVersion: custody/v1
kind: ChangeTemplate
metadata: { name: ${name} }
spec:
  description: Rotate certificates
  scope: ${scope}
`;

interface Result {
  state: string;
  approval?: string;
}

for (const dialect of dialects) {
  describe(`one person cannot add a bypass of approvals or repoint a ticket check alone [${dialect}]`, () => {
    let t: TestApp;
    let real: Awaited<ReturnType<typeof jira>>;
    let rogue: Awaited<ReturnType<typeof jira>>;
    const tokens: Record<string, string> = {};
    const apply = async (yaml: string, who = 'alice') => {
      const res = await t.apply(yaml, tokens[who]);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { results: Result[] }).results;
    };
    const decide = (id: string, who: string) =>
      t.request({
        method: 'POST',
        url: `/api/v1/approvals/${id}/approve`,
        token: tokens[who],
        json: {},
      });
    const standard = (templateName: string, environment = 'prod') =>
      t.request({
        method: 'POST',
        url: '/api/v1/changes',
        token: tokens.bob,
        json: {
          project: 'shop',
          environment,
          riskClass: 'standard',
          title: 'rotate certs',
          template: templateName,
        },
      });
    const ticketOk = async () =>
      (
        await t.app.services.changes.records.check({
          project: 'shop',
          environment: 'prod',
          ticket: 'CAB-1',
          at: new Date(),
          run: { id: 'run_cab', triggeredBy: 'user:dev', commit: null },
        })
      ).ok;

    beforeAll(async () => {
      real = await jira('Awaiting CAB');
      rogue = await jira('Approved');
      t = await createTestApp(dialect);
      expect((await t.applyApproved(setup(real.url))).statusCode).toBe(200);
      const creds = await t.request({
        method: 'PUT',
        url: '/api/v1/changes/connectors/jira/credentials',
        json: { username: 'ops@example.com', password: 'jira-token-of-the-company' },
      });
      expect(creds.statusCode, creds.body).toBe(200);
      tokens.alice = await t.user('alice', ['admin']);
      tokens.carol = await t.user('carol', ['admin']);
      tokens.bob = await t.user('bob', ['release-manager@project:shop']);
    });
    afterAll(async () => {
      await t?.close();
      real?.server.close();
      rogue?.server.close();
    });

    it('a new ChangeTemplate covering production is a new pre-approval: it waits for a second person', async () => {
      const [pending] = await apply(template('hotfix', '{ environments: [shop/prod] }'));
      expect(pending).toMatchObject({ state: 'pending' });
      const early = await standard('hotfix');
      expect(early.json().error.code).toBe('CHANGES_TEMPLATE_NOT_FOUND');
      const self = await decide(pending!.approval!, 'alice');
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      expect((await decide(pending!.approval!, 'carol')).statusCode).toBe(200);
      const ok = await standard('hotfix');
      expect(ok.statusCode, ok.body).toBe(201);
      expect(ok.json().state).toBe('approved');
    });

    it('a template by environment type, or one widened from qa to production, waits as well', async () => {
      const [byType] = await apply(template('by-type', '{ environmentTypes: [production] }'));
      expect(byType!.state).toBe('pending');
      expect((await standard('by-type')).json().error.code).toBe('CHANGES_TEMPLATE_NOT_FOUND');
      const [qa] = await apply(template('qa-only', '{ environments: [shop/qa] }'));
      expect(qa!.state).toBe('in-force');
      expect((await standard('qa-only', 'qa')).statusCode).toBe(201);
      const [widened] = await apply(template('qa-only', '{ projects: [shop] }'));
      expect(widened!.state).toBe('pending');
      expect((await standard('qa-only')).json().error.code).toBe('CHANGES_TEMPLATE_OUT_OF_SCOPE');
    });

    it('repointing a production ticket connector waits; tickets and credentials keep going to the connector in force', async () => {
      expect(await ticketOk()).toBe(false);
      const [pending] = await apply(connector(rogue.url));
      expect(pending).toMatchObject({ state: 'pending' });
      expect(await ticketOk()).toBe(false);
      expect(rogue.seen).toEqual([]);
      expect(real.seen.at(-1)).toMatch(/^GET \/rest\/api\/3\/issue\/CAB-1\S* with-credentials$/);
      expect((await decide(pending!.approval!, 'alice')).json().error.code).toBe(
        'APPROVALS_SELF_APPROVAL_FORBIDDEN',
      );
      expect((await decide(pending!.approval!, 'carol')).statusCode).toBe(200);
      expect(await ticketOk()).toBe(true);
      expect(rogue.seen).toHaveLength(1);
    });

    it('a connector without a scope reaches every environment, production included; a qa-only one is immediate', async () => {
      const [everywhere] = await apply(connector(rogue.url, 'jira-2', ''));
      expect(everywhere!.state).toBe('pending');
      const [qa] = await apply(
        connector(rogue.url, 'jira-qa', 'scope: { environments: [shop/qa] }'),
      );
      expect(qa!.state).toBe('in-force');
    });
  });
}
