import { chmodSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunnerError } from './errors.ts';
import type { Job } from './protocol.ts';
import { createSandbox, stepUser, type Sandbox } from './sandbox.ts';
import { stepEnvironment } from './step-env.ts';
import { SandboxedSteps } from './job-sandbox.ts';
import { DirectSteps, Reaper, type StepRunner } from './step-process.ts';
import { takeRunnerToken } from './token-source.ts';
import { createWorkspace, handOver, readWorkspaceFile } from './workspace.ts';

// The sandbox with the real bubblewrap: what a step can and cannot reach. The host side plays
// the runner and the server: a "data directory" with keys, a token file, other workspaces.

const root = process.getuid?.() === 0;
const base = mkdtempSync(path.join(tmpdir(), 'custody-sandbox-'));
const dataDir = path.join(base, 'data');
mkdirSync(dataDir, { mode: 0o700 });
writeFileSync(path.join(dataDir, 'admin.token'), 'cst_admin_secret\n', { mode: 0o600 });
writeFileSync(path.join(dataDir, 'ledger.key'), 'ledger-key-material\n', { mode: 0o600 });
const workDir = path.join(base, 'work');
mkdirSync(workDir);

async function runIn(
  sandbox: Sandbox,
  script: string,
  env: Record<string, string> = { PATH: '/usr/bin:/bin' },
): Promise<{ code: number | null; output: string; jobDir: string }> {
  const ws = await createWorkspace(workDir, { jobId: 'job', attempt: 1 }, sandbox);
  mkdirSync(ws.src);
  await handOver(ws, sandbox.user);
  const steps = runnerFor(sandbox, ws.dir);
  const r = await step(steps, ws.src, script, env);
  steps.close();
  return { ...r, jobDir: ws.dir };
}

const reaper = new Reaper();
const runnerFor = (sandbox: Sandbox, jobDir: string): StepRunner =>
  sandbox.kind === 'bubblewrap'
    ? new SandboxedSteps(sandbox, jobDir)
    : new DirectSteps(sandbox, jobDir, reaper);

async function step(
  steps: StepRunner,
  cwd: string,
  script: string,
  env: Record<string, string> = { PATH: '/usr/bin:/bin' },
): Promise<{ code: number | null; output: string }> {
  let output = '';
  const handle = steps.start({ cwd, script, env, onOutput: (t) => (output += t) });
  return { code: await handle.done, output };
}

