import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custody, custodyBin, repoRoot, startCustody, stop } from './testing/cli-process.ts';

// The acceptance path of pipelines: a real server process, separate `custody runner`
// processes, a local git repository made from examples/sample-service, and kill -9 of both.

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const slowPipeline = (repo: string) => `apiVersion: custody/v1
kind: Pipeline
metadata: { name: slow, project: sample }
spec:
  source: { repository: ${repo}, branch: main }
  stages:
    - name: work
      type: ci
      steps:
        - { name: first, run: 'echo first; sleep 4; echo first done' }
        - { name: second, run: 'echo second; sleep 1; echo second done' }
`;

describe('pipelines end to end (server and runner processes)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-e2e-'));
  const repo = path.join(dir, 'repo');
  const deploys = path.join(dir, 'deploys');
  const dataDir = path.join(dir, 'data');
  const home = path.join(dir, 'home');
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    CUSTODY_SERVER: '',
    CUSTODY_TOKEN: '',
    CUSTODY_LEASE_TTL_MS: '3000',
    CUSTODY_REQUEUE_TIMEOUT_MS: '4000',
  };
  let port = 0;
  let url = '';
  let admin = '';
  let server: ChildProcess | undefined;
  const runners: ChildProcess[] = [];
  let runnerToken = '';
  let rita = '';
  // The developer who authors the pipelines: an account the administrator created may approve
  // only what the administrator did not author (the sock-puppet rule).
  let dev = '';
  let manifestText = '';
  let firstDigest = '';

  const cli = (args: string[], input?: string, token = admin) =>
    custody(['--server', url, '--token', token, ...args], {
      env,
      ...(input !== undefined ? { input } : {}),
    });
  const api = async <T>(method: string, p: string, body?: unknown, token = admin): Promise<T> => {
    const res = await fetch(url + p, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as T;
  };
  const startServer = async () => {
    const started = await startCustody(
      [
        'server',
        '--database-url',
        path.join(dir, 'custody.db'),
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--log-level',
        'warn',
      ],
      /listening at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    server = started.child;
    url = started.match[1]!;
  };
  const startRunner = (name: string) => {
    const tokenFile = path.join(dir, 'runner.token');
    writeFileSync(tokenFile, runnerToken + '\n', { mode: 0o600 });
    const child = spawn(
      custodyBin,
      [
        'runner',
        '--server',
        url,
        '--token-file',
        tokenFile,
        '--pool',
        'default',
        '--work-dir',
        path.join(dir, `work-${name}`),
        '--name',
        name,
        // Steps run sandboxed: the sample's local deploy target is granted to them explicitly.
        '--writable-dir',
        deploys,
      ],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    runners.push(child);
    return child;
  };
  const waitFor = async <T>(
    what: string,
    probe: () => Promise<T | undefined>,
    ms = 40_000,
  ): Promise<T> => {
    const until = Date.now() + ms;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  interface Detail {
    state: string;
    reason: string | null;
    commit: string | null;
    stages: {
      name: string;
      state: string;
      jobs: { attempt: number; runner: string | null; steps: { name: string; state: string }[] }[];
    }[];
    files: { kind: string; name: string; type: string; digest: string }[];
  }
  const detail = (id: string) => api<Detail>('GET', `/api/v1/runs/${id}`);
  // People sign in themselves: a token the administrator creates for them is impersonation.
  const signIn = async (name: string, password: string) => {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  // dev starts a run of the sample release, and rita (the second person) approves its
  // production deployment once it waits for her; resolves with the `logs --follow` result.
  const releaseWithApproval = async () => {
    const started = cli(
      ['run', 'release', '--project', 'sample', '--output', 'json'],
      undefined,
      dev,
    );
    expect(started.status, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    const approval = await waitFor(
      'the production deployment to wait for approval',
      async () => {
        const gate = await api<{
          stages: { stage: string; state: string; approval: { id: string } | null }[];
        }>('GET', `/api/v1/runs/${id}/gate`);
        const prod = gate.stages.find((g) => g.stage === 'deploy-prod');
        return prod?.state === 'waiting_for_approval' ? prod.approval?.id : undefined;
      },
      90_000,
    );
    const approved = cli(['approve', approval, '--comment', 'reviewed'], undefined, rita);
    expect(approved.status, approved.stderr).toBe(0);
    return { id, followed: cli(['logs', id, '--follow']) };
  };
  const pipelineDocs = (text: string) =>
    text.slice(text.indexOf('apiVersion: custody/v1\nkind: Pipeline'));
  const stepState = async (id: string, step: string) =>
    (await detail(id)).stages
      .flatMap((s) => s.jobs.flatMap((j) => j.steps))
      .find((s) => s.name === step)?.state;

  beforeAll(async () => {
    cpSync(path.join(repoRoot, 'examples', 'sample-service'), repo, { recursive: true });
    mkdirSync(deploys, { mode: 0o777 });
    chmodSync(deploys, 0o777); // steps run as an unprivileged user
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Dev',
          GIT_AUTHOR_EMAIL: 'dev@example.com',
          GIT_COMMITTER_NAME: 'Dev',
          GIT_COMMITTER_EMAIL: 'dev@example.com',
        },
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'sample service');
    port = await freePort();
    await startServer();
    admin = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    // The second person comes first: once a production environment exists, granting a
    // release role there (or any role bound at a scope reaching it) is itself a change that
    // needs a second person.
    expect(
      cli(['user', 'create', 'rita', '--password-stdin'], 'rita chooses her own password\n').status,
    ).toBe(0);
    expect(
      cli(
        ['apply', '-f', '-'],
        'apiVersion: custody/v1\nkind: RoleBinding\nmetadata: { name: rita-rm }\nspec: { principal: user:rita, role: release-manager, scope: project:sample }\n',
      ).status,
    ).toBe(0);
    const manifest = (manifestText = readFileSync(
      path.join(repoRoot, 'examples', 'pipelines', 'sample-service.yaml'),
      'utf8',
    )
      .replace('file:///tmp/custody-sample-service.git', `file://${repo}`)
      .replace('/tmp/custody-sample-deploys', deploys));
    const setup = readFileSync(
      path.join(repoRoot, 'examples', 'environments', 'sample.yaml'),
      'utf8',
    );
    // People and their roles before production exists; afterwards each is a governed change.
    const people = cli(
      ['apply', '-f', '-'],
      `apiVersion: custody/v1
kind: Group
metadata: { name: sample-release-managers }
spec: { members: [user:rita] }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: dev-develops }
spec: { principal: user:dev, role: developer }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: dev-approves }
spec: { principal: user:dev, role: approver, scope: project:sample }
`,
    );
    expect(people.status, people.stderr).toBe(0);
    const applied = cli(['apply', '-f', '-'], setup);
    expect(applied.status, applied.stderr).toBe(0);
    expect(
      cli(['user', 'create', 'dev', '--password-stdin'], 'dev chooses a password too\n').status,
    ).toBe(0);
    dev = await signIn('dev', 'dev chooses a password too');
    const pipelines = cli(
      ['apply', '-f', '-'],
      pipelineDocs(manifest) + '\n---\n' + slowPipeline(`file://${repo}`),
      dev,
    );
    expect(pipelines.status, pipelines.stderr).toBe(0);
    const token = cli(['runners', 'token', 'e2e', '--pools', 'default', '--output', 'json']);
    expect(token.status, token.stderr).toBe(0);
    runnerToken = (JSON.parse(token.stdout) as { token: string }).token;
    startRunner('runner-a');
  });

  afterAll(async () => {
    for (const r of runners) if (r.exitCode === null && r.signalCode === null) await stop(r);
    if (server && server.exitCode === null && server.signalCode === null) await stop(server);
  });

  it('a governed pipeline cannot run before a second person approves it; its author cannot approve', async () => {
    const refused = cli(['run', 'release', '--project', 'sample']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('EXECUTIONS_VERSION_NOT_APPROVED');
    const pending = JSON.parse(
      cli(['approvals', '--project', 'sample', '--output', 'json']).stdout,
    ) as { id: string; author: string }[];
    expect(pending).toHaveLength(1);
    expect(pending[0]!.author).toBe('user:dev');
    const self = cli(['approve', pending[0]!.id], undefined, dev);
    expect(self.status).toBe(3);
    expect(self.stderr).toContain('APPROVALS_SELF_APPROVAL_FORBIDDEN');
    rita = await signIn('rita', 'rita chooses her own password');
    const approved = cli(['approve', pending[0]!.id, '--comment', 'reviewed'], undefined, rita);
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('approved');
  });

  it('runs the sample pipeline end to end: JUnit evidence, an artifact with its digest, a deploy per environment', async () => {
    // Production needs a second person: rita approves the deployment the run asks for.
    const { id, followed } = await releaseWithApproval();
    expect(followed.status, followed.stderr).toBe(0);
    expect(followed.stdout).toContain('2 passed, 0 failed');
    const run = { id };
    const d = await detail(run.id);
    expect(d.state).toBe('succeeded');
    expect(d.stages.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(d.commit).toBe(
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo }).toString().trim(),
    );
    const artifact = d.files.find((f) => f.kind === 'artifact' && f.name === 'app')!;
    firstDigest = artifact.digest;
    const junit = d.files.find((f) => f.kind === 'evidence' && f.type === 'junit')!;
    expect(junit.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const envName of ['qa', 'prod']) {
      const deployed = readFileSync(path.join(deploys, envName, 'app.tgz'));
      expect(`sha256:${sha256(deployed)}`).toBe(artifact.digest);
      expect(readFileSync(path.join(deploys, envName, 'app', 'greet.sh'), 'utf8')).toContain(
        'hello',
      );
    }
    const logs = cli(['logs', run.id, '--step', 'test']);
    expect(logs.status).toBe(0);
    expect(logs.stdout).toContain('2 passed, 0 failed');
    expect(logs.stdout).not.toContain('built dist/app.tgz');
  });

  it('a failed production deploy rolls back to the previous release (CUSTODY_PREVIOUS_ARTIFACT_APP)', async () => {
    writeFileSync(
      path.join(repo, 'src', 'greet.sh'),
      readFileSync(path.join(repo, 'src', 'greet.sh'), 'utf8') + '# release 2\n',
    );
    execFileSync('git', ['commit', '-q', '-am', 'release 2'], {
      cwd: repo,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Dev',
        GIT_AUTHOR_EMAIL: 'dev@example.com',
        GIT_COMMITTER_NAME: 'Dev',
        GIT_COMMITTER_EMAIL: 'dev@example.com',
      },
    });
    const broken = manifestText.replace(
      './scripts/deploy.sh prod "$CUSTODY_ARTIFACT_APP"',
      './scripts/deploy.sh prod "$CUSTODY_ARTIFACT_APP" && echo "smoke test failed" && false',
    );
    expect(cli(['apply', '-f', '-'], pipelineDocs(broken), dev).status).toBe(0);
    const pending = JSON.parse(
      cli(['approvals', '--project', 'sample', '--output', 'json']).stdout,
    ) as { id: string }[];
    expect(cli(['approve', pending[0]!.id], undefined, rita).status).toBe(0);
    const { id, followed } = await releaseWithApproval();
    expect(followed.status).toBe(1);
    const d = await detail(id);
    expect(d.stages.map((s) => s.state)).toEqual(['succeeded', 'succeeded', 'rolled_back']);
    const newDigest = d.files.find((f) => f.kind === 'artifact')!.digest;
    expect(newDigest).not.toBe(firstDigest);
    // qa runs the new release; prod is back on the previous one.
    expect(`sha256:${sha256(readFileSync(path.join(deploys, 'qa', 'app.tgz')))}`).toBe(newDigest);
    expect(`sha256:${sha256(readFileSync(path.join(deploys, 'prod', 'app.tgz')))}`).toBe(
      firstDigest,
    );
  });

  it('pipeline history and diff show each applied version', async () => {
    const v2 = slowPipeline(`file://${repo}`).replace('sleep 1', 'sleep 2');
    expect(cli(['apply', '-f', '-'], v2).status).toBe(0);
    const history = JSON.parse(
      cli(['pipeline', 'history', 'slow', '--project', 'sample', '--output', 'json']).stdout,
    ) as { version: number }[];
    expect(history.map((h) => h.version).sort()).toEqual([1, 2]);
    const diff = cli(['pipeline', 'diff', 'slow', '1', '2', '--project', 'sample']);
    expect(diff.status).toBe(0);
    expect(diff.stdout).toMatch(/-.*sleep 1/);
    expect(diff.stdout).toMatch(/\+.*sleep 2/);
  });

  it('kill -9 of the server during a run, then a restart: the run completes', async () => {
    const started = cli(['run', 'slow', '--project', 'sample', '--output', 'json']);
    expect(started.status, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    await waitFor('step first running', async () =>
      (await stepState(id, 'first')) === 'running' ? true : undefined,
    );
    server!.kill('SIGKILL');
    await new Promise((r) => server!.once('exit', r));
    await new Promise((r) => setTimeout(r, 1500));
    await startServer();
    const final = await waitFor('run to end', async () => {
      const d = await detail(id);
      return ['succeeded', 'failed', 'cancelled'].includes(d.state) ? d : undefined;
    });
    expect(final.state).toBe('succeeded');
    expect(final.stages[0]!.jobs[0]!.steps.map((s) => s.state)).toEqual(['succeeded', 'succeeded']);
  });

  it('kill -9 of the runner: the job is retried on another runner; nothing stays running', async () => {
    const started = cli(['run', 'slow', '--project', 'sample', '--output', 'json']);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    await waitFor('step first running', async () =>
      (await stepState(id, 'first')) === 'running' ? true : undefined,
    );
    const victim = runners[0]!;
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    startRunner('runner-b');
    const final = await waitFor('run to end', async () => {
      const d = await detail(id);
      return ['succeeded', 'failed', 'cancelled'].includes(d.state) ? d : undefined;
    });
    expect(final.state).toBe('succeeded');
    expect(final.stages[0]!.jobs[0]!.attempt).toBe(2);
    const running = await api<{ items: unknown[] }>('GET', '/api/v1/runs?state=running');
    expect(running.items).toHaveLength(0);
  });

  it('kill -9 of the only runner: the job fails with RUNNER_LOST once nobody takes it; the run ends', async () => {
    const started = cli(['run', 'slow', '--project', 'sample', '--output', 'json']);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    await waitFor('step first running', async () =>
      (await stepState(id, 'first')) === 'running' ? true : undefined,
    );
    const victim = runners[runners.length - 1]!;
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    const final = await waitFor('run to end', async () => {
      const d = await detail(id);
      return ['succeeded', 'failed', 'cancelled'].includes(d.state) ? d : undefined;
    });
    expect(final).toMatchObject({ state: 'failed', reason: 'RUNNER_LOST' });
    expect(final.stages[0]!.jobs[0]!.steps.map((s) => s.state)).not.toContain('running');
  });
});
