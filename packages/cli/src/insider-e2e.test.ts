import { execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custody, startCustody, stop } from './testing/cli-process.ts';

// "Can one person push a change to production alone?" With real processes — `custody up` and
// its sandboxed local runner, a real git repository, the `custody` command — five people try,
// each their own way, and none gets a release into production; every attempt is in the ledger.
// Then two people do it properly, to show that the path exists.

const password = (name: string) => `${name} has a long passphrase`;

const pipeline = (repo: string, deploys: string, note: string) => `apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: pay }
spec:
  source: { repository: 'file://${repo}', branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - name: package
          run: mkdir -p dist && git rev-parse HEAD > dist/app && cat app.txt >> dist/app
          artifacts: [{ name: app, path: dist/app }]
    - name: deploy-qa
      type: deploy
      environment: qa
      steps: [{ name: deploy, run: 'cp "$CUSTODY_ARTIFACT_APP" ${deploys}/qa' }]
    - name: deploy-prod
      type: deploy
      environment: prod
      needs: [deploy-qa]
      steps:
        - name: deploy
          run: 'cp "$CUSTODY_ARTIFACT_APP" ${deploys}/prod && echo "${note}"'
`;

describe('five people try to ship to production alone (custody up, git, the CLI)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-insiders-'));
  const repo = path.join(dir, 'repo');
  const deploys = path.join(dir, 'deploys');
  const dataDir = path.join(dir, 'data');
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: path.join(dir, '.config'),
    CUSTODY_SERVER: '',
    CUSTODY_TOKEN: '',
  };
  let up: ChildProcess | undefined;
  let url = '';
  let admin = '';
  const tok: Record<string, string> = {};

  const cli = (who: string, args: string[], input?: string) =>
    custody(['--server', url, '--token', who === 'admin' ? admin : tok[who]!, ...args], {
      env,
      ...(input !== undefined ? { input } : {}),
    });
  const api = async <T>(method: string, p: string, body?: unknown, token = admin) => {
    const res = await fetch(url + p, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const until = Date.now() + 120_000;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const commitAs = (name: string, email: string, text: string) => {
    writeFileSync(path.join(repo, 'app.txt'), text);
    const id = { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email };
    execFileSync('git', ['commit', '-q', '-am', text], {
      cwd: repo,
      env: { ...process.env, ...id, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email },
    });
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo }).toString().trim();
  };
  // Starts a run as `who`, waits until its production stage waits on the gate.
  const runToProd = async (who: string, extra: string[] = []) => {
    const started = cli(who, ['run', 'release', '-p', 'pay', '-o', 'json', ...extra]);
    expect(started.status, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout) as { id: string }).id;
    const prod = await waitFor(`run ${id} to reach production`, async () => {
      const gate = await api<{
        stages: {
          stage: string;
          state: string;
          approval: { id: string } | null;
          decision: { reasons: { code: string; blocking: boolean }[] } | null;
        }[];
      }>('GET', `/api/v1/runs/${id}/gate`);
      const g = gate.body.stages.find((s) => s.stage === 'deploy-prod');
      return g && ['waiting_for_approval', 'blocked', 'blocked_by_freeze'].includes(g.state)
        ? g
        : undefined;
    });
    return { id, prod };
  };
  const prodRelease = () =>
    existsSync(path.join(deploys, 'prod')) ? readFileSync(path.join(deploys, 'prod'), 'utf8') : '';
  const denials = async (actor: string) =>
    (
      await api<{
        entries: { action: string; outcome: string; details: Record<string, unknown> }[];
      }>('GET', `/api/v1/audit/entries?actor=${actor}&outcome=denied&limit=100`)
    ).body.entries;

  beforeAll(async () => {
    mkdirSync(repo);
    mkdirSync(deploys, { mode: 0o777 });
    chmodSync(deploys, 0o777); // steps run as an unprivileged user
    writeFileSync(path.join(repo, 'app.txt'), 'v0');
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    execFileSync('git', ['add', '.'], { cwd: repo });
    execFileSync('git', ['commit', '-q', '-m', 'v0'], {
      cwd: repo,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Alice',
        GIT_AUTHOR_EMAIL: 'alice@corp.example',
        GIT_COMMITTER_NAME: 'Alice',
        GIT_COMMITTER_EMAIL: 'alice@corp.example',
      },
    });
    const started = await startCustody(
      ['up', '--data-dir', dataDir, '--port', '0', '--runner-writable-dir', deploys],
      /Custody is running at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    up = started.child;
    url = started.match[1]!;
    admin = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    // People, and what they may do, before production exists (afterwards, changes to them
    // need a second person too).
    for (const name of ['alice', 'tom', 'pat', 'carol', 'rita', 'sam', 'dave'])
      expect(
        cli('admin', ['user', 'create', name, '--password-stdin'], `${password(name)}\n`).status,
      ).toBe(0);
    const bind = (name: string, role: string) => `apiVersion: custody/v1
kind: RoleBinding
metadata: { name: ${name}-${role} }
spec: { principal: user:${name}, role: ${role}, scope: project:pay }
---
`;
    const people = cli(
      'admin',
      ['apply', '-f', '-'],
      `apiVersion: custody/v1
kind: Group
metadata: { name: release-managers }
spec: { members: [user:alice, user:rita, user:sam, user:dave] }
---
${['alice', 'tom', 'pat', 'carol'].map((n) => bind(n, 'developer')).join('')}${[
        'alice',
        'rita',
        'sam',
        'dave',
        'pat',
      ]
        .map((n) => bind(n, 'release-manager'))
        .join('')}apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec:
  type: production
  promotion: { requires: [qa] }
  approvals:
    rules: [{ name: release-managers, group: release-managers, required: 1 }]
`,
    );
    expect(people.status, people.stderr).toBe(0);
    // alice's commits carry her corporate e-mail: the administrator links it to her.
    expect(
      cli('admin', ['user', 'identity', 'add', 'alice', 'email:alice@corp.example']).status,
    ).toBe(0);
    // Everyone signs in themselves (a token the administrator makes for them is impersonation).
    for (const name of ['alice', 'tom', 'pat', 'carol', 'rita', 'sam', 'dave']) {
      const res = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, password: password(name) }),
      });
      expect(res.status).toBe(200);
      tok[name] = ((await res.json()) as { token: string }).token;
    }
    // pat, the platform engineer, writes the pipeline; sam (a second person) approves it.
    expect(cli('pat', ['apply', '-f', '-'], pipeline(repo, deploys, 'v1 pipeline')).status).toBe(0);
    const pending = JSON.parse(cli('sam', ['approvals', '-p', 'pay', '-o', 'json']).stdout) as {
      id: string;
    }[];
    expect(pending).toHaveLength(1);
    const ok = cli('sam', ['approve', pending[0]!.id]);
    expect(ok.status, ok.stderr).toBe(0);
  });

  afterAll(async () => {
    if (up) await stop(up);
  });

  it('1. the author of the change cannot approve its deployment', async () => {
    const sha = commitAs('Alice', 'alice@corp.example', 'v1 by alice');
    const { id, prod } = await runToProd('tom');
    expect(prod.state).toBe('waiting_for_approval');
    const refused = cli('alice', ['approve', prod.approval!.id]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('APPROVALS_SELF_APPROVAL_FORBIDDEN');
    expect(refused.stderr).toContain(`authored commit ${sha.slice(0, 12)}`);
    expect(prodRelease()).toBe('');
    expect((await denials('alice')).map((e) => e.action)).toContain('deployments.approval.approve');
    expect(cli('tom', ['cancel', id]).status).toBe(0);
  });

  it('2. the triggerer cannot approve their own run', async () => {
    const { id, prod } = await runToProd('sam');
    const refused = cli('sam', ['approve', prod.approval!.id]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('triggered the run');
    expect(prodRelease()).toBe('');
    expect((await denials('sam')).map((e) => e.action)).toContain('deployments.approval.approve');
    expect(cli('sam', ['cancel', id]).status).toBe(0);
  });

  it('3. an administrator cannot approve through a token made for a colleague', async () => {
    const { id, prod } = await runToProd('admin');
    const forRita = JSON.parse(
      cli('admin', ['token', 'create', '--user', 'rita', '--ttl', '1h', '-o', 'json']).stdout,
    ) as { token: string };
    const asRita = custody(
      ['--server', url, '--token', forRita.token, 'approve', prod.approval!.id],
      {
        env,
      },
    );
    expect(asRita.status).toBe(3);
    expect(asRita.stderr).toContain('AUTH_DELEGATED_TOKEN_FORBIDDEN');
    const self = cli('admin', ['approve', prod.approval!.id]);
    expect(self.status).toBe(3);
    expect(prodRelease()).toBe('');
    const denied = await denials('rita');
    expect(
      denied.find((e) => e.action === 'deployments.approval.approve')?.details.delegatedBy,
    ).toBe('user:admin');
    expect(cli('admin', ['cancel', id]).status).toBe(0);
  });

  it("4. an emergency change serves only its requester's runs of its commit", async () => {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo }).toString().trim();
    const requested = cli('dave', [
      'change',
      'create',
      'pay/prod',
      '--risk',
      'emergency',
      '--title',
      'card outage',
      '--reason',
      'INC-1: declines',
      '--commit',
      sha,
      '-o',
      'json',
    ]);
    expect(requested.status, requested.stderr).toBe(0);
    const change = (JSON.parse(requested.stdout) as { id: string }).id;
    expect(cli('rita', ['change', 'activate', change]).status).toBe(0);
    // carol uses dave's break-glass for a run of her own.
    const started = await api<{ id: string }>(
      'POST',
      '/api/v1/projects/pay/pipelines/release/runs',
      { change, commit: sha },
      tok.carol,
    );
    expect(started.status).toBe(201);
    const prod = await waitFor('carol run at production', async () => {
      const gate = await api<{
        stages: {
          stage: string;
          state: string;
          decision: { reasons: { code: string; blocking: boolean }[] } | null;
        }[];
      }>('GET', `/api/v1/runs/${started.body.id}/gate`);
      const g = gate.body.stages.find((s) => s.stage === 'deploy-prod');
      return g && g.state !== 'pending' && g.state !== 'running' ? g : undefined;
    });
    const codes = prod.decision!.reasons.filter((r) => r.blocking).map((r) => r.code);
    expect(codes).toContain('CHANGES_NOT_REQUESTER');
    expect(codes).toContain('APPROVAL_REQUIRED');
    expect(prodRelease()).toBe('');
    // The gate's refusal is in the ledger, naming the stage and the reason.
    const blocked = await api<{ entries: { details: { reasons: { code: string }[] } }[] }>(
      'GET',
      `/api/v1/audit/entries?action=deployments.gate.blocked&resourceId=${started.body.id}/deploy-prod&limit=10`,
    );
    expect(
      blocked.body.entries.some((e) =>
        e.details.reasons.some((r) => r.code === 'CHANGES_NOT_REQUESTER'),
      ),
    ).toBe(true);
    expect(cli('carol', ['cancel', started.body.id]).status).toBe(0);
  });

  it('5. the pipeline author who edits the deploy stage cannot put it in force or ship with it', async () => {
    const edited = cli(
      'pat',
      ['apply', '-f', '-'],
      pipeline(repo, deploys, 'v2: the deploy step changed'),
    );
    expect(edited.status, edited.stderr).toBe(0);
    const pending = JSON.parse(cli('pat', ['approvals', '-p', 'pay', '-o', 'json']).stdout) as {
      id: string;
      author: string;
    }[];
    const v2 = pending.find((a) => a.author === 'user:pat')!;
    const self = cli('pat', ['approve', v2.id]);
    expect(self.status).toBe(3);
    expect(self.stderr).toContain('APPROVALS_SELF_APPROVAL_FORBIDDEN');
    const run = cli('pat', ['run', 'release', '-p', 'pay']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('EXECUTIONS_VERSION_NOT_APPROVED');
    expect(prodRelease()).toBe('');
    expect((await denials('pat')).map((e) => e.action)).toEqual(
      expect.arrayContaining(['approvals.request.approve', 'executions.run.create']),
    );
  });

  it('two people do it properly: a developer starts it, another approves, it ships', async () => {
    const pending = JSON.parse(cli('sam', ['approvals', '-p', 'pay', '-o', 'json']).stdout) as {
      id: string;
    }[];
    for (const a of pending) expect(cli('sam', ['approve', a.id]).status).toBe(0);
    const { id, prod } = await runToProd('tom');
    expect(cli('rita', ['approve', prod.approval!.id]).status).toBe(0);
    const followed = cli('tom', ['logs', id, '--follow']);
    expect(followed.status, followed.stderr).toBe(0);
    expect(prodRelease()).toContain('v1 by alice');
    // The ledger verifies.
    const verified = cli('admin', ['audit', 'verify']);
    expect(verified.status, verified.stderr + verified.stdout).toBe(0);
  });
});
