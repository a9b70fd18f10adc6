import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSignerKey } from '@custody/ledger';
import { runAgent } from '@custody/runner';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './testing/cli-process.ts';
import { freshDatabase } from './testing/ledger-fixture.ts';

// Two `custody server` replicas with separate data directories on one PostgreSQL, sharing one
// configured sealing key: every job leased from either one gets its secret (before the one
// sealing key, each data directory made its own and a third of the leases failed).

const bin = path.join(repoRoot, 'packages', 'cli', 'bin', 'custody.js');
const secret = 'replicated-s3cret-0042';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const jobs = 80;

interface Replica {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

function spawnReplica(databaseUrl: string, ledgerKey: string, secretsKey: string) {
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
      ledgerKey,
      '--secrets-key-file',
      secretsKey,
      '--log-level',
      'warn',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, dataDir, output: () => out };
}

async function startReplica(databaseUrl: string, ledgerKey: string, secretsKey: string) {
  const r = spawnReplica(databaseUrl, ledgerKey, secretsKey);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${r.output()}`)), 60_000);
    const poll = setInterval(() => {
      const m = /listening at (http:\/\/\S+)/.exec(r.output());
      if (m) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(m[1]!);
      }
    }, 50);
    r.child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`replica exited with ${code}:\n${r.output()}`));
    });
  });
  return { child: r.child, url, dataDir: r.dataDir } satisfies Replica;
}

async function api<T>(r: Replica, token: string, method: string, p: string, body?: unknown) {
  const res = await fetch(r.url + p, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined
        ? {}
        : { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('two server replicas, separate data directories, one configured sealing key', () => {
  const children: ChildProcess[] = [];
  const abort = new AbortController();
  const agents: Promise<unknown>[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    abort.abort();
    await Promise.all(agents.map((a) => a.catch(() => {})));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await drop?.();
  });

  it(`run ${jobs} jobs that each need the secret with no failure; a replica with a wrong key does not start`, async () => {
    const db = await freshDatabase('postgres');
    drop = db.drop;
    const keys = mkdtempSync(path.join(tmpdir(), 'custody-keys-'));
    const ledgerKey = path.join(keys, 'ledger.key');
    writeFileSync(ledgerKey, generateSignerKey('replicas.test/ledger').signerKey + '\n', {
      mode: 0o600,
    });
    const secretsKey = path.join(keys, 'secrets.key');
    writeFileSync(secretsKey, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });

    const repo = path.join(keys, 'repo');
    mkdirSync(repo);
    writeFileSync(path.join(repo, 'README'), 'x\n');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'a',
          GIT_AUTHOR_EMAIL: 'a@x',
          GIT_COMMITTER_NAME: 'a',
          GIT_COMMITTER_EMAIL: 'a@x',
        },
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'init');

    const a = await startReplica(db.url, ledgerKey, secretsKey);
    children.push(a.child);
    const token = readFileSync(path.join(a.dataDir, 'admin.token'), 'utf8').trim();
    const b = await startReplica(db.url, ledgerKey, secretsKey);
    children.push(b.child);
    await api(
      a,
      token,
      'POST',
      '/api/v1/apply',
      `apiVersion: custody/v1
kind: Project
metadata: { name: vault }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: uses-secret, project: vault }
spec:
  source: { repository: 'file://${repo}', branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - name: check
          secrets: [DEPLOY_TOKEN]
          run: printf %s "$DEPLOY_TOKEN" | sha256sum | grep -q ${sha(secret)}
`,
    );
    // Set through one replica, leased through both.
    await api(b, token, 'PUT', '/api/v1/projects/vault/secrets/DEPLOY_TOKEN', { value: secret });
    for (const [i, r] of [a, b].entries()) {
      const { token: runnerToken } = await api<{ token: string }>(
        r,
        token,
        'POST',
        '/api/v1/runners/tokens',
        { name: `r${i}`, pools: ['default'] },
      );
      agents.push(
        runAgent({
          server: r.url,
          token: runnerToken,
          pools: ['default'],
          workDir: mkdtempSync(path.join(tmpdir(), 'custody-work-')),
          leaseWaitMs: 2000,
          signal: abort.signal,
          log: () => {},
        }),
      );
    }

    const runs: string[] = [];
    for (let i = 0; i < jobs; i++) {
      const r = i % 2 === 0 ? a : b;
      runs.push(
        (
          await api<{ id: string }>(
            r,
            token,
            'POST',
            '/api/v1/projects/vault/pipelines/uses-secret/runs',
            {},
          )
        ).id,
      );
    }
    const states = new Map<string, string>();
    for (let i = 0; i < 600 && states.size < jobs; i++) {
      for (const id of runs) {
        if (states.has(id)) continue;
        const run = await api<{ state: string }>(i % 2 ? a : b, token, 'GET', `/api/v1/runs/${id}`);
        if (['succeeded', 'failed', 'cancelled'].includes(run.state)) states.set(id, run.state);
      }
      if (states.size < jobs) await new Promise((r) => setTimeout(r, 250));
    }
    const count = (s: string) => [...states.values()].filter((v) => v === s).length;
    expect({ succeeded: count('succeeded'), failed: count('failed') }).toEqual({
      succeeded: jobs,
      failed: 0,
    });

    // Each lease released the secret, in the ledger, through both replicas' runners.
    const releases = await api<{ items: { runner: string; version: number }[] }>(
      a,
      token,
      'GET',
      '/api/v1/projects/vault/secret-releases?limit=1000',
    );
    expect(releases.items).toHaveLength(jobs);
    expect(new Set(releases.items.map((r) => r.runner)).size).toBe(2);

    // A third replica with another key refuses to start, naming the problem.
    const wrongKey = path.join(keys, 'wrong.key');
    writeFileSync(wrongKey, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    const wrong = spawnReplica(db.url, ledgerKey, wrongKey);
    children.push(wrong.child);
    const code = await new Promise<number | null>((resolve) => wrong.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(wrong.output()).toContain('SEALING_KEY_MISSING');
    expect(wrong.output()).not.toContain('listening at');
  }, 300_000);
});
