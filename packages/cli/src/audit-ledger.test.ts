import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dropAppendOnlyTriggers,
  rebuildLedger,
  rehashRow,
  runCli,
  startLedgerFixture,
  type Dialect,
  type LedgerFixture,
} from './testing/ledger-fixture.ts';
import { repoRoot } from './testing/cli-process.ts';

const dialects: Dialect[] = ['sqlite', 'postgres'];

// A log of 320 entries (two entry bundles) with checkpoints at 50, 150 and 320.
async function signedLog(dialect: Dialect): Promise<LedgerFixture> {
  const f = await startLedgerFixture(dialect);
  for (const size of [50, 150, 320]) {
    await f.growTo(size);
    expect((await f.checkpoint()).size).toBe(size);
  }
  return f;
}

async function verify(f: LedgerFixture, ...extra: string[]) {
  const r = await runCli([
    ...f.flags,
    '-o',
    'json',
    'audit',
    'verify',
    '--key',
    f.verifierKey,
    ...extra,
  ]);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

for (const dialect of dialects) {
  describe(`custody audit verify against tampering [${dialect}]`, () => {
    let f: LedgerFixture | undefined;
    afterEach(async () => {
      await f?.close();
      f = undefined;
    });

    it('an untouched log verifies, entries after the last checkpoint included as pending', async () => {
      f = await signedLog(dialect);
      await f.growTo(330);
      const r = await verify(f);
      expect(r.status, r.stderr).toBe(0);
      expect(r.report).toMatchObject({ ok: true, size: 320, checkpoints: 3 });
    });

    it('a changed field is named by its sequence number', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      await sql`update audit_entries set actor_name = 'someone-else' where seq = 100`.execute(
        f.db.db,
      );
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({
        ok: false,
        code: 'LEDGER_LEAF_HASH_MISMATCH',
        firstBadSeq: 100,
      });
      expect(r.stderr).toContain('sequence number 100');
      // Rewriting the row's own leaf hash too changes nothing: the ledger keeps its own copy.
      await rehashRow(f, 100);
      expect((await verify(f)).report).toMatchObject({ firstBadSeq: 100 });
    });

    it('details overwritten with something that is not JSON are named', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      await sql`update audit_entries set details = '{not json' where seq = 210`.execute(f.db.db);
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({ ok: false, firstBadSeq: 210 });
    });

    it('a deleted row is named', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      await sql`delete from audit_entries where seq = 77`.execute(f.db.db);
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({ ok: false, firstBadSeq: 77 });
    });

    it('an inserted row is named', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      const db = f.db.db;
      // Make room at 120 by renumbering everything after it, then slip a row in.
      await sql`update audit_entries set seq = -seq - 1 where seq >= 120`.execute(db);
      await sql`update audit_entries set seq = -seq where seq < 0`.execute(db);
      await sql`insert into audit_entries (seq, created_at, actor_type, actor_id, actor_name, auth_method, actor_ip, action, resource_type, resource_id, outcome, request_id, details, leaf_hash)
        select 120, created_at, actor_type, actor_id, actor_name, auth_method, actor_ip, 'test.thing.approved', resource_type, resource_id, outcome, request_id, details, leaf_hash from audit_entries where seq = 119`.execute(
        db,
      );
      await rehashRow(f, 120);
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({ ok: false, firstBadSeq: 120 });
    });

    it('two swapped rows are named by the first', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      const db = f.db.db;
      await sql`update audit_entries set seq = -1 where seq = 140`.execute(db);
      await sql`update audit_entries set seq = 140 where seq = 260`.execute(db);
      await sql`update audit_entries set seq = 260 where seq = -1`.execute(db);
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({ ok: false, firstBadSeq: 140 });
    });

    it('a cut tail is named by the first missing entry', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      await sql`delete from audit_entries where seq >= 300`.execute(f.db.db);
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({ ok: false, firstBadSeq: 300 });
    });

    it('history rewritten and re-signed with another key fails from the last trusted checkpoint', async () => {
      f = await signedLog(dialect);
      await dropAppendOnlyTriggers(f);
      await sql`update audit_entries set action = 'test.thing.deleted' where seq = 200`.execute(
        f.db.db,
      );
      await rehashRow(f, 200);
      await rebuildLedger(f, 150);
      // The server now presents the attacker's key; the auditor's pinned key still decides.
      const r = await verify(f);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({
        ok: false,
        code: 'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
        firstBadSeq: 150,
        badRange: { from: 150, to: 320 },
      });
    });

    it('a long log: a sample of checkpoints is checked, and bisection finds where re-signing began', async () => {
      f = await startLedgerFixture(dialect);
      for (let size = 10; size <= 400; size += 10) {
        await f.growTo(size);
        await f.checkpoint();
      }
      const ok = await verify(f, '--checkpoints', '4');
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.report).toMatchObject({ ok: true, size: 400, checkpoints: 4 });
      await dropAppendOnlyTriggers(f);
      await sql`update audit_entries set action = 'test.thing.hidden' where seq = 333`.execute(
        f.db.db,
      );
      await rehashRow(f, 333);
      await rebuildLedger(f, 270);
      const r = await verify(f, '--checkpoints', '4');
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({
        ok: false,
        code: 'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
        firstBadSeq: 270,
      });
    });

    it('an old checkpoint verifies against the current one; a history rewritten with the stolen key does not', async () => {
      f = await signedLog(dialect);
      const saved = path.join(mkdtempSync(path.join(tmpdir(), 'custody-cp-')), 'checkpoint');
      const cp = await runCli([...f.flags, 'audit', 'checkpoint', '--out', saved]);
      expect(cp.status, cp.stderr).toBe(0);
      expect(readFileSync(saved, 'utf8')).toMatch(/^custody\/ledger\/[0-9a-f]{8}\n320\n/);
      await f.growTo(400);
      await f.checkpoint();
      const ok = await verify(f, '--since', saved);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.report).toMatchObject({ ok: true, size: 400 });
      // The attacker holds the signing key itself and rebuilds the whole tree over a change.
      await dropAppendOnlyTriggers(f);
      await sql`update audit_entries set outcome = 'denied' where seq = 60`.execute(f.db.db);
      await rehashRow(f, 60);
      await rebuildLedger(f, 0, path.join(f.dataDir, 'ledger.key'));
      const plain = await verify(f);
      expect(plain.status, 'a re-signed log is self-consistent').toBe(0);
      const r = await verify(f, '--since', saved);
      expect(r.status).toBe(1);
      expect(r.report).toMatchObject({ ok: false, code: 'LEDGER_CONSISTENCY_INVALID' });
    });
  });
}