describe('bubblewrap sandbox (real bwrap)', () => {
  it('a step runs unprivileged, writes only its workspace, and sees none of the host', async () => {
    const sandbox = await createSandbox({ hiddenPaths: [workDir] });
    expect(sandbox.kind).toBe('bubblewrap');
    const r = await runIn(
      sandbox,
      `
      echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
      echo "pwd=$(pwd)"
      for f in ${dataDir}/admin.token ${dataDir}/ledger.key ${dataDir} ${workDir} ${base}; do
        if ls "$f" >/dev/null 2>&1; then echo "SEEN $f"; else echo "UNSEEN $f"; fi
      done
      echo "processes=$(ls -d /proc/[0-9]* | wc -l)"
      echo "ppid-cmdline=$(tr '\\0' ' ' < /proc/$PPID/cmdline)"
      touch /usr/x 2>/dev/null && echo "WROTE /usr" || echo "RO /usr"
      touch /etc/x 2>/dev/null && echo "WROTE /etc" || echo "RO /etc"
      echo tmp-listing="$(ls -A /tmp)"
      echo scratch > /tmp/scratch && echo "tmp writable"
      echo made > made.txt
      cat /etc/hostname >/dev/null 2>&1 || true
      echo host=$(hostname)
      `,
    );
    expect(r.code, r.output).toBe(0);
    if (root) expect(r.output).toContain('uid=65534 gid=65534 groups=65534');
    expect(r.output).toContain('pwd=/job/src');
    for (const p of [`${dataDir}/admin.token`, `${dataDir}/ledger.key`, dataDir, workDir, base])
      expect(r.output).toContain(`UNSEEN ${p}`);
    // Its own PID namespace: the sandbox's init, its supervisor, the step's shell and what it
    // runs — nothing of the host.
    const processes = Number(/processes=(\d+)/.exec(r.output)![1]);
    expect(processes).toBeLessThanOrEqual(6);
    const ppid = /ppid-cmdline=(.*)/.exec(r.output)![1]!;
    expect(ppid).not.toContain(base); // mounts go to bwrap on a pipe, not its command line
    expect(r.output).toContain('RO /usr');
    expect(r.output).toContain('RO /etc');
    expect(r.output).toContain('tmp-listing=\n');
    expect(r.output).toContain('tmp writable');
    expect(r.output).toContain('host=custody-step');
    const made = statSync(path.join(r.jobDir, 'src', 'made.txt'));
    if (root) expect(made.uid).toBe(65534);
  });

  it('granted directories: writable at their own path, their parents empty, hidden paths gone', async () => {
    const deploys = path.join(base, 'deploys');
    mkdirSync(deploys);
    chmodSync(deploys, 0o777);
    writeFileSync(path.join(base, 'beside-deploys.txt'), 'not for steps\n');
    const secretInside = path.join(deploys, 'runner.token');
    writeFileSync(secretInside, 'cst_runner_token\n', { mode: 0o644 });
    const sandbox = await createSandbox({
      writableDirs: [deploys],
      hiddenPaths: [secretInside, workDir],
    });
    const r = await runIn(
      sandbox,
      `echo out > ${deploys}/qa.txt
       ls -A ${base}
       echo "token=[$(cat ${secretInside})]"`,
    );
    expect(r.code, r.output).toBe(0);
    expect(statSync(path.join(deploys, 'qa.txt')).isFile()).toBe(true);
    expect(r.output).not.toContain('beside-deploys.txt');
    expect(r.output).toContain('token=[]');
  });

  it('the steps of a job share one sandbox, and nothing else: environment, leftovers and output stay with their step', async () => {
    const sandbox = await createSandbox({});
    const ws = await createWorkspace(workDir, { jobId: 'shared', attempt: 1 }, sandbox);
    mkdirSync(ws.src);
    await handOver(ws, sandbox.user);
    const steps = runnerFor(sandbox, ws.dir);
    const first = await step(
      steps,
      ws.src,
      `echo "first $ONLY_FIRST"; echo to-stderr >&2; echo kept > /tmp/kept
       (sleep 60 &) ; setsid sleep 61 & kill 0`,
      { PATH: '/usr/bin:/bin', ONLY_FIRST: 'one' },
    );
    // `kill 0` ends the step's own process group, not the sandbox.
    expect(first.code).toBe(143);
    expect(first.output).toBe('first one\nto-stderr\n');
    const second = await step(
      steps,
      ws.src,
      `echo "second [\${ONLY_FIRST:-}] $(cat /tmp/kept) sleeps=$(cat /proc/[0-9]*/cmdline | tr '\\0' ' ' | grep -o 'slee[p] 6' | wc -l)"; exit 7`,
    );
    expect(second.code).toBe(7);
    // The sleep that left the step's session (setsid) is gone too.
    expect(second.output).toBe('second [] kept sleeps=0\n');
    // A killed step takes its sandbox with it; the next step starts in a fresh one.
    let out = '';
    const slow = steps.start({
      cwd: ws.src,
      script: 'echo started; sleep 30',
      env: { PATH: '/usr/bin:/bin' },
      onOutput: (t) => (out += t),
    });
    await new Promise((r) => setTimeout(r, 300));
    slow.kill();
    expect(await slow.done).toBeNull();
    expect(out).toBe('started\n');
    const fresh = await step(steps, ws.src, 'cat /tmp/kept 2>/dev/null || echo fresh');
    expect(fresh).toEqual({ code: 0, output: 'fresh\n' });
    steps.close();
  });

  it('refuses to grant system directories', async () => {
    await expect(createSandbox({ writableDirs: ['/etc'] })).rejects.toMatchObject({
      code: 'RUNNER_PATH_INVALID',
    });
    await expect(createSandbox({ readOnlyDirs: ['/'] })).rejects.toMatchObject({
      code: 'RUNNER_PATH_INVALID',
    });
  });

  it('without bubblewrap the runner refuses, unless told --unsafe-no-sandbox', async () => {
    const refused = await createSandbox({ bwrap: '/nonexistent/bwrap' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RunnerError);
    expect((refused as RunnerError).code).toBe('RUNNER_SANDBOX_UNAVAILABLE');
    const fake = path.join(base, 'fake-bwrap');
    writeFileSync(fake, '#!/bin/sh\necho "setting up uid map: Permission denied" >&2\nexit 1\n', {
      mode: 0o755,
    });
    await expect(createSandbox({ bwrap: fake })).rejects.toMatchObject({
      code: 'RUNNER_SANDBOX_UNAVAILABLE',
      message: expect.stringContaining('Permission denied'),
    });
    const unsafe = await createSandbox({ unsafeNoSandbox: true, bwrap: '/nonexistent/bwrap' });
    expect(unsafe.kind).toBe('none');
    expect(unsafe.describe()).toContain('WITHOUT a sandbox');
  });

  it('a root runner drops steps to 65534 or a named unprivileged user, never root', () => {
    expect(stepUser(undefined, 0)).toEqual({ uid: 65534, gid: 65534 });
    expect(stepUser('nobody', 0)).toEqual({ uid: 65534, gid: 65534 });
    expect(stepUser('1234:2345', 0)).toEqual({ uid: 1234, gid: 2345 });
    for (const spec of ['root', '0', '1000:0'])
      expect(() => stepUser(spec, 0)).toThrow(/RUNNER_STEP_USER_INVALID/);
    expect(() => stepUser('no-such-user-here', 0)).toThrow(/RUNNER_STEP_USER_INVALID/);
    // A runner that is not root runs steps as itself and cannot switch.
    expect(stepUser(undefined, 1000)).toBeUndefined();
    expect(() => stepUser('nobody', 1000)).toThrow(/needs a runner started as root/);
  });
});

describe('what a step receives from the runner', () => {
  const job: Job = {
    jobId: 'job_1',
    leaseId: 'lease_1',
    leaseTtlMs: 30_000,
    attempt: 1,
    runId: 'run_1',
    project: 'pay',
    pipeline: 'release',
    pipelineVersion: 1,
    stage: 'build',
    kind: 'main',
    environment: null,
    repository: 'file:///x',
    branch: 'main',
    commit: null,
    inputs: { 'deploy-root': '/srv' },
    steps: [],
    artifacts: [],
  };

  it('an environment built from an allowlist: nothing of the runner’s own environment', async () => {
    const sandbox = await createSandbox({ unsafeNoSandbox: true });
    const ws = await createWorkspace(workDir, job, sandbox);
    const env = stepEnvironment({
      job,
      commit: 'abc',
      ws,
      artifacts: { CUSTODY_ARTIFACT_APP: path.join(ws.artifacts, 'd', 'app.tgz') },
      base: {
        PATH: '/usr/bin:/bin',
        LANG: 'C.UTF-8',
        TZ: 'UTC',
        CUSTODY_RUNNER_TOKEN: 'cst_runner',
        CUSTODY_TOKEN: 'cst_admin',
        CUSTODY_DATABASE_URL: 'postgres://u:p@db/custody',
        DATABASE_URL: 'postgres://u:p@db/custody',
        AWS_SECRET_ACCESS_KEY: 'aws',
        SSH_AUTH_SOCK: '/run/agent.sock',
        HOME: '/root',
      },
    });
    expect(Object.keys(env).sort()).toEqual(
      [
        'PATH',
        'LANG',
        'TZ',
        'HOME',
        'CUSTODY_RUN_ID',
        'CUSTODY_JOB_ID',
        'CUSTODY_PROJECT',
        'CUSTODY_PIPELINE',
        'CUSTODY_STAGE',
        'CUSTODY_ENVIRONMENT',
        'CUSTODY_COMMIT',
        'CUSTODY_WORKSPACE',
        'CUSTODY_INPUT_DEPLOY_ROOT',
        'CUSTODY_ARTIFACT_APP',
      ].sort(),
    );
    expect(env.HOME).toBe(ws.home);
    const sandboxed = await createSandbox({});
    const inside = await createWorkspace(workDir, job, sandboxed);
    const env2 = stepEnvironment({ job, commit: 'abc', ws: inside, artifacts: {}, base: {} });
    expect(env2).toMatchObject({
      HOME: '/job/home',
      CUSTODY_WORKSPACE: '/job/src',
      PATH: expect.stringContaining('/usr/bin'),
    });
  });

  it('the runner token comes from a file or the environment, and leaves the environment', () => {
    const env: NodeJS.ProcessEnv = { CUSTODY_RUNNER_TOKEN: 'cst_from_env', CUSTODY_TOKEN: 'x' };
    expect(takeRunnerToken({ env }).token).toBe('cst_from_env');
    expect(env).toEqual({});
    const file = path.join(base, 'runner.token');
    writeFileSync(file, 'cst_from_file\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    const fromFile = takeRunnerToken({ tokenFile: file, env: { CUSTODY_RUNNER_TOKEN: 'other' } });
    expect(fromFile).toEqual({ token: 'cst_from_file', warnings: [] });
    chmodSync(file, 0o644);
    expect(takeRunnerToken({ tokenFile: file, env: {} }).warnings[0]).toContain('chmod 600');
    const flag = takeRunnerToken({ flag: 'cst_flag', env: {} });
    expect(flag.token).toBe('cst_flag');
    expect(flag.warnings[0]).toContain('command line');
    expect(() => takeRunnerToken({ env: {} })).toThrow(/RUNNER_TOKEN_MISSING/);
    expect(() => takeRunnerToken({ tokenFile: path.join(base, 'nope'), env: {} })).toThrow(
      /RUNNER_TOKEN_FILE_UNREADABLE/,
    );
  });

  it('evidence and artifacts are read only from inside the workspace (no symlink out)', async () => {
    const sandbox = await createSandbox({});
    const ws = await createWorkspace(workDir, job, sandbox);
    mkdirSync(path.join(ws.src, 'reports'), { recursive: true });
    writeFileSync(path.join(ws.src, 'reports', 'junit.xml'), '<testsuite/>');
    symlinkSync(path.join(dataDir, 'admin.token'), path.join(ws.src, 'reports', 'stolen.xml'));
    symlinkSync('junit.xml', path.join(ws.src, 'reports', 'alias.xml'));
    expect((await readWorkspaceFile(ws, 'reports/junit.xml')).toString()).toBe('<testsuite/>');
    expect((await readWorkspaceFile(ws, 'reports/alias.xml')).toString()).toBe('<testsuite/>');
    expect(await readWorkspaceFile(ws, 'reports/stolen.xml')).toBe('outside');
    expect(await readWorkspaceFile(ws, '../../data/admin.token')).toBe('missing');
    expect(await readWorkspaceFile(ws, '../../../data/ledger.key')).toBe('outside');
    expect(await readWorkspaceFile(ws, 'reports')).toBe('missing');
  });
});
