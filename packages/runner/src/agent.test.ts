import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from './agent.ts';
import type { Job } from './protocol.ts';

// The agent against a stand-in server that records every request: the commit report carries
// the commit ranges exactly when the payload asks for them, and what a step is given.

const dir = mkdtempSync(path.join(tmpdir(), 'custody-agent-'));
const repo = path.join(dir, 'repo');
const runnerToken = 'cst_runner_token_for_the_agent_test';

function commitAs(name: string, file: string): string {
  writeFileSync(path.join(repo, file), `${file}\n`);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: `${name}@example.com`,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: `${name}@example.com`,
  };
  execFileSync('git', ['add', file], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '-m', file], { cwd: repo, env });
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
}

function job(id: string, extra: Partial<Job>): Job {
  return {
    jobId: id,
    leaseId: `lease-${id}`,
    leaseTtlMs: 30_000,
    attempt: 1,
    runId: 'run_1',
    project: 'pay',
    pipeline: 'release',
    pipelineVersion: 1,
    stage: 'deploy-prod',
    kind: 'main',
    environment: 'prod',
    repository: `file://${repo}`,
    branch: 'main',
    commit: null,
    inputs: {},
    steps: [
      {
        name: 'look',
        run: `env | cut -d= -f1 | sort | tr '\\n' ' '; echo; echo "token ${runnerToken}"`,
        env: {},
        timeoutMs: null,
        retries: 0,
        evidence: [],
        artifacts: [],
        secrets: {},
      },
    ],
    artifacts: [],
    ...extra,
  };
}

