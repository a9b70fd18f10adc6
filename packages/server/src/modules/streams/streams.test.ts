import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import pino from 'pino';
import { deliveryHeader, signatureHeader } from './senders.ts';
import { StreamService } from './stream-service.ts';
import { KyselyStreamStore } from './stream-store.ts';
import { selfSignedCert } from './test-support.ts';

const SECRET = 'whsec-correct-horse-battery-staple-0123456789';

async function addEntries(t: TestApp, n: number): Promise<void> {
  const ctx = systemContext(t.app, 'test');
  await t.app.uow.run(ctx, async (_tx, record) => {
    for (let i = 0; i < n; i++)
      record({
        action: 'test.thing.changed',
        resource: { type: 'thing', id: `t-${i}` },
        details: { i },
      });
  });
}

interface Received {
  seq: number;
  deliveryId: string;
  signatureOk: boolean;
  body: string;
}

// An HTTPS webhook receiver that checks signatures. `mode` decides what it answers.
function webhookReceiver(tlsMaterial: { cert: string; key: string }) {
  const received: Received[] = [];
  let mode: 'ok' | 'process-then-fail' = 'ok';
  let failNext = 0;
  const server = https.createServer(tlsMaterial, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const expected = Buffer.from(
        'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex'),
      );
      const given = Buffer.from(String(req.headers[signatureHeader] ?? ''));
      received.push({
        seq: JSON.parse(body).seq,
        deliveryId: String(req.headers[deliveryHeader]),
        signatureOk: given.length === expected.length && timingSafeEqual(given, expected),
        body,
      });
      // The entry was processed, but the answer is lost: the sender must retry it.
      if (mode === 'process-then-fail' && failNext > 0) {
        failNext--;
        res.writeHead(500).end();
        return;
      }
      res.writeHead(204).end();
    });
  });
  return {
    received,
    server,
    failAfterProcessing(n: number) {
      mode = 'process-then-fail';
      failNext = n;
    },
    async listen(port = 0): Promise<number> {
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
      return (server.address() as AddressInfo).port;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

for (const dialect of dialects) {
  describe(`SIEM streaming [${dialect}]`, () => {
    let t: TestApp;
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-streams-'));
    const tlsMaterial = selfSignedCert(dir);
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => t?.close());

    it('webhook: HMAC-signed, deduplicated by seq, nothing lost while the destination is down', async () => {
      const rx = webhookReceiver(tlsMaterial);
      const port = await rx.listen();
      const applied = await t.apply(`apiVersion: custody/v1
kind: AuditStream
metadata: { name: siem-hook }
spec:
  type: webhook
  url: https://127.0.0.1:${port}/custody
  tls: { caFile: ${tlsMaterial.certFile} }
  batchSize: 20
`);
      expect(applied.statusCode, applied.body).toBe(200);
      // No secret yet: nothing is sent unsigned, and the cursor stays.
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      expect(rx.received).toHaveLength(0);
      let [view] = (await t.request({ method: 'GET', url: '/api/v1/streams' })).json().destinations;
      expect(view).toMatchObject({ name: 'siem-hook', nextSeq: 0, secretSet: false });
      expect(view.lastError).toContain('no secret set');

      const set = await t.request({
        method: 'PUT',
        url: '/api/v1/streams/siem-hook/secret',
        json: { value: SECRET },
      });
      expect(set.statusCode).toBe(200);
      expect(set.body).not.toContain(SECRET);
      await addEntries(t, 30);
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      const firstRound = await t.app.services.audit.size();
      expect(new Set(rx.received.map((r) => r.seq)).size).toBe(firstRound);

      // The destination goes down; entries keep coming.
      await rx.close();
      await addEntries(t, 25);
      await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      [view] = (await t.request({ method: 'GET', url: '/api/v1/streams' })).json().destinations;
      expect(view.nextSeq).toBe(firstRound);
      expect(view.pending).toBeGreaterThan(0);
      expect(view.lastError).toMatch(/ECONNREFUSED|ECONNRESET/);
      // It comes back, but the answers to two deliveries get lost after processing.
      const rx2 = webhookReceiver(tlsMaterial);
      rx2.received.push(...rx.received);
      await rx2.listen(port);
      rx2.failAfterProcessing(2);
      for (let i = 0; i < 5; i++) await t.app.services.streams.deliverAll({ ignoreBackoff: true });
      // A restarted server (a new service over the same database) resumes at the cursor.
      const restarted = new StreamService({
        database: t.app.database,
        uow: t.app.uow,
        store: new KyselyStreamStore(),
        audit: {
          list: (f) => t.app.services.audit.list(f),
          size: () => t.app.services.audit.size(),
          sizeIn: () => t.app.services.audit.size(),
        },
        clock: t.app.clock,
        logger: pino({ level: 'silent' }),
        sealer: t.app.sealer,
      });
      const before = rx2.received.length;
      await restarted.deliverAll();
      expect(rx2.received.length).toBe(before);
      await addEntries(t, 3);
      await restarted.deliverAll();
      expect(rx2.received.slice(before).map((r) => r.seq)).toEqual(
        Array.from({ length: 3 }, (_, i) => rx2.received[before - 1]!.seq + 1 + i),
      );
      restarted.close();
      await rx2.close();

      const total = await t.app.services.audit.size();
      const all = rx2.received;
      expect(all.every((r) => r.signatureOk)).toBe(true);
      expect(all.every((r) => r.deliveryId === String(r.seq))).toBe(true);
      expect(all.length).toBeGreaterThan(total - 1); // duplicates happened: at least once
      const deduped: number[] = [];
      for (const r of all) if (!deduped.includes(r.seq)) deduped.push(r.seq);
      // Every entry since the stream was created (from the beginning), once, in order.
      expect(deduped.slice(0, total - 1)).toEqual(Array.from({ length: total - 1 }, (_, i) => i));
      [view] = (await t.request({ method: 'GET', url: '/api/v1/streams' })).json().destinations;
      expect(view).toMatchObject({ secretSet: true, lastError: null });
    });

    it('the secret never appears in responses, resource history or the audit trail', async () => {
      const everything = [
        (await t.request({ method: 'GET', url: '/api/v1/streams' })).body,
        (await t.request({ method: 'GET', url: '/api/v1/audit/entries?limit=1000' })).body,
        JSON.stringify(
          (await sql`select * from resource_versions`.execute(t.app.database.db)).rows,
        ),
        JSON.stringify((await sql`select * from stream_secrets`.execute(t.app.database.db)).rows),
      ].join('\n');
      expect(everything).not.toContain(SECRET);
      const [entry] = await t.app.services.audit.list({
        action: 'streams.secret.set',
        limit: 1,
      });
      expect(entry).toMatchObject({ resource: { type: 'AuditStream', id: 'siem-hook' } });
      const bad = await t.request({
        method: 'PUT',
        url: '/api/v1/streams/nope/secret',
        json: { value: 'x' },
      });
      expect(bad.statusCode).toBe(404);
      expect(bad.json().error.code).toBe('STREAMS_DESTINATION_NOT_FOUND');
      const rejected = await t.apply(`apiVersion: custody/v1
kind: AuditStream
metadata: { name: leaky }
spec: { type: webhook, url: 'https://user:pass@example.com/hook' }
`);
      expect(rejected.statusCode).toBe(400);
      expect(rejected.body).not.toContain('pass@');
    });

    it('a webhook limited to approval requests notifies approvers and skips everything else', async () => {
      const rx = webhookReceiver(tlsMaterial);
      const port = await rx.listen();
      try {
        const applied = await t.apply(`apiVersion: custody/v1
kind: AuditStream
metadata: { name: approvers-chat }
spec:
  type: webhook
  url: https://127.0.0.1:${port}/notify
  tls: { caFile: ${tlsMaterial.certFile} }
  startAt: now
  batchSize: 7
  actions: [approvals.request.created, deployments.*.requested]
`);
        expect(applied.statusCode, applied.body).toBe(200);
        await t.request({
          method: 'PUT',
          url: '/api/v1/streams/approvers-chat/secret',
          json: { value: SECRET },
        });
        const env = (required: number) => `apiVersion: custody/v1
kind: Project
metadata: { name: notify }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: notify }
spec:
  type: production
  approvals: { rules: [{ name: release, group: release-managers, required: ${required} }] }
`;
        expect((await t.apply(env(1))).statusCode).toBe(200);
        await addEntries(t, 10);
        const change = await t.apply(env(2));
        const approval = change.json().results[1].approval as string;
        expect(approval).toMatch(/^apr_/);
        await addEntries(t, 12);
        for (let i = 0; i < 6; i++)
          await t.app.services.streams.deliverAll({ ignoreBackoff: true });

        expect(rx.received).toHaveLength(1);
        const [note] = rx.received;
        expect(note!.signatureOk).toBe(true);
        expect(JSON.parse(note!.body)).toMatchObject({
          action: 'approvals.request.created',
          resource: { type: 'approval', id: approval },
          details: { subject: 'environment-version/notify/prod@2' },
        });
        // The cursor passed the entries it skipped, so nothing is re-read forever.
        const view = (
          (await t.request({ method: 'GET', url: '/api/v1/streams' })).json().destinations as {
            name: string;
            nextSeq: number;
          }[]
        ).find((d) => d.name === 'approvers-chat')!;
        expect(view.nextSeq).toBe(await t.app.services.audit.size());
      } finally {
        await rx.close();
      }
      const bad = await t.apply(`apiVersion: custody/v1
kind: AuditStream
metadata: { name: bad-filter }
spec: { type: webhook, url: 'https://example.com/hook', actions: ['approvals request'] }
`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('RESOURCES_VALIDATION_FAILED');
    });

    it('Splunk HEC: JSON events to /services/collector/event with the Splunk token', async () => {
      const requests: { url: string; auth: string; body: string }[] = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          requests.push({ url: req.url!, auth: String(req.headers.authorization), body });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"text":"Success","code":0}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as AddressInfo).port;
      try {
        const applied = await t.apply(`apiVersion: custody/v1
kind: AuditStream
metadata: { name: splunk }
spec: { type: splunk-hec, url: 'http://127.0.0.1:${port}', index: audit, startAt: now }
`);
        expect(applied.statusCode, applied.body).toBe(200);
        const start = await t.app.services.audit.size();
        await t.request({
          method: 'PUT',
          url: '/api/v1/streams/splunk/secret',
          json: { value: 'hec-token-1234' },
        });
        await addEntries(t, 5);
        await t.app.services.streams.deliverAll({ ignoreBackoff: true });
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.every((r) => r.url === '/services/collector/event')).toBe(true);
        expect(requests.every((r) => r.auth === 'Splunk hec-token-1234')).toBe(true);
        const events = requests.flatMap((r) => r.body.split('\n').map((l) => JSON.parse(l)));
        expect(events[0]).toMatchObject({
          sourcetype: 'custody:audit',
          source: 'custody',
          index: 'audit',
          event: { seq: start - 1 },
        });
        expect(typeof events[0].time).toBe('number');
        expect(events.map((e) => e.event.seq)).toEqual(
          Array.from({ length: events.length }, (_, i) => start - 1 + i),
        );
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });
}
