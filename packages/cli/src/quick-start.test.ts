import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custody, startCustody, stop } from './testing/cli-process.ts';

// The quick start as a new user runs it: `custody up`, then CLI commands against it.
describe('custody up and the CLI', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'custody-home-'));
  const dataDir = path.join(home, 'data');
  const env = { HOME: home, CUSTODY_SERVER: '', CUSTODY_TOKEN: '', XDG_CONFIG_HOME: '' };
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const started = await startCustody(
      ['up', '--data-dir', dataDir, '--port', '0', '--no-runner'],
      /Custody is running at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    child = started.child;
    url = started.match[1]!;
  });
  afterAll(async () => {
    if (child) await stop(child);
  });

  it('serves /healthz and writes the bootstrap admin token with mode 0600', async () => {
    const res = await fetch(`${url}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
    const tokenFile = path.join(dataDir, 'admin.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(tokenFile, 'utf8').trim()).toMatch(/^cst_/);
  });

  it('configures the CLI: whoami works with no flags, and with the token file', () => {
    const plain = custody(['whoami', '--output', 'json'], { env });
    expect(plain.status, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ name: 'admin', kind: 'user' });
    const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
    const explicit = custody(['whoami', '--server', url, '--token', token], {
      env: { HOME: mkdtempSync(path.join(tmpdir(), 'custody-empty-')) },
    });
    expect(explicit.status, explicit.stderr).toBe(0);
    expect(explicit.stdout).toContain('user:admin');
  });

  it('creates users, service accounts and tokens; exit codes follow the documentation', () => {
    expect(
      custody(['user', 'create', 'bob', '--email', 'bob@example.com', '--password-stdin'], {
        env,
        input: 'a long enough password\n',
      }).status,
    ).toBe(0);
    expect(custody(['serviceaccount', 'create', 'ci'], { env }).status).toBe(0);
    const tokenText = custody(['token', 'create', '--user', 'bob', '--ttl', '1d'], { env });
    expect(tokenText.status, tokenText.stderr).toBe(0);
    expect(tokenText.stdout.trim()).toMatch(/^cst_[A-Za-z0-9_-]+$/);
    const tokenJson = custody(
      ['token', 'create', '--serviceaccount', 'ci', '--ttl', '1d', '--output', 'json'],
      { env },
    );
    const created = JSON.parse(tokenJson.stdout) as { id: string; token: string };
    expect(created.token).toMatch(/^cst_/);
    const list = custody(['token', 'list', '--all', '--output', 'json'], { env });
    expect(list.stdout).not.toContain(created.token);
    expect(JSON.parse(list.stdout).map((t: { id: string }) => t.id)).toContain(created.id);

    // bob has no role: permission denied is exit code 3.
    const bobToken = tokenText.stdout.trim();
    const denied = custody(['user', 'list', '--token', bobToken], { env });
    expect(denied.status).toBe(3);
    expect(denied.stderr).toContain('AUTHZ_PERMISSION_DENIED');
    // Usage errors are exit code 2.
    expect(custody(['token', 'create', '--user', 'bob'], { env }).status).toBe(2);
    expect(custody(['no-such-command'], { env }).status).toBe(2);
    // Other failures are exit code 1.
    expect(custody(['token', 'revoke', 'tok_doesnotexist'], { env }).status).toBe(1);

    expect(custody(['token', 'revoke', created.id], { env }).status).toBe(0);
    expect(custody(['whoami', '--token', created.token], { env }).status).toBe(1);
  });

  it('login with a password saves a session', () => {
    const otherHome = mkdtempSync(path.join(tmpdir(), 'custody-login-'));
    const login = custody(['login', '--server', url, '--user', 'bob', '--password-stdin'], {
      env: { HOME: otherHome },
      input: 'a long enough password\n',
    });
    expect(login.status, login.stderr).toBe(0);
    const me = custody(['whoami', '--output', 'json'], { env: { HOME: otherHome } });
    expect(JSON.parse(me.stdout)).toMatchObject({ name: 'bob', authMethod: 'session' });
  });

  it('applies resources from a file and reads them back with get, history and diff', () => {
    const file = path.join(home, 'resources.yaml');
    const write = (desc: string, required = 1) =>
      writeFileSync(
        file,
        `apiVersion: custody/v1
kind: Project
metadata:
  name: payments
spec:
  description: ${desc}
---
apiVersion: custody/v1
kind: Environment
metadata:
  name: prod
  project: payments
spec:
  type: production
  approvals:
    rules:
      - name: release-managers
        group: release-managers
        required: ${required}
---
apiVersion: custody/v1
kind: Group
metadata:
  name: release-managers
spec:
  members: [user:bob]
---
apiVersion: custody/v1
kind: RoleBinding
metadata:
  name: bob-releases
spec:
  principal: group:release-managers
  role: release-manager
  scope: project:payments/environment:prod
`,
      );
    write('Card payments');
    const applied = custody(['apply', '-f', file, '--output', 'json'], { env });
    expect(applied.status, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).map((r: { change: string }) => r.change)).toEqual([
      'created',
      'created',
      'created',
      'created',
    ]);
    write('Card payments service');
    const again = custody(['apply', '-f', file], { env });
    expect(again.stdout).toContain('project/payments updated (version 2)');
    expect(again.stdout).toContain('environment/payments/prod unchanged (version 1)');
    // A production environment's new rules wait for a second person.
    write('Card payments service', 2);
    const stricter = custody(['apply', '-f', file], { env });
    expect(stricter.stdout).toMatch(
      /environment\/payments\/prod updated \(version 2, in force once someone else runs `custody approve apr_[0-9a-f]+`\)/,
    );
    const got = custody(['get', 'environment', 'prod', '--project', 'payments'], { env });
    expect(got.stdout).toContain('type: production');
    const hist = custody(['history', 'project', 'payments', '--output', 'json'], { env });
    expect(JSON.parse(hist.stdout)).toHaveLength(2);
    const diff = custody(['diff', 'project', 'payments', '1', '2'], { env });
    expect(diff.stdout).toContain('-  description: Card payments');
    expect(diff.stdout).toContain('+  description: Card payments service');
    const bad = custody(['apply', '-f', '-'], {
      env,
      input: 'apiVersion: custody/v1\nkind: Project\nmetadata:\n  name: Bad_Name\n',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('RESOURCES_VALIDATION_FAILED');
    expect(bad.stderr).toContain('line 4');
  });
});