describe('runner agent (stand-in server, real git and bwrap)', () => {
  let server: Server;
  let url = '';
  const queue: Job[] = [];
  const requests: { path: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
  let base = '';
  let head = '';

  beforeAll(async () => {
    mkdirSync(repo);
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    base = commitAs('alice', 'a');
    commitAs('bob', 'b');
    head = commitAs('carol', 'c');
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        requests.push({ path: req.url!, auth: req.headers.authorization, body });
        const reply = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (req.url === '/api/v1/runner/register') return reply(201, { id: 'rnr_1' });
        if (req.url === '/api/v1/runner/lease') return reply(200, { job: queue.shift() ?? null });
        if (req.url!.endsWith('/commit')) return reply(200, { commit: body.commit });
        if (req.url!.endsWith('/heartbeat')) return reply(200, { cancel: false });
        // The server refuses a malformed report (it parses every upload).
        if (req.url!.endsWith('/files') && String(body.path).startsWith('broken'))
          return reply(400, {
            error: {
              code: 'EVIDENCE_MALFORMED',
              message: `junit: ${String(body.path)}:1: not XML`,
            },
          });
        return reply(200, { ok: true });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const commitReports = (id: string) =>
    requests.filter((r) => r.path === `/api/v1/runner/jobs/${id}/commit`).map((r) => r.body);
  const logText = (id: string) =>
    requests
      .filter((r) => r.path === `/api/v1/runner/jobs/${id}/logs`)
      .map((r) => r.body.content as string)
      .join('');

  it('reports the commit ranges the payload asks for, and only the commit when it asks none', async () => {
    queue.push(
      job('job_with', {
        history: {
          branch: 'main',
          ranges: [
            { environment: 'prod', since: base },
            { environment: 'dr', since: null },
          ],
        },
      }),
      job('job_without', {}),
    );
    process.env.RUNNER_HOST_SECRET = 'host-only';
    try {
      await runAgent({
        server: url,
        token: runnerToken,
        pools: ['default'],
        workDir: path.join(dir, 'work'),
        maxJobs: 2,
        leaseWaitMs: 0,
        log: () => {},
      });
    } finally {
      delete process.env.RUNNER_HOST_SECRET;
    }
    const [withRanges] = commitReports('job_with');
    expect(withRanges).toEqual({
      leaseId: 'lease-job_with',
      commit: head,
      ranges: [
        {
          environment: 'prod',
          since: base,
          truncated: false,
          commits: [
            expect.objectContaining({ sha: head, authorName: 'carol', signature: 'none' }),
            expect.objectContaining({ authorEmail: 'bob@example.com', committerName: 'bob' }),
          ],
        },
        {
          environment: 'dr',
          since: null,
          truncated: false,
          commits: [expect.objectContaining({ sha: head })],
        },
      ],
    });
    expect(commitReports('job_without')).toEqual([{ leaseId: 'lease-job_without', commit: head }]);
    // Every call carries the token; no step is given it, nor anything else of the runner's.
    expect(requests.every((r) => r.auth === `Bearer ${runnerToken}`)).toBe(true);
    const text = logText('job_with');
    expect(text).toContain('token ***');
    expect(text).not.toContain(runnerToken);
    expect(text).not.toContain('RUNNER_HOST_SECRET');
    expect(text).toContain('CUSTODY_COMMIT');
    expect(
      requests.find((r) => r.path === '/api/v1/runner/jobs/job_with/complete')!.body,
    ).toMatchObject({ result: 'succeeded' });
  });

  const step = (name: string, run: string, evidence: Job['steps'][0]['evidence']) => ({
    name,
    run,
    env: {},
    timeoutMs: null,
    retries: 0,
    evidence,
    artifacts: [],
    secrets: {},
  });
  const finishes = (id: string) =>
    requests
      .filter((r) => r.path === `/api/v1/runner/jobs/${id}/steps/finish`)
      .map((r) => ({ result: r.body.result, reason: r.body.reason }));
  const uploads = (id: string) =>
    requests
      .filter((r) => r.path === `/api/v1/runner/jobs/${id}/files`)
      .map((r) => `${String(r.body.kind)}:${String(r.body.type)}:${String(r.body.path)}`);

  it('collects the reports of a failing step, and fails a step whose declared report is missing or refused unless optional', async () => {
    const junit = { type: 'junit', path: 'report.xml' };
    queue.push(
      job('job_fails', {
        steps: [step('test', 'echo "<testsuite/>" > report.xml; exit 3', [junit])],
      }),
      job('job_missing', { steps: [step('test', 'true', [junit])] }),
      job('job_optional', {
        steps: [
          step('test', 'echo "<testsuite/>" > report.xml; echo x > broken-opt.xml', [
            junit,
            { type: 'sarif', path: 'scan.sarif', optional: true },
            { type: 'junit', path: 'broken-opt.xml', optional: true },
          ]),
          step('next', 'true', []),
        ],
      }),
      job('job_refused', {
        steps: [step('test', 'echo x > broken.xml', [{ type: 'junit', path: 'broken.xml' }])],
      }),
    );
    await runAgent({
      server: url,
      token: runnerToken,
      pools: ['default'],
      workDir: path.join(dir, 'work2'),
      maxJobs: 4,
      leaseWaitMs: 0,
      log: () => {},
    });
    // A step that failed still sends its report, and keeps its own failure.
    expect(uploads('job_fails')).toEqual(['evidence:junit:report.xml']);
    expect(finishes('job_fails')).toEqual([{ result: 'failed', reason: 'EXIT_3' }]);
    // Declared, not produced: the step fails though its script exited 0.
    expect(uploads('job_missing')).toEqual([]);
    expect(finishes('job_missing')).toEqual([
      { result: 'failed', reason: 'EVIDENCE_MISSING: report.xml' },
    ]);
    expect(logText('job_missing')).toContain('junit report report.xml not recorded');
    // Optional ones are only noted; the job goes on.
    expect(finishes('job_optional')).toEqual([
      { result: 'succeeded', reason: undefined },
      { result: 'succeeded', reason: undefined },
    ]);
    expect(logText('job_optional')).toContain('optional sarif report scan.sarif not recorded');
    expect(logText('job_optional')).toContain('optional junit report broken-opt.xml not recorded');
    // Refused by the server as malformed: the step fails with the server's code.
    expect(finishes('job_refused')).toEqual([
      { result: 'failed', reason: expect.stringContaining('EVIDENCE_MALFORMED') },
    ]);
  });
});
