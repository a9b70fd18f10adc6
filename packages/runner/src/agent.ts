import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { commitRanges } from './commit-range.ts';
import { createMasker } from '@custody/masking';
import {
  HttpError,
  LeaseLostError,
  RunnerClient,
  artifactEnvName,
  type CommitRange,
  type Job,
  type JobStep,
  type StepResult,
} from './protocol.ts';
import { assertReachable, createSandbox, type Sandbox } from './sandbox.ts';
import { stepEnvironment } from './step-env.ts';
import { collectEvidence, uploadFile, type Post } from './step-files.ts';
import { SandboxedSteps } from './job-sandbox.ts';
import { DirectSteps, Reaper, type StepRunner } from './step-process.ts';
import { createWorkspace, handOver, removeWorkspace, type Workspace } from './workspace.ts';

export interface AgentOptions {
  server: string;
  token: string;
  pools: string[];
  workDir: string;
  name?: string;
  // Stop after this many jobs (tests, benchmarks); unlimited by default.
  maxJobs?: number;
  leaseWaitMs?: number;
  keepWorkspaces?: boolean;
  signal?: AbortSignal;
  log?: (message: string) => void;
  // Where steps run (default: a bubblewrap sandbox; the agent refuses to start without one).
  sandbox?: Sandbox;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const unsandboxedNotice =
  '!!! custody runner: this job runs WITHOUT a sandbox (runner started with --unsafe-no-sandbox): its steps see the files and processes of the runner host\n';

interface Context {
  client: RunnerClient;
  options: AgentOptions;
  sandbox: Sandbox;
  reaper: Reaper;
  log: (m: string) => void;
}

// The runner agent: registers, long-polls for jobs of its pools, and runs each job's steps
// with bash in a fresh checkout, streaming logs and uploading artifacts and evidence.
export async function runAgent(options: AgentOptions): Promise<{ jobs: number }> {
  const maskToken = createMasker([options.token]);
  const rawLog = options.log ?? ((m: string) => process.stderr.write(`[runner] ${m}\n`));
  const log = (m: string) => rawLog(maskToken(m));
  const workDir = path.resolve(options.workDir);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const sandbox = options.sandbox ?? (await createSandbox({ hiddenPaths: [workDir] }));
  if (sandbox.kind === 'none') {
    log(
      sandbox.user
        ? `WARNING: --unsafe-no-sandbox: steps run without a sandbox, as uid ${sandbox.user.uid}: they can read every file that user can and see every process of this machine`
        : 'WARNING: --unsafe-no-sandbox: steps run without a sandbox, as the runner user: they can read every file the runner can (its token, keys, a server data directory on this machine) and see its processes',
    );
    // Its steps run at the workspace's host path as the step user: let it through, not list.
    if (sandbox.user) {
      await chmod(workDir, 0o711);
      assertReachable(workDir, sandbox.user);
    }
  }
  const client = new RunnerClient(options.server, options.token);
  const ctx: Context = { client, options, sandbox, reaper: new Reaper(), log };
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const runnerId = await register(client, name, options, log);
  if (!runnerId) return { jobs: 0 };
  log(
    `registered ${name} (${runnerId}) for pools ${options.pools.join(', ')}; ${sandbox.describe()}`,
  );
  let jobs = 0;
  try {
    while (!options.signal?.aborted && (options.maxJobs === undefined || jobs < options.maxJobs)) {
      let job: Job | null;
      try {
        job = (
          await client.call<{ job: Job | null }>(
            'POST',
            '/api/v1/runner/lease',
            { runnerId, waitMs: options.leaseWaitMs ?? 20_000 },
            options.signal,
          )
        ).job;
      } catch (err) {
        if (options.signal?.aborted) break;
        if (err instanceof HttpError && err.status < 500 && err.status !== 404) throw err;
        log(`lease failed: ${(err as Error).message}`);
        await sleep(1000);
        continue;
      }
      if (!job) continue;
      jobs++;
      log(`job ${job.jobId} (run ${job.runId}, stage ${job.stage}, attempt ${job.attempt})`);
      try {
        const result = await runJob(ctx, job);
        log(`job ${job.jobId} ${result}`);
      } catch (err) {
        log(`job ${job.jobId} abandoned: ${(err as Error).message}`);
      }
    }
  } finally {
    ctx.reaper.close();
  }
  return { jobs };
}

// Waits out a server that is not up yet; a refusal (bad token, pools) is a configuration error.
async function register(
  client: RunnerClient,
  name: string,
  options: AgentOptions,
  log: (m: string) => void,
): Promise<string | undefined> {
  for (;;) {
    try {
      const body = { name, pools: options.pools };
      return (await client.call<{ id: string }>('POST', '/api/v1/runner/register', body)).id;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (options.signal?.aborted) return undefined;
      log(`cannot register yet: ${(err as Error).message}`);
      await sleep(1000);
    }
  }
}

interface Running {
  cancelled: boolean;
  leaseLost: boolean;
  kill?: () => void;
}

async function runJob(ctx: Context, job: Job): Promise<StepResult> {
  const { client, options, sandbox, log } = ctx;
  const lease = { leaseId: job.leaseId };
  const post: Post = (what, body = {}) =>
    client.call('POST', `/api/v1/runner/jobs/${job.jobId}/${what}`, { ...lease, ...body });
  const mask = createMasker([...job.steps.flatMap((s) => Object.values(s.secrets)), options.token]);
  const ws = await createWorkspace(options.workDir, job, sandbox);
  const steps: StepRunner =
    sandbox.kind === 'bubblewrap'
      ? new SandboxedSteps(sandbox, ws.dir)
      : new DirectSteps(sandbox, ws.dir, ctx.reaper);
  const state: Running = { cancelled: false, leaseLost: false };
  const heartbeat = setInterval(
    () => {
      post<{ cancel: boolean }>('heartbeat')
        .then((r) => {
          if (r.cancel && !state.cancelled) {
            state.cancelled = true;
            state.kill?.();
          }
        })
        .catch((err: unknown) => {
          if (err instanceof LeaseLostError) {
            // Another runner may hold the job now: the step must not go on beside it.
            state.leaseLost = true;
            state.kill?.();
          } else log(`heartbeat failed: ${(err as Error).message}`);
        });
    },
    Math.max(200, Math.floor(job.leaseTtlMs / 3)),
  );
  try {
    const checkout = await checkOut(job, ws);
    if ('failure' in checkout) return await fail(checkout.failure);
    const sha = checkout.commit;
    let ranges: CommitRange[] | undefined;
    if (job.history) {
      try {
        ranges = await commitRanges({ cwd: ws.src, history: job.history });
      } catch (err) {
        return await fail(`COMMIT_RANGE_FAILED: ${(err as Error).message}`);
      }
    }
    await post('commit', { commit: sha, ...(ranges ? { ranges } : {}) });

    const artifactFiles: Record<string, string> = {};
    for (const a of job.artifacts) {
      const blob = await client.call<{ contentBase64: string }>(
        'GET',
        `/api/v1/runner/jobs/${job.jobId}/blobs/${a.digest}?leaseId=${job.leaseId}`,
      );
      const file = path.join(ws.artifacts, a.digest.replace('sha256:', ''), path.basename(a.path));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, Buffer.from(blob.contentBase64, 'base64'));
      artifactFiles[a.env] = file;
    }
    await handOver(ws, sandbox.user);
    const env = stepEnvironment({ job, commit: sha, ws, artifacts: artifactFiles });

    for (const [index, step] of job.steps.entries()) {
      if (state.cancelled) {
        await post('complete', { result: 'cancelled', reason: 'CANCELLED' });
        return 'cancelled';
      }
      // Later steps were started by the request that finished the one before.
      if (index === 0) await post('steps/start', { step: index });
      const preamble = index === 0 && sandbox.kind === 'none' ? unsandboxedNotice : '';
      const outcome = await runStep({
        steps,
        step,
        index,
        env: { ...env, ...step.env, ...step.secrets },
        ws,
        state,
        mask,
        post,
        preamble,
      });
      if (outcome.result !== 'cancelled') {
        const refused = await collectEvidence(post, ws, { index, spec: step }, outcome.note);
        if (refused && outcome.result === 'succeeded') {
          outcome.result = 'failed';
          outcome.reason = refused;
        }
      }
      if (outcome.result === 'succeeded') {
        try {
          for (const a of step.artifacts) {
            await uploadFile(post, ws, index, { kind: 'artifact', ...a, type: 'file' });
            env[artifactEnvName(a.name)] = ws.view(path.resolve(ws.src, a.path));
          }
        } catch (err) {
          if (err instanceof LeaseLostError) throw err;
          outcome.result = 'failed';
          outcome.reason = (err as Error).message.slice(0, 200);
        }
      }
      await outcome.flushed();
      const next =
        outcome.result === 'succeeded' && index + 1 < job.steps.length && !state.cancelled
          ? index + 1
          : undefined;
      await post('steps/finish', {
        step: index,
        result: outcome.result,
        exitCode: outcome.exitCode,
        attempts: outcome.attempts,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        ...(next !== undefined ? { next } : {}),
      });
      if (outcome.result !== 'succeeded') {
        await post('complete', {
          result: outcome.result,
          reason: outcome.reason ?? (outcome.result === 'cancelled' ? 'CANCELLED' : 'STEP_FAILED'),
        });
        return outcome.result;
      }
    }
    await post('complete', { result: 'succeeded' });
    return 'succeeded';
  } catch (err) {
    if (err instanceof LeaseLostError || state.leaseLost) return 'cancelled';
    throw err;
  } finally {
    clearInterval(heartbeat);
    steps.close();
    if (!options.keepWorkspaces) await removeWorkspace(ws);
  }

