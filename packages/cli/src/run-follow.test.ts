import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseFixture } from './testing/release-fixture.ts';

// `custody run --follow`, `custody watch`, `custody logs --follow` and `custody status`: the
// real binary against an in-process server, while the test plays the runner and the approver.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (text: string, what: string) => text.split(what).length - 1;
const iso = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';

describe('custody run --follow tells the story of a run', () => {
  let f: ReleaseFixture;
  beforeAll(async () => {
    f = await ReleaseFixture.start();
  });
  afterAll(async () => {
    await f?.close();
  });

  const output = (step: string) => `${step}: line 1\n${step}: line 2\n`;

  it('prints transitions with times, why the deploy waits (once), step headers and the result', async () => {
    const cli = f.spawn('alice', ['run', 'release', '-p', 'shop', '--follow']);
    const runId = (await cli.waitFor(/run (run_[0-9a-f]+): shop\/release version 1/))[1]!;
    await cli.waitFor(/build: job queued for pool default/);
    const job = (await f.lease())!;
    await cli.waitFor(/build: job taken by runner/);
    for (const [i, s] of job.steps.entries()) await f.step(job, i, output(s.name));
    await f.complete(job);
    await f.tick();
    const waiting = await cli.waitFor(/to unblock: (custody approve (dap_[0-9a-f]+)[^\n]*)/);
    // Several polls while nothing changes: the reasons are told once, not on every poll.
    await sleep(3000);
    await f.tick();
    await sleep(1500);
    expect(count(cli.stdout, 'APPROVAL_REQUIRED')).toBe(1);
    expect(count(cli.stdout, 'to unblock:')).toBe(1);

    const status = f.spawn('bob', ['status', runId]);
    const shown = await status.done;
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/deploy → production: waiting_for_approval/);
    expect(shown.stdout).toContain('APPROVAL_REQUIRED');
    expect(shown.stdout).toContain(`to unblock: ${waiting[1]}`);
    expect(shown.stdout).toContain(`approval ${waiting[2]}: pending`);
    expect(shown.stdout).toMatch(/waiting since \S+; fails with GATE_WAIT_EXPIRED at \S+/);

    // The approver sees what the request was for: a hint can be imitated by a log line.
    const approved = await f.spawn('bob', ['approve', waiting[2]!]).done;
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(
      new RegExp(
        `^${waiting[2]} approved: deploy run ${runId} \\(deploy\\) to shop/production, intent sha256:[0-9a-f]{64}\n$`,
      ),
    );
    await f.tick();
    await cli.waitFor(/deploy → production: running/);
    await f.playNext('deploy', () => 'shipped\n');
    await f.tick();
    const r = await cli.done;
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const at = (re: RegExp) => {
      const i = lines.findIndex((l) => re.test(l));
      expect(i, `no line matches ${re}:\n${r.stdout}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // Each transition with its time, in the order it happened.
    const order = [
      at(
        new RegExp(
          `^${iso} run ${runId}: shop/release version 1, the head of main, triggered by user:alice`,
        ),
      ),
      at(new RegExp(`^${iso} build: running$`)),
      at(new RegExp(`^${iso} build: job queued for pool default$`)),
      at(new RegExp(`^${iso} build: job taken by runner `)),
      at(/^==> build \/ compile$/),
      at(/^compile: line 2$/),
      at(/^==> build \/ test$/),
      at(new RegExp(`^${iso} build / test: succeeded \\(exit 0\\)$`)),
      at(new RegExp(`^${iso} build: succeeded$`)),
      at(
        new RegExp(
          `^${iso} deploy → production: waiting_for_approval \\(fails with GATE_WAIT_EXPIRED at ${iso} unless unblocked\\)$`,
        ),
      ),
      at(/^ {4}APPROVAL_REQUIRED: /),
      at(/^ {6}to unblock: custody approve dap_/),
      at(new RegExp(`^${iso} deploy → production: running$`)),
      at(/^ {4}APPROVALS_MET: /),
      at(/^==> deploy \/ ship$/),
      at(new RegExp(`^${iso} deploy → production: succeeded$`)),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The final line names the result.
    expect(lines.filter(Boolean).at(-1)).toMatch(
      new RegExp(`^${iso} run ${runId} succeeded in \\d+`),
    );
  }, 90_000);

  it('exits 1 on a rejected deployment, names it, and keeps --output json clean on stdout', async () => {
    const cli = f.spawn('alice', ['run', 'release', '-p', 'shop', '--follow', '--output', 'json']);
    const runId = (await cli.waitFor(/run (run_[0-9a-f]+): /))[1]!;
    const watcher = f.spawn('bob', ['watch', runId]);
    await watcher.waitFor(/run run_[0-9a-f]+: shop\/release/);
    await f.playNext('build', output);
    await f.tick();
    const dap = (await cli.waitFor(/custody approve (dap_[0-9a-f]+)/))[1]!;
    await watcher.waitFor(/to unblock: custody approve dap_/);
    await f.api(
      'POST',
      `/api/v1/deployments/approvals/${dap}/reject`,
      { reason: 'not during the audit' },
      f.tokens.bob,
    );
    await f.tick();
    const r = await cli.done;
    expect(r.status).toBe(1);
    // Standard output is one JSON document: the final run.
    const final = JSON.parse(r.stdout) as { id: string; state: string };
    expect(final).toMatchObject({ id: runId, state: 'rejected' });
    // The story went to standard error, ending with the refusal and why.
    expect(r.stderr).toMatch(/deploy → production: rejected/);
    expect(r.stderr).toContain('APPROVAL_REJECTED');
    expect(r.stderr).toMatch(new RegExp(`run ${runId} rejected`));
    expect(r.stderr).toContain('==> build / compile');

    const watched = await watcher.done;
    expect(watched.status).toBe(1);
    expect(watched.stdout).toMatch(/deploy → production: rejected/);
    expect(watched.stdout.split('\n').filter(Boolean).at(-1)).toMatch(
      new RegExp(`run ${runId} rejected`),
    );
    expect(watched.stderr).toContain(`error: run ${runId} rejected`);
  }, 90_000);

  it('custody logs prints a header before each step; --follow streams with headers until the end', async () => {
    const started = await f.api(
      'POST',
      '/api/v1/projects/shop/pipelines/release/runs',
      {},
      f.tokens.alice,
    );
    const logs = f.spawn('bob', ['logs', started.id, '--follow']);
    await f.playNext('build', output);
    await logs.waitFor(/test: line 2/);
    const run = await f.api('POST', `/api/v1/runs/${started.id}/cancel`, undefined, f.tokens.alice);
    expect(run.id).toBe(started.id);
    await f.tick();
    const r = await logs.done;
    expect(r.status).toBe(1); // cancelled
    expect(r.stdout).toBe(
      '==> build / compile\ncompile: line 1\ncompile: line 2\n==> build / test\ntest: line 1\ntest: line 2\n',
    );
    expect(r.stderr).toContain(`run ${started.id} cancelled`);

    const plain = await f.spawn('bob', ['logs', started.id]).done;
    expect(plain.stdout).toBe(r.stdout);
    // One step's output stays as it was written.
    const one = await f.spawn('bob', ['logs', started.id, '--step', 'build/test']).done;
    expect(one.stdout).toBe('test: line 1\ntest: line 2\n');
  }, 90_000);
});
