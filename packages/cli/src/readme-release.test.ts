import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custody, repoRoot, startCustody, stop } from './testing/cli-process.ts';

// The README's "Try a release", command by command, as a new user runs it against a fresh
// `custody up`: the examples as written, two people, and a release to production.
describe('the README release walk-through', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'custody-readme-'));
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    CUSTODY_SERVER: '',
    CUSTODY_TOKEN: '',
  };
  let up: ChildProcess | undefined;
  // The CLI is configured by `custody up` and by each `custody login`, as the README has it.
  const cli = (args: string[], input?: string) => {
    const r = custody(args, { env, ...(input !== undefined ? { input } : {}) });
    expect(r.status, `custody ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const json = <T>(args: string[]) => JSON.parse(cli([...args, '--output', 'json'])) as T;
  const login = (user: string) =>
    cli(['login', '--user', user, '--password-stdin'], `${user} has a long passphrase\n`);

  beforeAll(async () => {
    execFileSync(path.join(repoRoot, 'examples', 'sample-service', 'publish.sh'));
    const started = await startCustody(
      ['up', '--data-dir', path.join(home, 'data'), '--port', '0'],
      /Custody is running at (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    up = started.child;
  });
  afterAll(async () => {
    if (up) await stop(up);
  });

  it('two people release the sample service to production', async () => {
    for (const user of ['dev', 'bob'])
      cli(['user', 'create', user, '--password-stdin'], `${user} has a long passphrase\n`);
    cli(['apply', '-f', 'examples/people.yaml']);
    cli(['apply', '-f', 'examples/environments/sample.yaml']);

    login('dev');
    const applied = cli(['apply', '-f', 'examples/pipelines/sample-service.yaml']);
    expect(applied).toContain('custody approve apr_');

    login('bob');
    const versions = json<{ id: string; state: string }[]>(['approvals']);
    expect(versions).toHaveLength(1);
    cli(['approve', versions[0]!.id]);

    login('dev');
    const run = json<{ id: string }>(['run', 'release', '-p', 'sample']);
    let waiting: { id: string } | undefined;
    for (let i = 0; i < 400 && !waiting; i++) {
      const status = json<{ stages: { name: string; state: string }[] }>(['status', run.id]);
      if (status.stages.find((s) => s.name === 'deploy-prod')?.state === 'waiting_for_approval')
        waiting = run;
      else await new Promise((r) => setTimeout(r, 300));
    }
    expect(waiting, 'the production stage waits for a second person').toBeDefined();
    const status = cli(['status', run.id]);
    expect(status).toContain('custody approve dap_');

    login('bob');
    const mine = json<{ id: string; summary: string }[]>(['approvals', '--mine']);
    expect(mine).toHaveLength(1);
    cli(['approve', mine[0]!.id]);
    const logs = cli(['logs', run.id, '--follow']);
    expect(logs).toContain('2 passed, 0 failed');
    expect(logs).toMatch(/deployed [0-9a-f]{64} to prod/);
    const admin = readFileSync(path.join(home, 'data', 'admin.token'), 'utf8').trim();
    cli(['login', '--with-token', '--token', admin]);
    cli(['audit', 'verify']);
    // About twenty CLI processes, each starting Node and tsx (2–3 s apiece on two cores).
  }, 180_000);
});