  async function fail(reason: string): Promise<StepResult> {
    log(reason);
    await post('complete', { result: 'failed', reason: reason.slice(0, 200) });
    return 'failed';
  }
}

// Checkout with the real git (any URL git can clone, file:// included), by the runner and
// before any step: nothing a step does can change how the runner reads the repository.
async function checkOut(
  job: Job,
  ws: Workspace,
): Promise<{ commit: string } | { failure: string }> {
  const clone = await exec(
    'git',
    ['clone', '--quiet', '--no-checkout', job.repository, ws.src],
    ws.dir,
  );
  if (clone.code !== 0) return { failure: `CHECKOUT_FAILED: ${clone.output.slice(-500)}` };
  const ref = job.commit ?? `origin/${job.branch}`;
  const co = await exec(
    'git',
    ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ref],
    ws.src,
  );
  if (co.code !== 0) return { failure: `CHECKOUT_FAILED: ${co.output.slice(-500)}` };
  return { commit: (await exec('git', ['rev-parse', 'HEAD'], ws.src)).output.trim() };
}

interface StepOutcome {
  result: StepResult;
  exitCode: number | null;
  attempts: number;
  reason?: string;
  note: (line: string) => void;
  flushed: () => Promise<unknown>;
}

interface StepRun {
  steps: StepRunner;
  step: JobStep;
  index: number;
  env: Record<string, string>;
  ws: Workspace;
  state: Running;
  mask: (s: string) => string;
  post: Post;
  preamble: string;
}

