import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { createMasker } from './masking.ts';
import {
  HttpError,
  LeaseLostError,
  RunnerClient,
  artifactEnvName,
  type Job,
  type JobStep,
  type StepResult,
} from './protocol.ts';

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
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The runner agent: registers, long-polls for jobs of its pools, and runs each job's steps
// with bash in a fresh checkout, streaming logs and uploading artifacts and evidence.
export async function runAgent(options: AgentOptions): Promise<{ jobs: number }> {
  const log = options.log ?? ((m: string) => process.stderr.write(`[runner] ${m}\n`));
  const client = new RunnerClient(options.server, options.token);
  const name = options.name ?? `${hostname()}-${process.pid}`;
  let runnerId: string | undefined;
  while (!runnerId) {
    try {
      runnerId = (
        await client.call<{ id: string }>('POST', '/api/v1/runner/register', {
          name,
          pools: options.pools,
        })
      ).id;
    } catch (err) {
      if (err instanceof HttpError) throw err; // bad token or pools: a configuration error
      if (options.signal?.aborted) return { jobs: 0 };
      log(`cannot register yet: ${(err as Error).message}`);
      await sleep(1000);
    }
  }
  log(`registered ${name} (${runnerId}) for pools ${options.pools.join(', ')}`);
  let jobs = 0;
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
      const result = await runJob(client, job, options, log);
      log(`job ${job.jobId} ${result}`);
    } catch (err) {
      log(`job ${job.jobId} abandoned: ${(err as Error).message}`);
    }
  }
  return { jobs };
}

interface Running {
  cancelled: boolean;
  leaseLost: boolean;
  kill?: () => void;
}

async function runJob(
  client: RunnerClient,
  job: Job,
  options: AgentOptions,
  log: (m: string) => void,
): Promise<StepResult> {
  const lease = { leaseId: job.leaseId };
  const post = <T>(what: string, body: Record<string, unknown> = {}) =>
    client.call<T>('POST', `/api/v1/runner/jobs/${job.jobId}/${what}`, { ...lease, ...body });
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
            state.leaseLost = true;
            state.kill?.();
          } else log(`heartbeat failed: ${(err as Error).message}`);
        });
    },
    Math.max(200, Math.floor(job.leaseTtlMs / 3)),
  );
  const dir = path.join(
    path.resolve(options.workDir),
    `${job.jobId}-${job.attempt}-${randomBytes(3).toString('hex')}`,
  );
  const src = path.join(dir, 'src');
  const mask = createMasker(job.steps.flatMap((s) => Object.values(s.secrets)));
  try {
    await mkdir(dir, { recursive: true });
    // Checkout with the real git: any URL git can clone, file:// included.
    const checkout = await exec(
      'git',
      ['clone', '--quiet', '--no-checkout', job.repository, src],
      dir,
    );
    if (checkout.code !== 0) return await fail(`CHECKOUT_FAILED: ${checkout.output.slice(-500)}`);
    const ref = job.commit ?? `origin/${job.branch}`;
    const co = await exec(
      'git',
      ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ref],
      src,
    );
    if (co.code !== 0) return await fail(`CHECKOUT_FAILED: ${co.output.slice(-500)}`);
    const sha = (await exec('git', ['rev-parse', 'HEAD'], src)).output.trim();
    await post('commit', { commit: sha });

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('CUSTODY_')) env[k] = v;
    Object.assign(env, {
      CUSTODY_RUN_ID: job.runId,
      CUSTODY_JOB_ID: job.jobId,
      CUSTODY_PROJECT: job.project,
      CUSTODY_PIPELINE: job.pipeline,
      CUSTODY_STAGE: job.stage,
      CUSTODY_ENVIRONMENT: job.environment ?? '',
      CUSTODY_COMMIT: sha,
      CUSTODY_WORKSPACE: src,
    });
    for (const [k, v] of Object.entries(job.inputs))
      env[`CUSTODY_INPUT_${k.toUpperCase().replace(/-/g, '_')}`] = v;
    for (const a of job.artifacts) {
      const blob = await client.call<{ contentBase64: string }>(
        'GET',
        `/api/v1/runner/jobs/${job.jobId}/blobs/${a.digest}?leaseId=${job.leaseId}`,
      );
      const file = path.join(
        dir,
        'artifacts',
        a.digest.replace('sha256:', ''),
        path.basename(a.path),
      );
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, Buffer.from(blob.contentBase64, 'base64'));
      env[a.env] = file;
    }

    for (const [index, step] of job.steps.entries()) {
      if (state.cancelled) {
        await post('complete', { result: 'cancelled', reason: 'CANCELLED' });
        return 'cancelled';
      }
      // Later steps were started by the request that finished the one before.
      if (index === 0) await post('steps/start', { step: index });
      const stepEnv = { ...env, ...step.env, ...step.secrets };
      const outcome = await runStep(step, index, stepEnv, src, state, mask, post);
      if (outcome.result === 'succeeded') {
        try {
          for (const e of step.evidence)
            await upload(post, src, index, 'evidence', e.type, e.type, e.path);
          for (const a of step.artifacts) {
            await upload(post, src, index, 'artifact', a.name, 'file', a.path);
            env[artifactEnvName(a.name)] = path.resolve(src, a.path);
          }
        } catch (err) {
          if (err instanceof LeaseLostError) throw err;
          outcome.result = 'failed';
          outcome.reason = (err as Error).message.slice(0, 200);
        }
      }
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
    if (!options.keepWorkspaces) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }

  async function fail(reason: string): Promise<StepResult> {
    log(reason);
    await post('complete', { result: 'failed', reason: reason.slice(0, 200) });
    return 'failed';
  }
}

