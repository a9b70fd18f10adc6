import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  fromBase64,
  leafHash,
  openCheckpoint,
  parseNote,
  verifyConsistency,
  verifyExport,
  verifyInclusion,
} from '@custody/ledger';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { Ledger } from './ledger.ts';

async function write(t: TestApp, n: number, prefix = 'p'): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await t.apply(
      `apiVersion: custody/v1\nkind: Project\nmetadata: { name: ${prefix}-${i} }\n`,
    );
    expect(res.statusCode).toBe(200);
  }
}

for (const dialect of dialects) {
  describe(`ledger [${dialect}]`, () => {
    let t: TestApp;
    let key: string;
    beforeAll(async () => {
      t = await createTestApp(dialect);
      key = (await t.request({ method: 'GET', url: '/api/v1/ledger/key' })).json().verifierKey;
    });
    afterAll(async () => t?.close());

    it('creates the signing key at first start, private to the server, and serves the verifier key', async () => {
      const file = path.join(t.app.config.dataDir, 'ledger.key');
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o077).toBe(0);
      expect(key).toMatch(/^custody\/ledger\/[0-9a-f]{8}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
      const res = await t.request({ method: 'GET', url: '/api/v1/ledger/key' });
      expect(JSON.stringify(res.json())).not.toContain('PRIVATE');
    });

    it('signs a checkpoint on demand that covers every committed entry', async () => {
      await write(t, 5, 'a');
      const size = await t.app.services.audit.size();
      const res = await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' });
      expect(res.statusCode).toBe(200);
      const cp = res.json();
      expect(cp.size).toBe(size);
      const opened = openCheckpoint(cp.note, key);
      expect(opened.checkpoint.size).toBe(size);
      expect(Buffer.from(opened.checkpoint.rootHash).toString('base64')).toBe(cp.rootHash);
      const latest = (await t.request({ method: 'GET', url: '/api/v1/ledger/checkpoint' })).json();
      expect(latest.size).toBe(size);
      const text = await t.request({ method: 'GET', url: '/api/v1/ledger/tlog/checkpoint' });
      expect(text.body).toBe(cp.note);
      // Nothing new: the same checkpoint, not a second signature.
      const again = (await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' })).json();
      expect(again.note).toBe(cp.note);
    });

    it('inclusion proofs verify against the signed root, for every entry', async () => {
      const cp = (await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' })).json();
      const root = fromBase64(cp.rootHash);
      const entries = (
        await t.request({ method: 'GET', url: `/api/v1/audit/entries?limit=1000` })
      ).json().entries;
      expect(entries.length).toBe(cp.size);
      for (const seq of [0, 1, Math.floor(cp.size / 2), cp.size - 1]) {
        const p = (
          await t.request({
            method: 'GET',
            url: `/api/v1/ledger/proofs/inclusion?seq=${seq}&size=${cp.size}`,
          })
        ).json();
        expect(p.checkpoint).toBe(cp.note);
        expect(Buffer.from(fromBase64(p.leafHash)).toString('hex')).toBe(entries[seq].leafHash);
        expect(
          verifyInclusion(fromBase64(p.leafHash), seq, cp.size, p.proof.map(fromBase64), root),
        ).toBe(true);
        expect(
          verifyInclusion(
            leafHash(new Uint8Array([1])),
            seq,
            cp.size,
            p.proof.map(fromBase64),
            root,
          ),
        ).toBe(false);
      }
      const beyond = await t.request({
        method: 'GET',
        url: `/api/v1/ledger/proofs/inclusion?seq=${cp.size}`,
      });
      expect(beyond.statusCode).toBe(400);
      expect(beyond.json().error.code).toBe('LEDGER_SIZE_INVALID');
    });

    it('consistency proofs link every older checkpoint to the newer one', async () => {
      const old = (await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' })).json();
      await write(t, 300, 'b'); // crosses a full tile (256 leaves)
      const cp = (await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' })).json();
      expect(cp.size).toBeGreaterThan(256);
      const p = (
        await t.request({
          method: 'GET',
          url: `/api/v1/ledger/proofs/consistency?from=${old.size}&to=${cp.size}`,
        })
      ).json();
      expect(
        verifyConsistency(
          old.size,
          cp.size,
          p.proof.map(fromBase64),
          fromBase64(old.rootHash),
          fromBase64(cp.rootHash),
        ),
      ).toBe(true);
      const list = (await t.request({ method: 'GET', url: '/api/v1/ledger/checkpoints' })).json();
      expect(list.checkpoints.map((c: { size: number }) => c.size)).toEqual(
        [...list.checkpoints.map((c: { size: number }) => c.size)].sort((a, b) => a - b),
      );
      expect(list.checkpoints.at(-1).note).toBe(cp.note);
    });

    it('a new process continues the tree from the stored tiles, consistently', async () => {
      const old = (await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' })).json();
      await write(t, 7, 'd');
      // A fresh Ledger has no in-memory state: it rebuilds the compact range from the tiles.
      const fresh = new Ledger({
        database: t.app.database,
        audit: {
          list: (f) => t.app.services.audit.list(f),
          leafHashes: (a, l) => t.app.services.audit.leafHashes(a, l),
          size: () => t.app.services.audit.size(),
          macsFrom: () => t.app.services.audit.macsFrom(),
        },
        key: { dataDir: t.app.config.dataDir },
        clock: t.app.clock,
        logger: pino({ level: 'silent' }),
      });
      const next = await fresh.checkpointNow();
      expect(next.size).toBe(await t.app.services.audit.size());
      const p = (
        await t.request({
          method: 'GET',
          url: `/api/v1/ledger/proofs/consistency?from=${old.size}&to=${next.size}`,
        })
      ).json();
      expect(
        verifyConsistency(
          old.size,
          next.size,
          p.proof.map(fromBase64),
          fromBase64(old.rootHash),
          Buffer.from(next.root_hash, 'hex'),
        ),
      ).toBe(true);
    });

    it('serves tlog tiles and entry bundles that verify as an export', async () => {
      const cp = (await t.request({ method: 'POST', url: '/api/v1/ledger/checkpoints' })).json();
      const read = async (p: string): Promise<Uint8Array | undefined> => {
        const url =
          p === 'checkpoint' ? '/api/v1/ledger/tlog/checkpoint' : `/api/v1/ledger/tlog/${p}`;
        const res = await t.request({ method: 'GET', url });
        return res.statusCode === 200 ? new Uint8Array(res.rawPayload) : undefined;
      };
      const result = await verifyExport(read, key, {
        entryIndex: (d) => JSON.parse(Buffer.from(d).toString('utf8')).seq,
      });
      expect(result).toMatchObject({ ok: true, size: cp.size });
      const full = await t.request({ method: 'GET', url: '/api/v1/ledger/tlog/tile/0/000' });
      expect(full.rawPayload.length).toBe(256 * 32);
      expect(full.headers['cache-control']).toContain('immutable');
      const bundle = await t.request({
        method: 'GET',
        url: '/api/v1/ledger/tlog/tile/entries/000',
      });
      expect(bundle.headers['cache-control']).toBe('no-store');
      const bad = await t.request({ method: 'GET', url: '/api/v1/ledger/tlog/tile/0/999' });
      expect(bad.statusCode).toBe(404);
      expect(bad.json().error.code).toBe('LEDGER_TILE_NOT_FOUND');
    });

    it('ledger tables are append-only in the database', async () => {
      const db = t.app.database.db;
      for (const stmt of [
        sql`update ledger_checkpoints set note = 'x'`,
        sql`delete from ledger_checkpoints`,
        sql`update ledger_tile_segments set level = 9`,
        sql`delete from ledger_tile_segments`,
        sql`delete from ledger_keys`,
      ]) {
        await expect(stmt.execute(db)).rejects.toThrow(/append-only/);
      }
      if (dialect === 'postgres')
        await expect(sql`truncate ledger_tile_segments`.execute(db)).rejects.toThrow(/append-only/);
    });

    it('the background checkpointer signs within a second while entries arrive', async () => {
      t.app.background.start();
      try {
        await write(t, 3, 'c');
        const target = await t.app.services.audit.size();
        const started = Date.now();
        let size = 0;
        while (Date.now() - started < 5000) {
          size = (await t.request({ method: 'GET', url: '/api/v1/ledger/checkpoint' })).json().size;
          if (size >= target) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(size).toBeGreaterThanOrEqual(target);
        // Signed within the 500 ms cadence; the bound leaves room for a loaded CI machine.
        expect(Date.now() - started).toBeLessThan(3000);
        const status = (await t.request({ method: 'GET', url: '/api/v1/ledger/status' })).json();
        expect(status).toMatchObject({ leader: true, running: true });
      } finally {
        await t.app.background.stop();
      }
      expect(
        parseNote((await t.app.services.ledger.service.latest()).note).signatures,
      ).toHaveLength(1);
    });
  });
}
