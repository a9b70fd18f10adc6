// A database administrator (SQL access, no shell on the servers, no key) against the
// ledger: every attack here made today's code sign a forged history.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { leafHash, openCheckpoint, parseVerifierKey } from '@custody/ledger';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../app.ts';
import { systemContext } from '../../bootstrap.ts';
import type { DialectName } from '../../platform/db/database.ts';
import { createLogger } from '../../platform/log/logger.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { leafBytes } from './ledger-service.ts';

let counter = 0;

async function grow(app: App, n: number): Promise<void> {
  const ctx = systemContext(app, 'test');
  await app.uow.run(ctx, async (_tx, record) => {
    for (let i = 0; i < n; i++) {
      const id = counter++;
      record({
        action: 'test.thing.changed',
        resource: { type: 'thing', id: `thing-${id}` },
        details: { n: id },
      });
    }
  });
}

// The attacker's first step: the append-only triggers go.
async function dropTriggers(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  for (const t of ['audit_entries', 'ledger_tile_segments', 'ledger_checkpoints', 'ledger_keys']) {
    if (dialect === 'sqlite') {
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_update`).execute(db);
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_delete`).execute(db);
    } else {
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_update_delete ON ${t}`).execute(db);
      await sql.raw(`DROP TRIGGER IF EXISTS ${t}_no_truncate ON ${t}`).execute(db);
    }
  }
}

// A careful attacker rewrites the stored leaf hash of a changed row too.
async function rehash(app: App, seq: number): Promise<string> {
  const [entry] = await app.services.audit.list({ afterSeq: seq - 1, limit: 1 });
  const h = Buffer.from(leafHash(leafBytes(entry!))).toString('hex');
  await sql`update audit_entries set leaf_hash = ${h} where seq = ${seq}`.execute(app.database.db);
  return h;
}

async function checkpointCount(app: App): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from ledger_checkpoints`.execute(
    app.database.db,
  );
  return Number(r.rows[0]!.n);
}

function stateFile(app: App): string {
  return path.join(app.config.dataDir, 'ledger.key.state');
}

for (const dialect of dialects) {
  describe(`ledger against a database administrator [${dialect}]`, () => {
    let t: TestApp | undefined;
    const restarted: App[] = [];
    afterEach(async () => {
      for (const a of restarted.splice(0)) await a.close();
      await t?.close();
      t = undefined;
    });

    // A new process on the same database and data directory: nothing in memory.
    async function restart(): Promise<App> {
      const app = await createApp({ config: t!.app.config, logger: createLogger('silent') });
      restarted.push(app);
      return app;
    }

    it('keeps its own state next to the key, written before each checkpoint is committed', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 12);
      const cp = await t.app.services.ledger.checkpointNow();
      const file = stateFile(t.app);
      expect(statSync(file).mode & 0o077).toBe(0);
      const state = JSON.parse(readFileSync(file, 'utf8'));
      expect(state).toMatchObject({ version: 1, size: cp.size, note: cp.note });
      const key = parseVerifierKey(t.app.services.ledger.service.verifierKey().verifierKey);
      expect(openCheckpoint(state.note, key).checkpoint.size).toBe(cp.size);
    });

    it('rewrite an entry with its leaf hash, wipe checkpoints and tiles, restart: refused, nothing signed', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 40);
      await t.app.services.ledger.checkpointNow();
      await grow(t.app, 20);
      const signed = await t.app.services.ledger.checkpointNow();
      const before = readFileSync(stateFile(t.app), 'utf8');
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      await sql`update audit_entries set actor_name = 'mallory' where seq = 10`.execute(db);
      await rehash(t.app, 10);
      await sql`delete from ledger_checkpoints`.execute(db);
      await sql`delete from ledger_tile_segments`.execute(db);

      const app = await restart();
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_STATE_INCONSISTENT',
      });
      expect(await checkpointCount(app)).toBe(0);
      expect(readFileSync(stateFile(app), 'utf8')).toBe(before);
      const status = await app.http.inject({
        method: 'GET',
        url: '/api/v1/ledger/status',
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      expect(status.json().controlFailure).toMatchObject({ code: 'LEDGER_STATE_INCONSISTENT' });
      // Asking again changes nothing: still refused, still nothing signed.
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_STATE_INCONSISTENT',
      });
      expect(await checkpointCount(app)).toBe(0);
      expect(signed.size).toBeGreaterThan(60);
    });

    it('wiping the ledger tables with the entries intact is refused too (signed checkpoints were deleted)', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 30);
      await t.app.services.ledger.checkpointNow();
      await grow(t.app, 30);
      await t.app.services.ledger.checkpointNow();
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      await sql`delete from ledger_checkpoints`.execute(db);
      await sql`delete from ledger_tile_segments`.execute(db);
      const app = await restart();
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_HISTORY_TRUNCATED',
      });
      expect(await checkpointCount(app)).toBe(0);
    });

    it('an entry inserted at the tail with a correct leaf hash is refused and named; the entries before it are signed', async () => {
      t = await createTestApp(dialect);
      const ledger = t.app.services.ledger;
      await grow(t.app, 10);
      await ledger.checkpointNow();
      await grow(t.app, 5);
      const forged = await t.app.services.audit.size();
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      // No trigger stands in the way of an INSERT. The attacker copies the last row, makes it
      // say something else, gives it a valid leaf hash (and the previous row's MAC, in case
      // that helps), and moves the head so the application keeps writing after it.
      await sql`insert into audit_entries (seq, created_at, actor_type, actor_id, actor_name, auth_method, actor_ip, action, resource_type, resource_id, outcome, request_id, details, leaf_hash, entry_mac)
        select ${forged}, created_at, actor_type, actor_id, 'alice', auth_method, actor_ip, 'approvals.request.approved', resource_type, resource_id, outcome, request_id, details, leaf_hash, entry_mac from audit_entries where seq = ${forged - 1}`.execute(
        db,
      );
      await rehash(t.app, forged);
      await sql`update audit_head set next_seq = ${forged + 1}`.execute(db);
      await grow(t.app, 3);

      await expect(ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_ENTRY_UNAUTHENTICATED',
        details: { seq: forged },
      });
      const latest = await ledger.service.latest();
      expect(latest.size).toBe(forged);
      const status = (await t.request({ method: 'GET', url: '/api/v1/ledger/status' })).json();
      expect(status.controlFailure).toMatchObject({
        code: 'LEDGER_ENTRY_UNAUTHENTICATED',
        seq: forged,
      });
      expect(status.controlFailure.message).toContain(`audit entry ${forged}`);
      // Reported in the audit trail too (and so to the SIEM streams), once.
      await expect(ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_ENTRY_UNAUTHENTICATED',
      });
      const reports = await t.app.services.audit.list({
        action: 'ledger.control.failed',
        limit: 10,
      });
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({
        outcome: 'failed',
        details: { code: 'LEDGER_ENTRY_UNAUTHENTICATED', seq: forged },
      });
      // Another replica (a restart) finds the same entry and signs nothing past it.
      const app = await restart();
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        details: { seq: forged },
      });
      expect((await app.services.ledger.service.latest()).size).toBe(forged);
    });

    it('an entry without any MAC is refused, and so is a genuine MAC moved to another row', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 6);
      await t.app.services.ledger.checkpointNow();
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      const at = await t.app.services.audit.size();
      await sql`insert into audit_entries (seq, created_at, actor_type, actor_id, actor_name, auth_method, actor_ip, action, resource_type, resource_id, outcome, request_id, details, leaf_hash)
        select ${at}, created_at, actor_type, actor_id, actor_name, auth_method, actor_ip, action, resource_type, 'thing-x', outcome, request_id, details, leaf_hash from audit_entries where seq = ${at - 1}`.execute(
        db,
      );
      await rehash(t.app, at);
      await sql`update audit_head set next_seq = ${at + 1}`.execute(db);
      await expect(t.app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_ENTRY_UNAUTHENTICATED',
        details: { seq: at },
      });
      // The MAC binds the seq: a genuine row's MAC moved to its neighbour does not verify.
      // (The refusal was recorded after it, as an audit entry: both go.)
      await sql`delete from audit_entries where seq >= ${at}`.execute(db);
      await sql`update audit_head set next_seq = ${at}`.execute(db);
      await grow(t.app, 2);
      await sql`update audit_entries set entry_mac = (select entry_mac from audit_entries where seq = ${at}) where seq = ${at + 1}`.execute(
        db,
      );
      await expect(t.app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_ENTRY_UNAUTHENTICATED',
        details: { seq: at + 1 },
      });
      expect((await t.app.services.ledger.service.latest()).size).toBe(at + 1);
    });

    it('the tail cut and the later checkpoints deleted, restart: the signer state detects it without --since', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 50);
      const first = await t.app.services.ledger.checkpointNow();
      await grow(t.app, 50);
      const second = await t.app.services.ledger.checkpointNow();
      expect(second.size).toBeLessThan(256);
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      const cut = first.size + 10;
      await sql`delete from audit_entries where seq >= ${cut}`.execute(db);
      await sql`delete from ledger_checkpoints where size > ${first.size}`.execute(db);
      // ... and the tile hashes the later checkpoint added (one tile: the log is small).
      await sql`delete from ledger_tile_segments where level = 0 and start >= ${first.size}`.execute(
        db,
      );
      await sql`update audit_head set next_seq = ${cut}`.execute(db);

      const app = await restart();
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_HISTORY_TRUNCATED',
        details: { seq: first.size, stateSize: second.size, entries: cut },
      });
      expect((await app.services.ledger.service.latest()).size).toBe(first.size);
      // Refilling the tail with new (genuine) entries does not get past it either.
      // Asking again while entries keep arriving reports the same failure once.
      await grow(app, 3);
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_HISTORY_TRUNCATED',
      });
      const reports = await app.services.audit.list({ action: 'ledger.control.failed', limit: 10 });
      expect(reports).toHaveLength(1);
      await grow(app, second.size - cut + 20);
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_STATE_INCONSISTENT',
      });
      expect((await app.services.ledger.service.latest()).size).toBe(first.size);
    });

    it('a crash between the state write and the commit is not mistaken for tampering', async () => {
      t = await createTestApp(dialect);
      const ledger = t.app.services.ledger;
      await grow(t.app, 20);
      const committed = await ledger.checkpointNow();
      await grow(t.app, 7);
      const store = ledger.store;
      const insert = store.insertCheckpoint.bind(store);
      store.insertCheckpoint = async () => {
        throw new Error('connection lost');
      };
      await expect(ledger.checkpointNow()).rejects.toThrow(/connection lost/);
      store.insertCheckpoint = insert;
      const state = JSON.parse(readFileSync(stateFile(t.app), 'utf8'));
      expect(state.size).toBe(committed.size + 7);
      expect((await ledger.service.latest()).size).toBe(committed.size);
      // A new process commits the very checkpoint the state holds, then carries on.
      const app = await restart();
      await grow(app, 3);
      const next = await app.services.ledger.checkpointNow();
      expect(next.size).toBe(committed.size + 10);
      const recovered = await app.services.ledger.service.checkpointAt(committed.size + 7);
      expect(recovered?.note).toBe(state.note);
    });

    it('a replica whose state is behind accepts a newer checkpoint only when it is consistent', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 15);
      await t.app.services.ledger.checkpointNow();
      // Replica B: same database and key, its own state file (another machine).
      const bState = path.join(t.app.config.dataDir, 'replica-b.state');
      const b = await createApp({
        config: { ...t.app.config, ledgerStateFile: bState },
        logger: createLogger('silent'),
      });
      restarted.push(b);
      await grow(b, 30);
      const byB = await b.services.ledger.checkpointNow();
      expect(JSON.parse(readFileSync(bState, 'utf8')).size).toBe(byB.size);
      // A catches up through a consistency proof from the stored tiles, and signs on.
      await grow(t.app, 4);
      const byA = await t.app.services.ledger.checkpointNow();
      expect(byA.size).toBe(byB.size + 4);
      // A forged tile under B's checkpoint: A (behind again) refuses to extend it.
      await grow(b, 300);
      const big = await b.services.ledger.checkpointNow();
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      const seg = await sql<{
        hashes: Uint8Array;
      }>`select hashes from ledger_tile_segments where level = 0 and tile = 0 and start = 0`.execute(
        db,
      );
      const bytes = Buffer.from(seg.rows[0]!.hashes);
      bytes[32 * 5] = bytes[32 * 5]! ^ 0xff; // leaf 5's hash, same length
      await sql`update ledger_tile_segments set hashes = ${bytes} where level = 0 and tile = 0 and start = 0`.execute(
        db,
      );
      const fresh = await restart();
      // (A's state is at byA.size < big.size: it must prove big extends it, from the tiles.)
      await expect(fresh.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_STATE_INCONSISTENT',
      });
      expect(big.size).toBeGreaterThan(byA.size);
    });

    it('a replica without a state file trusts the latest signed checkpoint (first start), and says so', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 9);
      const cp = await t.app.services.ledger.checkpointNow();
      rmSync(stateFile(t.app));
      const app = await restart();
      await grow(app, 2);
      const next = await app.services.ledger.checkpointNow();
      expect(next.size).toBe(cp.size + 2);
      expect(existsSync(stateFile(app))).toBe(true);
    });

    it('rows written before entry MACs existed are accepted only below the recorded boundary', async () => {
      t = await createTestApp(dialect);
      await grow(t.app, 5);
      await t.app.services.ledger.checkpointNow();
      await grow(t.app, 5);
      // As after the upgrade: the newest rows have no MAC, the boundary is past them, and
      // no replica has a signer state yet.
      const db = t.app.database.db;
      await dropTriggers(db, dialect);
      const size = await t.app.services.audit.size();
      await sql`update audit_entries set entry_mac = null where seq >= ${size - 5}`.execute(db);
      await sql`update audit_head set macs_from = ${size}`.execute(db);
      rmSync(stateFile(t.app));
      const app = await restart();
      expect((await app.services.ledger.checkpointNow()).size).toBe(size);
      // After the boundary, a row without a MAC is refused.
      await grow(app, 1);
      await sql`update audit_entries set entry_mac = null where seq = ${size}`.execute(db);
      await expect(app.services.ledger.checkpointNow()).rejects.toMatchObject({
        code: 'LEDGER_ENTRY_UNAUTHENTICATED',
        details: { seq: size },
      });
    });
  });
}
