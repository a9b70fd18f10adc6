import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import {
  RunnerError,
  createSandbox,
  runAgent,
  runnerTokenEnv,
  takeRunnerToken,
  type RunnerErrorCode,
  type Sandbox,
  type SandboxOptions,
} from '@custody/runner';
import { parseDuration, systemContext } from '@custody/server';
import { run } from '../command-context.ts';
import { CliError, UsageError, exitCodes } from '../exit-codes.ts';
import { table } from '../output.ts';
import { allOption, fetchList, hintMore, limitOption, type PageFlags } from '../pagination.ts';
import { extendUp } from './server.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const custodyBin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'custody.js');
// Set by `custody up` for its local runner, whose standard input is a pipe from `up`.
const exitWithParentEnv = 'CUSTODY_RUNNER_EXIT_WITH_PARENT';
const inside = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);

const usageCodes: RunnerErrorCode[] = [
  'RUNNER_TOKEN_MISSING',
  'RUNNER_STEP_USER_INVALID',
  'RUNNER_PATH_INVALID',
];

// The runner's start-up errors as CLI errors: the code, what went wrong and how to solve it.
function cliError(err: unknown): unknown {
  if (!(err instanceof RunnerError)) return err;
  return new CliError(
    `${err.message}. ${err.solve}`,
    usageCodes.includes(err.code) ? exitCodes.usage : exitCodes.failure,
    err.code,
  );
}

async function sandboxOf(
  opts: {
    unsafeNoSandbox?: boolean;
    bwrap?: string;
    stepUser?: string;
    writableDir?: string[] | undefined;
    readOnlyDir?: string[] | undefined;
  },
  hiddenPaths: string[],
): Promise<Sandbox> {
  const options: SandboxOptions = {
    unsafeNoSandbox: opts.unsafeNoSandbox === true,
    writableDirs: opts.writableDir ?? [],
    readOnlyDirs: opts.readOnlyDir ?? [],
    hiddenPaths,
    ...(opts.bwrap !== undefined ? { bwrap: opts.bwrap } : {}),
    ...(opts.stepUser !== undefined ? { stepUser: opts.stepUser } : {}),
  };
  try {
    return await createSandbox(options);
  } catch (err) {
    throw cliError(err);
  }
}

interface RunnerFlags {
  pool?: string[];
  workDir: string;
  name?: string;
  maxJobs?: string;
  tokenFile?: string;
  unsafeNoSandbox?: boolean;
  bwrap?: string;
  stepUser?: string;
  writableDir?: string[];
  readOnlyDir?: string[];
  hide?: string[];
}

