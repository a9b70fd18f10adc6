import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custodyBin, repoRoot, startCustody, stop } from './testing/cli-process.ts';

// Jobs must not reach the control plane. Real processes: `custody up` (its local runner a
// child `custody runner`), remote `custody runner` processes, a real git repository, and the
// attacks a CI step would try: the server's data directory, /proc of its parent, the
// environment, the runner token. And no step outlives a runner killed with kill -9.

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runner isolation (custody up, remote custody runner, real git)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-isolation-'));
  const dataDir = path.join(dir, 'data');
  const repo = path.join(dir, 'repo');
  const marks = path.join(dir, 'marks');
  const home = path.join(dir, 'home');
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    CUSTODY_SERVER: '',
    CUSTODY_TOKEN: '',
    CUSTODY_LEASE_TTL_MS: '3000',
    CUSTODY_REQUEUE_TIMEOUT_MS: '30000',
  };
  let up: ChildProcess | undefined;
  let upOutput: () => string = () => '';
  let url = '';
  let admin = '';
  const runners: ChildProcess[] = [];
  const tokens: Record<string, string> = {};

  const api = async <T = Record<string, unknown>>(
    method: string,
    p: string,
    body?: unknown,
    token = admin,
  ): Promise<{ status: number; body: T }> => {
    const yaml = typeof body === 'string';
    const res = await fetch(url + p, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined
          ? {}
          : { 'content-type': yaml ? 'application/yaml' : 'application/json' }),
      },
      ...(body === undefined ? {} : { body: yaml ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) => {
    const until = Date.now() + ms;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  };

  interface RunDetail {
    state: string;
    reason: string | null;
    stages: {
      name: string;
      jobs: { id?: string; attempt: number; steps: { state: string }[] }[];
    }[];
  }
  const run = async (pipeline: string, inputs: Record<string, string> = {}) => {
    const created = await api<{ id: string }>(
      'POST',
      `/api/v1/projects/iso/pipelines/${pipeline}/runs`,
      { inputs },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  };
  const finished = (id: string, ms = 90_000) =>
    waitFor(
      `run ${id}`,
      async () => {
        const d = (await api<RunDetail>('GET', `/api/v1/runs/${id}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(d.state) ? d : undefined;
      },
      ms,
    );
  const logs = async (id: string) =>
    (await api<{ chunks: { stage: string; content: string }[] }>('GET', `/api/v1/runs/${id}/logs`))
      .body.chunks;

  // A remote runner, its token in a file (mode 0600), stderr kept.
  const startRunner = (name: string, pool: string, extra: string[] = []) => {
    const tokenFile = path.join(dir, `${pool}.token`);
    writeFileSync(tokenFile, tokens[pool] + '\n', { mode: 0o600 });
    const child = spawn(
      custodyBin,
      [
        'runner',
        '--server',
        url,
        '--token-file',
        tokenFile,
        '--pool',
        pool,
        '--work-dir',
        path.join(dir, `work-${name}`),
        '--name',
        name,
        '--writable-dir',
        marks,
        ...extra,
      ],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    runners.push(child);
    return { child, stderr: () => stderr, tokenFile };
  };
  const registered = (name: string) =>
    waitFor(`runner ${name} registered`, async () => {
      const { body } = await api<{ items: { name: string }[] }>('GET', '/api/v1/runners');
      return body.items.some((r) => r.name === name) ? true : undefined;
    });

  // The local runner: the `custody runner` child of `custody up`.
  const localRunnerPid = () =>
    Number(
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .find((p) => {
          try {
            const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
            const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            return (
              ppid === up!.pid &&
              readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('custody.js\0runner')
            );
          } catch {
            return false;
          }
        }),
    );

  beforeAll(async () => {
    // Traversable like a home directory: what protects the data directory is the sandbox (and,
    // for unsandboxed steps of a root runner, the data directory's own mode 0700).
    chmodSync(dir, 0o755);
    mkdirSync(repo);
    mkdirSync(marks);
    chmodSync(marks, 0o777);
    writeFileSync(path.join(repo, 'README'), 'iso\n');
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
    const started = await startCustody(
      ['up', '--data-dir', dataDir, '--port', '0', '--runner-pools', 'default'],
      /Custody is running at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    up = started.child;
    upOutput = started.output;
    url = started.match[1]!;
    admin = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    const probe = (pool: string) => `
    - name: probe-${pool}
      type: ci
      runnerPool: ${pool}
      steps:
        - name: attack
          run: |
            set +e
            for f in "$CUSTODY_INPUT_DATA/admin.token" "$CUSTODY_INPUT_DATA/ledger.key" \\
                     "$CUSTODY_INPUT_DATA/secrets.key" "$CUSTODY_INPUT_DATA/custody.db" \\
                     "$CUSTODY_INPUT_DATA" "$CUSTODY_INPUT_TOKENS/remote.token"; do
              if [ -e "$f" ]; then echo "VISIBLE $f"; else echo "ABSENT $f"; fi
              if head -c1 "$f" >/dev/null 2>&1; then echo "READABLE $f"; fi
            done
            echo "listing [$(ls -A ${dir} 2>/dev/null | tr '\\n' ' ')]"
            echo "ppid $PPID: $(tr '\\0' ' ' < /proc/$PPID/cmdline)"
            for p in /proc/[0-9]*; do
              echo "proc $(tr '\\0' ' ' < $p/cmdline 2>/dev/null)"
              tr '\\0' '\\n' < $p/environ 2>/dev/null | while IFS= read -r l; do
                printf '%s' "\${l#*=}" | sha256sum | sed 's/^/penv /'
              done
            done
            env | cut -d= -f1 | sed 's/^/envname /'
            env | while IFS= read -r l; do printf '%s' "\${l#*=}" | sha256sum | sed 's/^/env /'; done
            echo "home=$HOME workspace=$CUSTODY_WORKSPACE uid=$(id -u)"`;
    // Writes a line every 0.2 s from the step and from a child it leaves in the background.
    const orphan = (name: string, pool: string) => `---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ${name}, project: iso }
spec:
  source: { repository: 'file://${repo}', branch: main }
  inputs:
    - { name: mark, default: 'marker' }
    - { name: ticks, default: '40' }
  stages:
    - name: work
      type: ci
      runnerPool: ${pool}
      steps:
        - name: tick
          run: |
            id="$RANDOM$RANDOM"
            # A child in the background, as a daemonizing step would leave behind.
            (while true; do echo "$id child $(date +%s%N)" >> ${marks}/$CUSTODY_INPUT_MARK; sleep 0.2; done) &
            for i in $(seq $CUSTODY_INPUT_TICKS); do echo "$id main $(date +%s%N)" >> ${marks}/$CUSTODY_INPUT_MARK; sleep 0.2; done
`;
    const manifest = `apiVersion: custody/v1
kind: Project
metadata: { name: iso }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: attack, project: iso }
spec:
  source: { repository: 'file://${repo}', branch: main }
  inputs:
    - { name: data, default: '${dataDir}' }
    - { name: tokens, default: '${dir}' }
  stages:${probe('default')}${probe('remote')}
${orphan('orphan', 'remote')}${orphan('orphan-unsafe', 'unsafe')}`;
    const applied = await api('POST', '/api/v1/apply', manifest);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const made = await api<{ token: string }>('POST', '/api/v1/runners/tokens', {
      name: 'remote',
      pools: ['remote'],
    });
    tokens.remote = made.body.token;
    // Its own pool: a stopped runner's long poll still pending on the server cannot take it.
    tokens.unsafe = (
      await api<{ token: string }>('POST', '/api/v1/runners/tokens', {
        name: 'unsafe',
        pools: ['unsafe'],
      })
    ).body.token;
  });

  afterAll(async () => {
    for (const r of runners) if (r.exitCode === null && r.signalCode === null) await stop(r);
    if (up) await stop(up);
  }, 180_000);

  it('a step on the local runner of custody up or on a remote runner reaches nothing of the control plane', async () => {
    const remote = startRunner('remote-1', 'remote');
    await registered('remote-1');
    // The local runner's token, read from its process as only root or its own user can.
    const localPid = localRunnerPid();
    const environ = readFileSync(`/proc/${localPid}/environ`, 'utf8').split('\0');
    tokens.local = environ.find((e) => e.startsWith('CUSTODY_RUNNER_TOKEN='))!.split('=')[1]!;
    expect(tokens.local).toMatch(/^cst_/);
    // Neither runner has its token on its command line.
    for (const pid of [localPid, remote.child.pid!]) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline).not.toContain(tokens.local);
      expect(cmdline).not.toContain(tokens.remote);
    }

    const id = await run('attack');
    const final = await finished(id);
    expect(final.state, final.reason ?? '').toBe('succeeded');
    const chunks = await logs(id);
    for (const f of ['admin.token', 'ledger.key', 'custody.db'])
      expect(existsSync(path.join(dataDir, f)), f).toBe(true);
    const secrets = {
      admin,
      local: tokens.local,
      remote: tokens.remote!,
      ledgerKey: readFileSync(path.join(dataDir, 'ledger.key'), 'utf8').trim(),
    };
    for (const stage of ['probe-default', 'probe-remote']) {
      const text = chunks
        .filter((c) => c.stage === stage)
        .map((c) => c.content)
        .join('');
      expect(text, stage).toContain('home=/job/home workspace=/job/src uid=65534');
      for (const f of ['admin.token', 'ledger.key', 'secrets.key', 'custody.db'])
        expect(text, `${stage}: ${f}`).toContain(`ABSENT ${path.join(dataDir, f)}`);
      expect(text).toContain(`ABSENT ${dataDir}`);
      expect(text).toContain(`ABSENT ${path.join(dir, 'remote.token')}`);
      // Only a directory granted to remote runners shows, and nothing beside it.
      expect(text).toMatch(stage === 'probe-default' ? /listing \[\]/ : /listing \[marks \]/);
      expect(text).not.toMatch(/^(READABLE|VISIBLE) /m);
      // Its parent is the sandbox's init; no process of the host is visible, none holds a token.
      const procs = text.split('\n').filter((l) => l.startsWith('proc ') || l.startsWith('ppid '));
      expect(procs.length).toBeGreaterThan(0);
      for (const l of procs) {
        expect(l).not.toMatch(/custody\.js|node |vitest/);
        expect(l).not.toContain(dataDir);
      }
      const names = text
        .split('\n')
        .filter((l) => l.startsWith('envname '))
        .map((l) => l.slice(8));
      expect(names).toContain('CUSTODY_RUN_ID');
      for (const forbidden of ['CUSTODY_RUNNER_TOKEN', 'CUSTODY_TOKEN', 'CUSTODY_SERVER'])
        expect(names).not.toContain(forbidden);
      for (const [what, value] of Object.entries(secrets)) {
        expect(text.includes(value), `${stage} log holds the ${what}`).toBe(false);
        expect(text.includes(sha(value)), `${stage} got the ${what}`).toBe(false);
      }
    }
    // The workspaces of the local runner lie outside the data directory.
    expect(readdirSync(dataDir).some((f) => f.includes('runner') && f !== 'server.url')).toBe(
      false,
    );
  }, 180_000);

  it('kill -9 of a runner kills its step (and what the step left in the background); the re-leased job never overlaps it; the orphan’s late report is refused', async () => {
    const marker = path.join(marks, 'sandboxed');
    const victim = runners.find((r) => r.exitCode === null)!;
    const id = await run('orphan', { mark: 'sandboxed' });
    await waitFor('the step to write', async () =>
      existsSync(marker) && readFileSync(marker, 'utf8').split('\n').length > 5 ? true : undefined,
    );
    const db = new Sqlite(path.join(dataDir, 'custody.db'), { readonly: true });
    const job = db.prepare('select id, lease_id from jobs where run_id = ?').get(id) as {
      id: string;
      lease_id: string;
    };
    db.close();
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    await sleep(1500);
    const after = statSync(marker).size;
    await sleep(2000);
    expect(statSync(marker).size, 'the orphaned step still writes').toBe(after);

    startRunner('remote-2', 'remote');
    const final = await finished(id);
    expect(final.state, final.reason ?? '').toBe('succeeded');
    expect(final.stages[0]!.jobs[0]!.attempt).toBe(2);
    const lines = readFileSync(marker, 'utf8').trim().split('\n');
    const byWriter = new Map<string, number[]>();
    for (const l of lines) {
      const [writer, , at] = l.split(' ');
      byWriter.set(writer!, [...(byWriter.get(writer!) ?? []), Number(at)]);
    }
    expect(byWriter.size).toBe(2);
    const [first, second] = [...byWriter.values()];
    expect(Math.max(...first!)).toBeLessThan(Math.min(...second!));

    // What the killed runner would have said, had it lived: refused, the lease is gone.
    for (const [what, body] of [
      ['logs', { step: 0, seq: 99, content: 'late\n', sha256: sha('late\n') }],
      ['steps/finish', { step: 0, result: 'succeeded', exitCode: 0, attempts: 1 }],
      ['complete', { result: 'failed' }],
    ] as const) {
      const late = await api<{ error: { code: string } }>(
        'POST',
        `/api/v1/runner/jobs/${job.id}/${what}`,
        { leaseId: job.lease_id, ...body },
        tokens.remote,
      );
      expect(late.status, what).toBe(409);
      expect(late.body.error.code).toBe('EXECUTIONS_LEASE_LOST');
    }
  }, 180_000);

  it('a runner that comes back after its lease was given away kills its step at its next heartbeat', async () => {
    const marker = path.join(marks, 'stopped');
    const holder = runners.find((r) => r.exitCode === null && r.signalCode === null)!;
    const id = await run('orphan', { mark: 'stopped', ticks: '150' });
    await waitFor('the step to write', async () =>
      existsSync(marker) && readFileSync(marker, 'utf8').split('\n').length > 5 ? true : undefined,
    );
    const writers = () => {
      const last = new Map<string, number>();
      for (const l of readFileSync(marker, 'utf8').trim().split('\n')) {
        const [writer, , at] = l.split(' ');
        last.set(writer!, Number(at));
      }
      return last;
    };
    const [stale] = [...writers().keys()];
    // Frozen, not dead: it cannot heartbeat, its sandboxed step goes on, the lease expires.
    holder.kill('SIGSTOP');
    startRunner('remote-3', 'remote');
    await waitFor('the job to be re-leased', async () => (writers().size === 2 ? true : undefined));
    holder.kill('SIGCONT');
    await sleep(3000); // a heartbeat every lease/3 = 1 s answers EXECUTIONS_LEASE_LOST
    const stopped = writers().get(stale!)!;
    await sleep(2000);
    expect(writers().get(stale!), 'the step of the lost lease still writes').toBe(stopped);
    const final = await finished(id, 120_000);
    expect(final.state, final.reason ?? '').toBe('succeeded');
    expect(final.stages[0]!.jobs[0]!.attempt).toBe(2);
  }, 180_000);

  it('--unsafe-no-sandbox is announced on start and in the job log, and its steps still die with the runner', async () => {
    const unsafe = startRunner('remote-unsafe', 'unsafe', ['--unsafe-no-sandbox']);
    await registered('remote-unsafe');
    expect(unsafe.stderr()).toContain('WARNING: --unsafe-no-sandbox');
    const marker = path.join(marks, 'unsafe');
    const id = await run('orphan-unsafe', { mark: 'unsafe' });
    await waitFor('the step to write', async () =>
      existsSync(marker) && readFileSync(marker, 'utf8').split('\n').length > 5 ? true : undefined,
    ).catch(async (err: Error) => {
      const detail = (await api('GET', `/api/v1/runs/${id}`)).body;
      throw new Error(`${err.message}: ${unsafe.stderr()} ${JSON.stringify(detail)}`);
    });
    unsafe.child.kill('SIGKILL');
    await new Promise((r) => unsafe.child.once('exit', r));
    await sleep(1500);
    const after = statSync(marker).size;
    await sleep(2000);
    expect(statSync(marker).size, 'the orphaned unsandboxed step still writes').toBe(after);
    const text = (await logs(id)).map((c) => c.content).join('');
    expect(text).toContain('runs WITHOUT a sandbox');
  }, 180_000);

  it('without bubblewrap a runner refuses to start (RUNNER_SANDBOX_UNAVAILABLE) and never registers', async () => {
    const refused = startRunner('remote-nobwrap', 'remote', ['--bwrap', '/nonexistent/bwrap']);
    const code = await new Promise<number | null>((r) => refused.child.once('exit', r));
    expect(code).toBe(1);
    expect(refused.stderr()).toContain('RUNNER_SANDBOX_UNAVAILABLE');
    expect(refused.stderr()).toContain('--unsafe-no-sandbox');
    const { body } = await api<{ items: { name: string }[] }>('GET', '/api/v1/runners');
    expect(body.items.map((r) => r.name)).not.toContain('remote-nobwrap');
  }, 180_000);

  it('the token on the command line still works but is warned about; without any token the runner stops with a code', async () => {
    const child = spawn(
      custodyBin,
      ['runner', '--server', url, '--token', tokens.remote!, '--pool', 'remote', '--max-jobs', '0'],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    expect(stderr).toContain('--token puts the runner token on the command line');
    expect(stderr).not.toContain(tokens.remote);
    const none = spawn(custodyBin, ['runner', '--server', url, '--output', 'json'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    none.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((r) => none.once('exit', r))).toBe(2);
    expect(JSON.parse(err).error.code).toBe('RUNNER_TOKEN_MISSING');
    expect(upOutput()).not.toContain(tokens.local!);
  }, 180_000);

  it('kill -9 of custody up takes its local runner with it', async () => {
    const localPid = localRunnerPid();
    expect(existsSync(`/proc/${localPid}`)).toBe(true);
    const victim = up!;
    up = undefined;
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    await waitFor(
      'the local runner to exit',
      async () => (existsSync(`/proc/${localPid}`) ? undefined : true),
      10_000,
    );
  });
});