describe('custody audit export, proof and offline verify', () => {
  let f: LedgerFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('an export verifies in a separate process with no server and no database; a changed export does not', async () => {
    f = await signedLog('sqlite');
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'custody-export-')), 'ledger');
    const exp = await runCli([...f.flags, 'audit', 'export', '--out', dir]);
    expect(exp.status, exp.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'vkey'), 'utf8').trim()).toBe(f.verifierKey);
    const proof = await runCli([
      ...f.flags,
      '-o',
      'json',
      'audit',
      'proof',
      '42',
      '--key',
      f.verifierKey,
    ]);
    expect(proof.status, proof.stderr).toBe(0);
    expect(JSON.parse(proof.stdout)).toMatchObject({
      seq: 42,
      size: 320,
      verified: true,
      entry: { seq: 42 },
    });
    const keyFile = path.join(dir, '..', 'trusted.vkey');
    writeFileSync(keyFile, f.verifierKey + '\n');
    await f.close();
    f = undefined;
    const bin = path.join(repoRoot, 'packages', 'cli', 'bin', 'custody.js');
    const env = { ...process.env, CUSTODY_SERVER: 'http://127.0.0.1:9', CUSTODY_TOKEN: '' };
    const good = spawnSync(process.execPath, [bin, 'audit', 'verify', dir, '--key', keyFile], {
      encoding: 'utf8',
      env,
    });
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain('320 entries verified');
    // Change one byte of entry 200's JSON inside its bundle (tile/entries/000, full).
    const bundle = path.join(dir, 'tile', 'entries', '000');
    const bytes = readFileSync(bundle);
    const text = bytes.toString('latin1');
    const at = text.indexOf('"seq":200');
    expect(at).toBeGreaterThan(0);
    // Canonical JSON sorts keys: the resource id comes just before "seq".
    const id = text.lastIndexOf('thing-', at);
    const changed = Buffer.from(text.slice(0, id) + 'thinG-' + text.slice(id + 6), 'latin1');
    writeFileSync(bundle, changed);
    const bad = spawnSync(process.execPath, [bin, 'audit', 'verify', dir, '--key', keyFile], {
      encoding: 'utf8',
      env,
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('sequence number 200');
    // Another key does not verify the export at all.
    const other = spawnSync(
      process.execPath,
      [bin, 'audit', 'verify', dir, '--key', 'other/ledger+00000000+AQ' + 'A'.repeat(42) + '='],
      { encoding: 'utf8', env },
    );
    expect(other.status).not.toBe(0);
  });
});

describe('custody audit stream', () => {
  let f: LedgerFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('sets a destination secret from stdin (write-only) and lists delivery state', async () => {
    f = await startLedgerFixture('sqlite');
    const res = await fetch(`${f.url}/api/v1/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/yaml' },
      body: 'apiVersion: custody/v1\nkind: AuditStream\nmetadata: { name: hook }\nspec: { type: webhook, url: "https://127.0.0.1:9/x" }\n',
    });
    expect(res.status).toBe(200);
    const bin = path.join(repoRoot, 'packages', 'cli', 'bin', 'custody.js');
    const secret = 's3cret-hmac-key-value';
    // Asynchronously: the server answering the CLI runs in this very process.
    const set = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(process.execPath, [
          bin,
          ...f!.flags,
          'audit',
          'stream',
          'set-secret',
          'hook',
        ]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
        child.stdin.end(secret + '\n');
      },
    );
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(secret);
    const list = await runCli([...f.flags, '-o', 'json', 'audit', 'stream', 'list']);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([
      { name: 'hook', type: 'webhook', secretSet: true },
    ]);
    expect(list.stdout).not.toContain(secret);
  });
});
