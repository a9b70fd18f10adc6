import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openCheckpoint } from '@custody/ledger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import {
  checkpointHeader,
  deliveryHeader,
  signatureHeader,
  syslogCheckpointMessage,
} from './senders.ts';

const SECRET = 'whsec-checkpoints-0123456789abcdef';

async function addEntries(t: TestApp, n: number): Promise<void> {
  const ctx = systemContext(t.app, 'test');
  await t.app.uow.run(ctx, async (_tx, record) => {
    for (let i = 0; i < n; i++)
      record({ action: 'test.thing.changed', resource: { type: 'thing', id: `t-${i}` } });
  });
}

interface Got {
  kind: 'entry' | 'checkpoint';
  id: string;
  body: string;
  signed: boolean;
}

function receiver() {
  const got: Got[] = [];
  let refuseCheckpoints = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const cp = req.headers[checkpointHeader];
      if (cp !== undefined && refuseCheckpoints > 0) {
        refuseCheckpoints--;
        res.writeHead(503).end();
        return;
      }
      got.push({
        kind: cp === undefined ? 'entry' : 'checkpoint',
        id: String(cp ?? req.headers[deliveryHeader]),
        body,
        signed:
          req.headers[signatureHeader] ===
          'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex'),
      });
      res.writeHead(204).end();
    });
  });
  return {
    got,
    refuse(n: number) {
      refuseCheckpoints = n;
    },
    async listen(): Promise<number> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return (server.address() as AddressInfo).port;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

for (const dialect of dialects) {
  describe(`signed checkpoints published to audit streams [${dialect}]`, () => {
    let t: TestApp;
    const rx = receiver();
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => {
      await rx.close();
      await t?.close();
    });

    it('a destination with checkpoints: true receives every signed checkpoint, in order, at least once', async () => {
      const port = await rx.listen();
      for (const [name, extra] of [
        ['siem', 'checkpoints: true'],
        ['chat', 'actions: [approvals.request.created]'],
      ])
        expect(
          (
            await t.apply(
              `apiVersion: custody/v1\nkind: AuditStream\nmetadata: { name: ${name} }\nspec: { type: webhook, url: "http://127.0.0.1:${port}/${name}", ${extra} }\n`,
            )
          ).statusCode,
        ).toBe(200);
      for (const name of ['siem', 'chat'])
        await t.request({
          method: 'PUT',
          url: `/api/v1/streams/${name}/secret`,
          json: { value: SECRET },
        });
      const { ledger, streams } = t.app.services;
      const key = ledger.service.verifierKey().verifierKey;
      const first = await ledger.checkpointNow();
      await streams.deliverAll({ ignoreBackoff: true });
      const cps = () => rx.got.filter((g) => g.kind === 'checkpoint');
      expect(cps().map((g) => Number(g.id))).toEqual([first.size]);

      // Two more checkpoints; the receiver refuses the first attempt: both arrive, in order.
      await addEntries(t, 3);
      const second = await ledger.checkpointNow();
      await addEntries(t, 2);
      const third = await ledger.checkpointNow();
      rx.refuse(1);
      await streams.deliverAll({ ignoreBackoff: true });
      await streams.deliverAll({ ignoreBackoff: true });
      expect(cps().map((g) => Number(g.id))).toEqual([first.size, second.size, third.size]);
      for (const g of cps()) {
        expect(g.signed).toBe(true);
        const body = JSON.parse(g.body);
        expect(body).toMatchObject({ kind: 'ledger.checkpoint', size: Number(g.id) });
        expect(openCheckpoint(body.note, key).checkpoint.size).toBe(body.size);
      }
      // Entries still go out as before, and the notification stream gets no checkpoints.
      expect(rx.got.some((g) => g.kind === 'entry')).toBe(true);
      const sent = (await streams.list()).items;
      expect(sent.find((d) => d.name === 'siem')?.lastError).toBeNull();
      await streams.deliverAll({ ignoreBackoff: true });
      expect(cps()).toHaveLength(3);
    });

    it('syslog carries a checkpoint as MSGID ledger.checkpoint', () => {
      const msg = syslogCheckpointMessage(
        {
          kind: 'ledger.checkpoint',
          size: 7,
          rootHash: 'AAAA',
          origin: 'x/ledger/1',
          note: 'n',
          createdAt: '2026-12-02T10:00:00.000Z',
        },
        'host',
      );
      expect(msg).toMatch(
        /^<110>1 2026-12-02T10:00:00.000Z host custody \d+ ledger.checkpoint \[custody@32473 checkpoint="7" origin="x\/ledger\/1"\] \{/,
      );
    });
  });
}
