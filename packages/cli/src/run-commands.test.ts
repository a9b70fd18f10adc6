import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseManifest, ReleaseFixture } from './testing/release-fixture.ts';

// What a release engineer types every day, through the real binary against an in-process
// server: `run --version N` and `--change`, the CLI's own version, usage errors (exit 2), the
// server's error details, and paged `runs` and `approvals`.

interface RunJson {
  id: string;
  pipelineVersion: number;
  commit: string | null;
  state: string;
  trigger: Record<string, unknown>;
}

describe('custody run, runs and approvals for a release engineer', () => {
  let f: ReleaseFixture;
  const custody = (user: 'admin' | 'alice' | 'bob', ...args: string[]) => f.spawn(user, args).done;

  beforeAll(async () => {
    f = await ReleaseFixture.start();
    // Version 2 adds a step; bob approves it too.
    await f.applyAsSystem(releaseManifest('\n        - { name: lint, run: make lint }'));
    await f.approvePendingVersions();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('run --version N runs that version; the CLI version is custody --version (or -V) only', async () => {
    const one = await custody(
      'alice',
      '-o',
      'json',
      'run',
      'release',
      '-p',
      'shop',
      '--version',
      '1',
    );
    expect(one.status, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as RunJson).pipelineVersion).toBe(1);
    const latest = await custody('alice', 'run', 'release', '-p', 'shop', '-o', 'json');
    expect((JSON.parse(latest.stdout) as RunJson).pipelineVersion).toBe(2);

    for (const flag of ['--version', '-V']) {
      const v = await custody('alice', flag);
      expect(v.status).toBe(0);
      expect(v.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
    // Not a version number: a usage error, and no run is started.
    const before = (await f.api('GET', '/api/v1/runs?limit=1000')).items.length;
    for (const bad of ['three', '0', '1.5']) {
      const r = await custody('alice', 'run', 'release', '-p', 'shop', '--version', bad);
      expect(r.status, `--version ${bad}`).toBe(2);
      expect(r.stderr).toContain('--version takes a whole number');
    }
    expect((await f.api('GET', '/api/v1/runs?limit=1000')).items.length).toBe(before);
  }, 60_000);

  it('bad flag values and commander usage errors exit 2; with -o json the error is JSON', async () => {
    const cases: string[][] = [
      ['runs', '--state', 'bogus'],
      ['approvals', '--state', 'sideways'],
      ['runs', '--limit', 'lots'],
      ['approvals', '--limit', '0'],
      ['run', 'release', '-p', 'shop', '--input', 'novalue'],
      ['run', 'release', '-p', 'shop', '--no-such-flag'],
      ['run', 'release'], // --project missing
      ['status'], // the run missing
      ['change', 'list', '--risk', 'huge'],
      ['runs', '-o', 'yaml'],
    ];
    for (const args of cases) {
      const r = await custody('alice', ...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
    const json = await custody('alice', 'runs', '--state', 'bogus', '-o', 'json');
    expect(json.status).toBe(2);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'CLI_USAGE', message: expect.stringContaining("'bogus' is invalid") },
    });
    // A value only the server's schema refuses is a usage error too, with each issue shown.
    const long = await custody('alice', 'status', `run_${'f'.repeat(80)}`);
    expect(long.status).toBe(2);
    expect(long.stderr).toContain('REQUEST_INVALID');
    // The message names the field already: it is said once.
    expect(long.stderr.split('params.id').length - 1).toBe(1);
    expect(long.stderr).toMatch(/ {2}request id: \S+/);
    // `--state rejected` is a run state.
    const rejected = await custody('alice', 'runs', '--state', 'rejected');
    expect(rejected.status, rejected.stderr).toBe(0);
  }, 90_000);

  it("errors keep the server's details: the approval request to decide, the whole object in JSON", async () => {
    // Version 3 deploys to production and nobody approved it yet.
    await f.applyAsSystem(releaseManifest('\n        - { name: audit, run: make audit }'));
    const r = await custody('alice', 'run', 'release', '-p', 'shop');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: EXECUTIONS_VERSION_NOT_APPROVED: /);
    const approval = /\n {2}approval: (apr_[0-9a-f]+)\n/.exec(r.stderr)?.[1];
    expect(approval, r.stderr).toBeDefined();
    expect(r.stderr).toContain('\n  version: 3\n');
    const j = await custody('alice', '-o', 'json', 'run', 'release', '-p', 'shop');
    expect(j.status).toBe(1);
    expect(j.stdout).toBe('');
    const body = JSON.parse(j.stderr) as {
      error: { code: string; message: string; details: Record<string, unknown>; requestId: string };
    };
    expect(body.error).toMatchObject({
      code: 'EXECUTIONS_VERSION_NOT_APPROVED',
      details: { approval, version: 3 },
    });
    expect(body.error.requestId).toEqual(expect.any(String));
    await f.approvePendingVersions();
  }, 60_000);

  it('run --change sends the change; an emergency change pins the run to its commit', async () => {
    const commit = 'abc1234def5678abc1234def5678abc1234def56';
    const change = await f.api(
      'POST',
      '/api/v1/changes',
      {
        project: 'shop',
        environment: 'production',
        riskClass: 'emergency',
        title: 'hotfix',
        reason: 'payments are down',
        commit,
      },
      f.tokens.alice,
    );
    const pinned = await custody(
      'alice',
      '-o',
      'json',
      'run',
      'release',
      '-p',
      'shop',
      '--change',
      change.id,
    );
    expect(pinned.status, pinned.stderr).toBe(0);
    const run = JSON.parse(pinned.stdout) as RunJson;
    expect(run.commit).toBe(commit);
    expect(run.trigger.change).toBe(change.id);
    expect(pinned.stderr).toContain(`pinned to that commit`);
    // Another --commit wins, with a warning that the change will not cover it.
    const other = await custody(
      'alice',
      '-o',
      'json',
      'run',
      'release',
      '-p',
      'shop',
      '--change',
      change.id,
      '--commit',
      'fedcba9876543210',
    );
    expect(other.status, other.stderr).toBe(0);
    expect((JSON.parse(other.stdout) as RunJson).commit).toBe('fedcba9876543210');
    expect(other.stderr).toContain('the gate will not let it cover this run');
    // A change that does not exist stops before a run starts.
    const missing = await custody('alice', 'run', 'release', '-p', 'shop', '--change', 'chg_nope');
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('CHANGES_NOT_FOUND');
  }, 60_000);

  it('runs and approvals take --limit and --all; approvals merge resource and deployment requests', async () => {
    const all = (await f.api('GET', '/api/v1/runs?limit=1000')).items as { id: string }[];
    expect(all.length).toBeGreaterThanOrEqual(4);
    const page = await custody('bob', '-o', 'json', 'runs', '--limit', '2');
    expect(page.status, page.stderr).toBe(0);
    expect((JSON.parse(page.stdout) as RunJson[]).map((r) => r.id)).toEqual(
      all.slice(0, 2).map((r) => r.id),
    );
    expect(page.stderr).toContain('more runs exist: add --all');
    const every = await custody('bob', '-o', 'json', 'runs', '--all', '--limit', '1');
    expect((JSON.parse(every.stdout) as RunJson[]).map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect(every.stderr).toBe('');

    // One resource-version request waiting (version 4) and deployment requests of the runs.
    await f.applyAsSystem(releaseManifest('\n        - { name: docs, run: make docs }'));
    const job = await f.playNext('build', () => 'ok\n');
    await f.tick();
    const dap = (await f.gate(job.runId, 'deploy')).approval!.id;
    const both = await custody('bob', '-o', 'json', 'approvals', '--all');
    expect(both.status, both.stderr).toBe(0);
    const ids = (JSON.parse(both.stdout) as { id: string }[]).map((a) => a.id);
    expect(ids.some((id) => id.startsWith('apr_'))).toBe(true);
    expect(ids).toContain(dap);
    const one = await custody('bob', '-o', 'json', 'approvals', '--limit', '1');
    expect(JSON.parse(one.stdout)).toHaveLength(1);
    expect(one.stderr).toContain('more approval requests exist');
    const mine = await custody('bob', '-o', 'json', 'approvals', '--mine', '--all');
    expect((JSON.parse(mine.stdout) as { id: string }[]).map((a) => a.id)).toEqual([dap]);
  }, 90_000);
});
