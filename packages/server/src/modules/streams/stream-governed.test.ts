import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// A SIEM webhook that records the sequence numbers it receives.
async function siem(): Promise<{ server: Server; url: string; seqs: number[] }> {
  const seqs: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seqs.push((JSON.parse(body) as { seq: number }).seq);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`, seqs };
}

const stream = (name: string, url: string, enabled = true) => `apiVersion: custody/v1
kind: AuditStream
metadata: { name: ${name} }
spec: { type: webhook, url: ${url}, enabled: ${enabled} }
`;

interface Result {
  state: string;
  approval?: string;
}

for (const dialect of dialects) {
  describe(`one person cannot blind the SIEM stream alone [${dialect}]`, () => {
    let t: TestApp;
    let rx: Awaited<ReturnType<typeof siem>>;
    let other: Awaited<ReturnType<typeof siem>>;
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
    // Deliver what there is, then report whether the receiver got the newest entry.
    const delivered = async (to: { seqs: number[] }) => {
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      const last = (await t.app.services.audit.size()) - 1;
      return to.seqs.includes(last);
    };
    const view = async () =>
      (
        (await t.request({ method: 'GET', url: '/api/v1/streams' })).json().destinations as {
          name: string;
          enabled: boolean;
        }[]
      ).find((d) => d.name === 'siem')!;

    beforeAll(async () => {
      rx = await siem();
      other = await siem();
      t = await createTestApp(dialect);
      tokens.alice = await t.user('alice', ['admin']);
      tokens.bob = await t.user('bob', ['admin']);
    });
    afterAll(async () => {
      await t?.close();
      rx?.server.close();
      other?.server.close();
    });

    it('creating a stream takes effect at once', async () => {
      const [created] = await apply(stream('siem', rx.url));
      expect(created!.state).toBe('in-force');
      const secret = await t.request({
        method: 'PUT',
        url: '/api/v1/streams/siem/secret',
        json: { value: 'whsec-0123456789abcdef' },
      });
      expect(secret.statusCode, secret.body).toBe(200);
      expect(await delivered(rx)).toBe(true);
    });

    it('redirecting it waits for a second person; entries keep flowing to the destination in force', async () => {
      const [pending] = await apply(stream('siem', other.url));
      expect(pending!.state).toBe('pending');
      expect(await delivered(rx)).toBe(true);
      expect(other.seqs).toEqual([]);
    });

    it('disabling it waits; the stream keeps delivering; the author cannot approve; a second person can', async () => {
      const [pending] = await apply(stream('siem', rx.url, false));
      expect(pending!.state).toBe('pending');
      expect((await view()).enabled).toBe(true);
      expect(await delivered(rx)).toBe(true);
      const self = await decide(pending!.approval!, 'alice');
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      expect(await delivered(rx)).toBe(true);
      expect((await decide(pending!.approval!, 'bob')).statusCode).toBe(200);
      expect((await view()).enabled).toBe(false);
      expect(await delivered(rx)).toBe(false);
      const actions = (await t.app.services.audit.list({ limit: 5000 })).map((e) => e.action);
      expect(actions).toContain('resources.auditstream.change-pending');
      expect(actions).toContain('resources.auditstream.change-applied');
    });
  });
}