async function upload(
  post: <T>(what: string, body?: Record<string, unknown>) => Promise<T>,
  src: string,
  step: number,
  kind: 'artifact' | 'evidence',
  name: string,
  type: string,
  rel: string,
): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.resolve(src, rel));
  } catch {
    throw new Error(`${kind === 'artifact' ? 'ARTIFACT' : 'EVIDENCE'}_MISSING: ${rel}`);
  }
  await post('files', {
    step,
    kind,
    name,
    type,
    path: rel,
    sha256: sha256(bytes),
    contentBase64: bytes.toString('base64'),
  });
}

async function runStep(
  step: JobStep,
  index: number,
  env: Record<string, string>,
  cwd: string,
  state: Running,
  mask: (s: string) => string,
  post: <T>(what: string, body?: Record<string, unknown>) => Promise<T>,
): Promise<{ result: StepResult; exitCode: number | null; attempts: number; reason?: string }> {
  let seq = 0;
  let sending: Promise<unknown> = Promise.resolve();
  const send = (content: string) => {
    if (!content) return;
    const chunk = { step: index, seq: seq++, content, sha256: sha256(content) };
    sending = sending.then(() => post('logs', chunk));
  };
  let last: { code: number | null; timedOut: boolean } = { code: null, timedOut: false };
  let attempts = 0;
  for (let attempt = 0; attempt <= step.retries; attempt++) {
    attempts++;
    if (attempt > 0) send(`--- retry ${attempt} of ${step.retries}\n`);
    last = await new Promise((resolve) => {
      const child = spawn('bash', ['-eo', 'pipefail', '-c', step.run], {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let buffer = '';
      let timedOut = false;
      // Lines are masked whole, so a secret cannot be split across two chunks.
      const flush = (all: boolean) => {
        const cut = all ? buffer.length : buffer.lastIndexOf('\n') + 1;
        if (cut <= 0) return;
        send(mask(buffer.slice(0, cut)));
        buffer = buffer.slice(cut);
      };
      const onData = (d: Buffer) => {
        buffer += d.toString('utf8');
        if (buffer.length > 64 * 1024) flush(true);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const ticker = setInterval(() => flush(false), 300);
      const kill = () => {
        try {
          process.kill(-child.pid!, 'SIGTERM');
          setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              /* gone */
            }
          }, 3000).unref();
        } catch {
          /* already gone */
        }
      };
      state.kill = kill;
      const timer = step.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, step.timeoutMs)
        : undefined;
      child.on('error', (err) => {
        buffer += `${err.message}\n`;
      });
      child.on('close', (code) => {
        clearInterval(ticker);
        if (timer) clearTimeout(timer);
        state.kill = undefined;
        flush(true);
        resolve({ code: timedOut ? 124 : code, timedOut });
      });
    });
    if (last.code === 0 || state.cancelled || state.leaseLost) break;
  }
  await sending;
  if (state.leaseLost) throw new LeaseLostError('lease lost during the step');
  if (state.cancelled)
    return { result: 'cancelled', exitCode: last.code, attempts, reason: 'CANCELLED' };
  if (last.code === 0) return { result: 'succeeded', exitCode: 0, attempts };
  return {
    result: 'failed',
    exitCode: last.code,
    attempts,
    reason: last.timedOut ? 'STEP_TIMEOUT' : `EXIT_${last.code ?? 'SIGNAL'}`,
  };
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
