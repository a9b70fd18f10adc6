import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSignerKey } from '@custody/ledger';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './testing/cli-process.ts';
import { freshDatabase, runCli } from './testing/ledger-fixture.ts';

const bin = path.join(repoRoot, 'packages', 'cli', 'bin', 'custody.js');

interface Replica {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

async function startReplica(
  databaseUrl: string,
  keyFile: string,
  secretsKeyFile: string,
): Promise<Replica> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custody-replica-'));
  const child = spawn(
    process.execPath,
    [
      bin,
      'server',
      '--database-url',
      databaseUrl,
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--ledger-key-file',
      keyFile,
      // Replicas share one sealing key too (ADR 8); without it the second refuses to start.
      '--secrets-key-file',
      secretsKeyFile,
      '--log-level',
      'warn',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}:\n${out}`)));
  });
  return { child, url, dataDir };
}

async function api<T>(
  r: Replica,
  token: string,
  method: string,
  p: string,
  body?: string,
): Promise<T> {
  const res = await fetch(r.url + p, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/yaml' } : {}),
    },
    ...(body ? { body } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('two server replicas on one PostgreSQL', () => {
  const children: ChildProcess[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await drop?.();
  });

  it('both take writes, the leader is killed: gap-free, verifies, and the survivor signs', async () => {
    const db = await freshDatabase('postgres');
    drop = db.drop;
    const keyDir = mkdtempSync(path.join(tmpdir(), 'custody-key-'));
    const keyFile = path.join(keyDir, 'ledger.key');
    const key = generateSignerKey('replicas.test/ledger');
    writeFileSync(keyFile, key.signerKey + '\n', { mode: 0o600 });
    const secretsKeyFile = path.join(keyDir, 'secrets.key');
    writeFileSync(secretsKeyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });

    const a = await startReplica(db.url, keyFile, secretsKeyFile);
    children.push(a.child);
    const token = readFileSync(path.join(a.dataDir, 'admin.token'), 'utf8').trim();
    const b = await startReplica(db.url, keyFile, secretsKeyFile);
    children.push(b.child);
    const replicas = [a, b];

    let n = 0;
    const writeTo = async (r: Replica, count: number): Promise<number> => {
      let ok = 0;
      for (let i = 0; i < count; i++) {
        const name = `r-${n++}`;
        try {
          await api(
            r,
            token,
            'POST',
            '/api/v1/apply',
            `apiVersion: custody/v1\nkind: Project\nmetadata: { name: ${name} }\n`,
          );
          ok++;
        } catch {
          return ok; // the replica went away
        }
      }
      return ok;
    };
    await Promise.all([writeTo(a, 25), writeTo(b, 25)]);

    // Exactly one replica leads.
    type Status = { leader: boolean; checkpointSize: number | null; entries: number };
    let statuses: Status[] = [];
    for (let i = 0; i < 50; i++) {
      statuses = await Promise.all(
        replicas.map((r) => api<Status>(r, token, 'GET', '/api/v1/ledger/status')),
      );
      if (statuses.some((s) => s.leader)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(statuses.filter((s) => s.leader)).toHaveLength(1);
    const leader = statuses[0]!.leader ? a : b;
    const survivor = leader === a ? b : a;
    // Asking the follower for a checkpoint gets the leader's, covering everything committed.
    const entriesNow = (await api<Status>(survivor, token, 'GET', '/api/v1/ledger/status')).entries;
    const viaFollower = await api<{ size: number; signedBy: string }>(
      survivor,
      token,
      'POST',
      '/api/v1/ledger/checkpoints',
    );
    expect(viaFollower.size).toBeGreaterThanOrEqual(entriesNow);
    expect(viaFollower.signedBy.endsWith(`:${leader.child.pid}`)).toBe(true);

    // Writes keep coming to both while the leader dies without a chance to clean up.
    const during = Promise.all([writeTo(leader, 1000), writeTo(survivor, 30)]);
    await new Promise((r) => setTimeout(r, 300));
    leader.child.kill('SIGKILL');
    await during;
    await writeTo(survivor, 10);

    // The survivor takes over the lock and signs a checkpoint covering everything.
    let status: Status | undefined;
    for (let i = 0; i < 100; i++) {
      status = await api<Status>(survivor, token, 'GET', '/api/v1/ledger/status');
      if (status.leader && status.checkpointSize === status.entries) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({ leader: true });
    expect(status!.checkpointSize).toBe(status!.entries);
    const cp = await api<{ size: number; signedBy: string }>(
      survivor,
      token,
      'POST',
      '/api/v1/ledger/checkpoints',
    );
    expect(cp.size).toBe(status!.entries);
    expect(cp.signedBy.endsWith(`:${survivor.child.pid}`)).toBe(true);

    // Before the kill only the leader signed; after it only the survivor.
    const all = await api<{ checkpoints: { size: number; signedBy: string }[] }>(
      survivor,
      token,
      'GET',
      '/api/v1/ledger/checkpoints?limit=10000',
    );
    const signers = all.checkpoints.map((c) => Number(c.signedBy.split(':').pop()));
    const firstSurvivor = signers.indexOf(survivor.child.pid!);
    expect(firstSurvivor).toBeGreaterThan(0);
    expect(signers.slice(0, firstSurvivor).every((p) => p === leader.child.pid)).toBe(true);
    expect(signers.slice(firstSurvivor).every((p) => p === survivor.child.pid)).toBe(true);

    // Gap-free sequence numbers in commit order.
    const seqs: number[] = [];
    let after = -1;
    for (;;) {
      const page = await api<{ entries: { seq: number }[]; next: number | null }>(
        survivor,
        token,
        'GET',
        `/api/v1/audit/entries?limit=1000&after=${after}`,
      );
      seqs.push(...page.entries.map((e) => e.seq));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    expect(seqs.length).toBe(cp.size);

    const verify = await runCli([
      '--server',
      survivor.url,
      '--token',
      token,
      '-o',
      'json',
      'audit',
      'verify',
      '--key',
      key.verifierKey,
    ]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, size: cp.size });
  });
});
