import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custody, startCustody, stop } from './testing/cli-process.ts';

// `custody up` starts one local runner serving every pool, or only --runner-pools.
describe('custody up starts a local runner', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-up-runner-'));
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    CUSTODY_SERVER: '',
    CUSTODY_TOKEN: '',
  };
  const repo = path.join(dir, 'repo');
  let child: ChildProcess;
  let url = '';
  let token = '';
  const cli = (args: string[], input?: string) =>
    custody(['--server', url, '--token', token, ...args], {
      env,
      ...(input !== undefined ? { input } : {}),
    });

  beforeAll(async () => {
    mkdirSync(repo);
    writeFileSync(path.join(repo, 'hello.sh'), 'echo "hello from $CUSTODY_STAGE"\n');
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
      ['up', '--data-dir', path.join(dir, 'data'), '--port', '0'],
      /Custody is running at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    child = started.child;
    url = started.match[1]!;
    token = readFileSync(path.join(dir, 'data', 'admin.token'), 'utf8').trim();
  });
  afterAll(async () => {
    if (child) await stop(child);
  });

  it('runs jobs of any pool with the local runner', () => {
    const manifest = `apiVersion: custody/v1
kind: Project
metadata: { name: local }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: hello, project: local }
spec:
  source: { repository: 'file://${repo}', branch: main }
  stages:
    - name: greet
      type: ci
      runnerPool: special
      steps: [ { name: hello, run: bash hello.sh } ]
`;
    expect(cli(['apply', '-f', '-'], manifest).status).toBe(0);
    const result = cli(['run', 'hello', '--project', 'local', '--follow']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('hello from greet');
    const set = cli(['secret', 'set', 'API_KEY', '-p', 'local'], 'v3ry-s3cret-value\n');
    expect(set.status, set.stderr).toBe(0);
    const listed = cli(['secret', 'list', '-p', 'local']);
    expect(listed.stdout).toContain('API_KEY');
    expect(listed.stdout + set.stdout).not.toContain('v3ry-s3cret-value');
    const runners = JSON.parse(cli(['runners', 'list', '--output', 'json']).stdout) as {
      name: string;
      pools: string[];
    }[];
    expect(runners).toEqual([expect.objectContaining({ name: 'local', pools: ['*'] })]);
  });

  it('custody run --follow exits 1 when the run fails', () => {
    const failing = `apiVersion: custody/v1
kind: Pipeline
metadata: { name: broken, project: local }
spec:
  source: { repository: 'file://${repo}', branch: main }
  stages:
    - name: greet
      type: ci
      steps: [ { name: fail, run: 'echo about to fail; exit 7' } ]
`;
    expect(cli(['apply', '-f', '-'], failing).status).toBe(0);
    const result = cli(['run', 'broken', '--project', 'local', '--follow']);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('about to fail');
    expect(result.stderr).toContain('EXIT_7');
  });

  it('the runner retries a step and enforces its timeout (exit 124, STEP_TIMEOUT)', async () => {
    const manifest = `apiVersion: custody/v1
kind: Pipeline
metadata: { name: patience, project: local }
spec:
  source: { repository: 'file://${repo}', branch: main }
  stages:
    - name: work
      type: ci
      steps:
        - name: flaky
          retries: 2
          run: 'n=$(cat .attempts 2>/dev/null || echo 0); n=$((n+1)); echo $n > .attempts; echo attempt $n; [ $n -ge 3 ]'
        - name: slow
          timeout: 1s
          run: 'echo sleeping; sleep 20'
`;
    expect(cli(['apply', '-f', '-'], manifest).status).toBe(0);
    const started = Date.now();
    const result = cli(['run', 'patience', '--project', 'local', '--follow', '--output', 'json']);
    expect(result.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    const id = (JSON.parse(result.stdout) as { id: string }).id;
    const detail = JSON.parse(cli(['status', id, '--output', 'json']).stdout) as {
      reason: string;
      stages: {
        jobs: {
          steps: {
            name: string;
            state: string;
            attempts: number;
            exitCode: number;
            reason: string | null;
          }[];
        }[];
      }[];
    };
    const [flaky, slow] = detail.stages[0]!.jobs[0]!.steps;
    expect(flaky).toMatchObject({ state: 'succeeded', attempts: 3, exitCode: 0 });
    expect(slow).toMatchObject({ state: 'failed', exitCode: 124, reason: 'STEP_TIMEOUT' });
    expect(detail.reason).toBe('STEP_TIMEOUT');
    expect(cli(['logs', id, '--step', 'flaky']).stdout).toContain('attempt 3');
  });

  it('restarts leave exactly one live local-runner token, and the restarted runner works', async () => {
    const liveLocal = async () => {
      const res = await fetch(`${url}/api/v1/tokens?all=true`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { items } = (await res.json()) as {
        items: { principal: { name: string }; revokedAt: string | null; expiresAt: string }[];
      };
      return items.filter(
        (t) =>
          t.principal.name === 'runner-local' &&
          t.revokedAt === null &&
          new Date(t.expiresAt) > new Date(),
      ).length;
    };
    expect(await liveLocal()).toBe(1);
    for (let restart = 0; restart < 2; restart++) {
      await stop(child);
      const started = await startCustody(
        ['up', '--data-dir', path.join(dir, 'data'), '--port', '0'],
        /Custody is running at (http:\/\/127\.0\.0\.1:\d+)/,
        env,
      );
      child = started.child;
      url = started.match[1]!;
      expect(await liveLocal()).toBe(1);
    }
    // And one local runner, not one per start.
    const runners = (await (
      await fetch(`${url}/api/v1/runners?limit=200`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { items: { name: string }[] };
    expect(runners.items.filter((r) => r.name === 'local')).toHaveLength(1);
    const result = cli(['run', 'hello', '--project', 'local', '--follow']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('hello from greet');
  });
});