export function registerRunnerCommands(program: Command): void {
  const runners = program.command('runners').description('Runner tokens and registered runners');
  runners
    .command('token <name>')
    .description('Create a runner token (service account runner-NAME) scoped to pools')
    .requiredOption('--pools <pools>', 'comma-separated pools it may serve')
    .option('--ttl <duration>', 'lifetime', '90d')
    .action(
      run(async (ctx, name: string, opts: { pools: string; ttl: string }) => {
        const t = await ctx
          .client()
          .request<{ token: string; pools: string[]; expiresAt: string }>(
            'POST',
            '/api/v1/runners/tokens',
            {
              json: { name, pools: opts.pools.split(',').filter(Boolean), ttl: opts.ttl },
            },
          );
        ctx.out.result(t, () => t.token);
      }),
    );
  runners
    .command('list')
    .description('List registered runners, newest first')
    .option(...limitOption)
    .option(...allOption)
    .action(
      run(async (ctx, opts: PageFlags) => {
        const listed = await fetchList<{
          id: string;
          name: string;
          pools: string[];
          lastSeenAt: string;
        }>(ctx.client(), '/api/v1/runners', { flags: opts });
        const { items } = listed;
        hintMore(ctx.out, listed, 'runners');
        ctx.out.result(items, () =>
          table([
            ['ID', 'NAME', 'POOLS', 'LAST SEEN'],
            ...items.map((r) => [r.id, r.name, r.pools.join(','), r.lastSeenAt]),
          ]),
        );
      }),
    );

  program
    .command('runner')
    .description(
      'Run a runner agent: lease jobs of the given pools from the server and run each step in a bubblewrap sandbox',
    )
    .option('--pool <pool>', 'a pool to serve (repeatable or comma-separated)', collect)
    .option('--work-dir <dir>', 'where job workspaces are created', './.custody-runner')
    .option('--name <name>', 'runner name (default: host-pid)')
    .option('--max-jobs <n>', 'exit after this many jobs')
    .option(
      '--token-file <file>',
      `file holding the runner token, mode 0600 (or env ${runnerTokenEnv}; never --token)`,
    )
    .option(
      '--unsafe-no-sandbox',
      "run steps without a sandbox (unsafe): they see the host's files and processes, with the runner's own rights unless it runs as root",
    )
    .option('--bwrap <path>', 'the bubblewrap binary (default /usr/bin/bwrap, else bwrap on PATH)')
    .option(
      '--step-user <user>',
      'who steps run as when the runner is root: a name or UID[:GID] (default 65534)',
    )
    .option(
      '--writable-dir <dir>',
      'a host directory steps may write, at the same path (repeatable)',
      collect,
    )
    .option('--read-only-dir <dir>', 'a host directory steps may read (repeatable)', collect)
    .option(
      '--hide <path>',
      'a host path steps never see, even inside a directory they may read (repeatable)',
      collect,
    )
    .action(
      run(async (ctx, opts: RunnerFlags) => {
        const server = ctx.options.server ?? process.env.CUSTODY_SERVER;
        let token: string;
        try {
          const taken = takeRunnerToken({ tokenFile: opts.tokenFile, flag: ctx.options.token });
          token = taken.token;
          for (const w of taken.warnings) process.stderr.write(`warning: ${w}\n`);
        } catch (err) {
          throw cliError(err);
        }
        if (!server) throw new UsageError('custody runner needs --server URL (or CUSTODY_SERVER)');
        if (opts.maxJobs !== undefined && !/^\d+$/.test(opts.maxJobs))
          throw new UsageError('--max-jobs is a number');
        const pools = (opts.pool ?? []).flatMap((p) => p.split(',')).filter(Boolean);
        if (pools.length === 0) pools.push('default');
        const workDir = path.resolve(opts.workDir);
        const hidden = [
          workDir,
          ...(opts.tokenFile ? [path.resolve(opts.tokenFile)] : []),
          ...(opts.hide ?? []).map((h) => path.resolve(h)),
        ];
        const sandbox = await sandboxOf(opts, hidden);
        const abort = new AbortController();
        process.once('SIGTERM', () => abort.abort());
        process.once('SIGINT', () => abort.abort());
        // The local runner of `custody up` ends with it, however it ends (steps die with it).
        if (process.env[exitWithParentEnv] === '1')
          process.stdin.on('close', () => process.exit(1)).resume();
        delete process.env[exitWithParentEnv];
        const { jobs } = await runAgent({
          server,
          token,
          pools,
          workDir,
          sandbox,
          signal: abort.signal,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.maxJobs ? { maxJobs: Number(opts.maxJobs) } : {}),
        });
        ctx.out.result({ jobs }, () => `runner stopped after ${jobs} jobs`);
      }),
    );

  extendUp(startLocalRunner);
}

// `custody up` starts one local runner serving every pool unless --runner-pools says otherwise:
// a `custody runner` child process, sandboxed like any remote runner, its token in its
// environment, its workspaces outside the data directory.
const startLocalRunner: Parameters<typeof extendUp>[0] = async (server, { dataDir, flags }) => {
  if (flags.runner === false) return;
  const pools =
    typeof flags.runnerPools === 'string' ? flags.runnerPools.split(',').filter(Boolean) : ['*'];
  const data = path.resolve(dataDir);
  const workDir = path.resolve(
    typeof flags.runnerWorkDir === 'string' ? flags.runnerWorkDir : `${data}-runner`,
  );
  if (inside(workDir, data) || inside(data, workDir))
    throw new UsageError('--runner-work-dir must lie outside the data directory');
  const writable = Array.isArray(flags.runnerWritableDir)
    ? (flags.runnerWritableDir as string[])
    : [];
  const unsafe = flags.runnerUnsafeNoSandbox === true;
  // Refuse before anything is started or any token made.
  await sandboxOf({ unsafeNoSandbox: unsafe, writableDir: writable, readOnlyDir: [] }, [
    data,
    workDir,
  ]);
  const { token } = await server.app.services.runners.replaceToken(
    systemContext(server.app, 'local-runner'),
    { name: 'local', pools, ttlMs: parseDuration(server.app.config.tokenMaxTtl)! },
  );
  const args = [
    custodyBin,
    'runner',
    '--server',
    server.url,
    '--name',
    'local',
    '--pool',
    pools.join(','),
    '--work-dir',
    workDir,
    '--hide',
    data,
    ...writable.flatMap((d) => ['--writable-dir', path.resolve(d)]),
    ...(unsafe ? ['--unsafe-no-sandbox'] : []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...runnerEnvironment(process.env), [runnerTokenEnv]: token, [exitWithParentEnv]: '1' },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  let closing = false;
  child.once('exit', (code, signal) => {
    if (!closing)
      process.stderr.write(
        `local runner exited (${signal ?? `code ${code}`}); jobs wait for another runner\n`,
      );
  });
  return {
    async close() {
      closing = true;
      await stopChild(child);
    },
  };
};

// The server's configuration (database URL, keys) is no business of the runner's.
function runnerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env))
    if (!/^(CUSTODY_|PG)/.test(k) && k !== 'DATABASE_URL') out[k] = v;
  return out;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