async function runStep(run: StepRun): Promise<StepOutcome> {
  const { step, index, state } = run;
  let seq = 0;
  let sending: Promise<unknown> = Promise.resolve();
  const send = (content: string) => {
    if (!content) return;
    const chunk = { step: index, seq: seq++, content, sha256: sha256(content) };
    sending = sending.then(() => run.post('logs', chunk));
  };
  send(run.preamble);
  let last: { code: number | null; timedOut: boolean } = { code: null, timedOut: false };
  let attempts = 0;
  for (let attempt = 0; attempt <= step.retries; attempt++) {
    attempts++;
    if (attempt > 0) send(`--- retry ${attempt} of ${step.retries}\n`);
    last = await attemptStep(run, send);
    if (last.code === 0 || state.cancelled || state.leaseLost) break;
  }
  await sending;
  if (state.leaseLost) throw new LeaseLostError('lease lost during the step');
  // What the runner itself says in the step's log after the script ended.
  const note = (line: string) => send(line);
  const flushed = () => sending;
  if (state.cancelled)
    return {
      result: 'cancelled',
      exitCode: last.code,
      attempts,
      reason: 'CANCELLED',
      note,
      flushed,
    };
  if (last.code === 0) return { result: 'succeeded', exitCode: 0, attempts, note, flushed };
  return {
    result: 'failed',
    exitCode: last.code,
    attempts,
    reason: last.timedOut ? 'STEP_TIMEOUT' : `EXIT_${last.code ?? 'SIGNAL'}`,
    note,
    flushed,
  };
}

async function attemptStep(
  run: StepRun,
  send: (content: string) => void,
): Promise<{ code: number | null; timedOut: boolean }> {
  const { step, state } = run;
  let buffer = '';
  let timedOut = false;
  // Lines are masked whole, so a secret cannot be split across two chunks.
  const flush = (all: boolean) => {
    const cut = all ? buffer.length : buffer.lastIndexOf('\n') + 1;
    if (cut <= 0) return;
    send(run.mask(buffer.slice(0, cut)));
    buffer = buffer.slice(cut);
  };
  const handle = run.steps.start({
    cwd: run.ws.src,
    script: step.run,
    env: run.env,
    onOutput: (text) => {
      buffer += text;
      if (buffer.length > 64 * 1024) flush(true);
    },
  });
  const ticker = setInterval(() => flush(false), 300);
  state.kill = handle.kill;
  // A cancel or a lost lease may have come while the step was being started.
  if (state.cancelled || state.leaseLost) handle.kill();
  const timer = step.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        handle.kill();
      }, step.timeoutMs)
    : undefined;
  const code = await handle.done;
  clearInterval(ticker);
  if (timer) clearTimeout(timer);
  state.kill = undefined;
  flush(true);
  return { code: timedOut ? 124 : code, timedOut };
}

function exec(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ code: 127, output: err.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}
