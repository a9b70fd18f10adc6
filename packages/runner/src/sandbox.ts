import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { RunnerError } from './errors.ts';

// Where steps run. With bubblewrap each step gets a fresh mount namespace: the system
// directories read-only, its job's directory (at /job) the only writable place besides a
// private /tmp, a private /proc in its own PID namespace (so it sees no process of the host),
// nothing of the runner's or the server's files, and an unprivileged user. The network stays.

export interface SandboxOptions {
  // Run steps as plain child processes: no isolation at all (announced loudly).
  unsafeNoSandbox?: boolean;
  // The bubblewrap binary (default: /usr/bin/bwrap, else `bwrap` on PATH).
  bwrap?: string;
  // Who steps run as when the runner is root: a user name or UID[:GID] (default 65534).
  stepUser?: string;
  // Host directories steps may write (a local deploy target) or read, at the same path.
  writableDirs?: string[];
  readOnlyDirs?: string[];
  // Host paths steps must never see even where they lie inside a directory steps can read.
  hiddenPaths?: string[];
}

export interface StepUser {
  uid: number;
  gid: number;
}

export interface StepCommand {
  file: string;
  args: string[];
  cwd: string;
  uid?: number;
  gid?: number;
  // Arguments handed to the process on file descriptor 3 (NUL-separated), not on its command
  // line: the mounts name host paths, which a step reading /proc/1/cmdline must not learn.
  fd3?: string;
}

export interface Sandbox {
  readonly kind: 'bubblewrap' | 'none';
  // The account steps run as; undefined: the runner's own.
  readonly user: StepUser | undefined;
  // Where a job's directory appears to its steps.
  jobView(jobDir: string): string;
  // The process to start for `argv` run in `cwd` (a host path inside jobDir).
  command(input: { jobDir: string; cwd: string; argv: string[] }): StepCommand;
  describe(): string;
}

export const sandboxJobRoot = '/job';
const nobody: StepUser = { uid: 65534, gid: 65534 };
const forbiddenRoots = ['/usr', '/etc', '/proc', '/dev', '/sys'];
const under = (p: string, dir: string) =>
  p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/');

function lookupUser(spec: string): StepUser {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(spec);
  let entry: string | undefined;
  try {
    entry = execFileSync('getent', ['passwd', numeric ? numeric[1]! : spec], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    entry = undefined;
  }
  const fields = entry?.trim().split(':');
  if (numeric) {
    const uid = Number(numeric[1]);
    const gid = numeric[2] !== undefined ? Number(numeric[2]) : Number(fields?.[3] ?? uid);
    return { uid, gid };
  }
  if (!fields || fields.length < 4)
    throw new RunnerError('RUNNER_STEP_USER_INVALID', `no user named ${spec}`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

// Root runners drop privileges for steps; others run steps as themselves (and cannot switch).
export function stepUser(
  spec: string | undefined,
  runnerUid = process.getuid?.() ?? -1,
): StepUser | undefined {
  if (runnerUid !== 0) {
    if (spec !== undefined && lookupUser(spec).uid !== runnerUid)
      throw new RunnerError(
        'RUNNER_STEP_USER_INVALID',
        `--step-user ${spec} needs a runner started as root`,
      );
    return undefined;
  }
  const user = spec === undefined ? nobody : lookupUser(spec);
  if (user.uid === 0 || user.gid === 0)
    throw new RunnerError('RUNNER_STEP_USER_INVALID', 'steps never run as root');
  return user;
}

function extraDir(dir: string): string {
  const abs = path.resolve(dir);
  let ok = false;
  try {
    ok = statSync(abs).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok || abs === '/' || forbiddenRoots.some((r) => under(abs, r)))
    throw new RunnerError('RUNNER_PATH_INVALID', `${dir} cannot be given to steps`);
  return abs;
}

function findBwrap(explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return existsSync(explicit) ? path.resolve(explicit) : undefined;
  if (existsSync('/usr/bin/bwrap')) return '/usr/bin/bwrap';
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(path.join(dir, 'bwrap'))) return path.join(dir, 'bwrap');
  return undefined;
}

// The mounts every step gets, computed once: system directories, private /proc, /dev, /tmp,
// then the directories the operator grants, then hidden paths mounted over whatever shows them.
function baseArgs(options: SandboxOptions, user: StepUser | undefined): string[] {
  const args = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  // A root runner sets up the mounts with its own privileges, then setpriv drops to the step
  // user for real; a user namespace run by root would map the step's uid back to host root.
  if (!user && process.getuid?.() !== 0) args.push('--unshare-user');
  args.push('--die-with-parent', '--new-session', '--hostname', 'custody-step');
  args.push('--ro-bind', '/usr', '/usr');
  const visible = ['/usr', '/etc'];
  for (const p of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) args.push('--symlink', readlinkSync(p), p);
    else if (st?.isDirectory()) {
      args.push('--ro-bind', p, p);
      visible.push(p);
    }
  }
  args.push('--ro-bind', '/etc', '/etc', '--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--tmpfs', '/tmp', '--perms', '1777', '--tmpfs', '/var/tmp');
  const extra = [
    ...(options.readOnlyDirs ?? []).map((d) => ({ dir: extraDir(d), flag: '--ro-bind' })),
    ...(options.writableDirs ?? []).map((d) => ({ dir: extraDir(d), flag: '--bind' })),
  ].sort((a, b) => a.dir.length - b.dir.length);
  for (const { dir, flag } of extra) {
    // Parents outside the bound system directories are made empty and traversable: the step
    // sees the path, not what else the host keeps beside it.
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const parent = '/' + parts.slice(0, i).join('/');
      if (!visible.some((v) => under(parent, v))) args.push('--perms', '0755', '--dir', parent);
    }
    args.push(flag, dir, dir);
    visible.push(dir);
  }
  for (const hidden of options.hiddenPaths ?? []) {
    const abs = path.resolve(hidden);
    if (!visible.some((v) => under(abs, v))) continue; // not mounted: nothing to hide
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st?.isDirectory()) args.push('--tmpfs', abs);
    else if (st) args.push('--ro-bind', '/dev/null', abs);
  }
  return args;
}

function bubblewrap(bwrap: string, options: SandboxOptions, user: StepUser | undefined): Sandbox {
  const base = baseArgs(options, user);
  const drop = user
    ? [
        '/usr/bin/setpriv',
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        '--',
      ]
    : [];
  const jobView = () => sandboxJobRoot;
  const sandbox: Sandbox = {
    kind: 'bubblewrap',
    user,
    jobView,
    command({ jobDir, cwd, argv }) {
      const inside = path.join(sandboxJobRoot, path.relative(jobDir, cwd));
      const mounts = [...base, '--bind', jobDir, sandboxJobRoot, '--chdir', inside];
      return {
        file: bwrap,
        args: ['--args', '3', '--', ...drop, ...argv],
        cwd: jobDir,
        fd3: mounts.join('\0') + '\0',
      };
    },
    describe: () =>
      `steps run sandboxed by ${bwrap} as ${user ? `uid ${user.uid} gid ${user.gid}` : 'the runner user in a user namespace'}`,
  };
  return sandbox;
}

async function probe(sandbox: Sandbox): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-sandbox-probe-'));
  try {
    const cmd = sandbox.command({ jobDir: dir, cwd: dir, argv: ['true'] });
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(cmd.file, cmd.args, {
        cwd: cmd.cwd,
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err) => resolve({ code: -1, stderr: err.message }));
      child.on('close', (code) => resolve({ code, stderr }));
      (child.stdio[3] as Writable).on('error', () => {}).end(cmd.fd3 ?? '');
    });
    if (result.code !== 0)
      throw new RunnerError(
        'RUNNER_SANDBOX_UNAVAILABLE',
        `bubblewrap cannot start a sandbox here: ${result.stderr.trim() || `exit ${result.code}`}`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const user = stepUser(options.stepUser);
  if (options.unsafeNoSandbox) {
    return {
      kind: 'none',
      user,
      jobView: (jobDir) => jobDir,
      command: ({ cwd, argv }) => ({
        file: argv[0]!,
        args: argv.slice(1),
        cwd,
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      }),
      describe: () =>
        `steps run WITHOUT a sandbox (--unsafe-no-sandbox)${user ? ` as uid ${user.uid}` : ' as the runner user'}`,
    };
  }
  const bwrap = findBwrap(options.bwrap);
  if (!bwrap)
    throw new RunnerError(
      'RUNNER_SANDBOX_UNAVAILABLE',
      `bubblewrap not found${options.bwrap ? ` at ${options.bwrap}` : ' (/usr/bin/bwrap or on PATH)'}; refusing to run steps unsandboxed`,
    );
  if (user && !existsSync('/usr/bin/setpriv'))
    throw new RunnerError(
      'RUNNER_SANDBOX_UNAVAILABLE',
      '/usr/bin/setpriv (util-linux) is needed to drop privileges for steps',
    );
  const sandbox = bubblewrap(bwrap, options, user);
  await probe(sandbox);
  return sandbox;
}

// Unsandboxed steps of a root runner run as the step user at the workspace's host path, so
// every directory above it must let that user through.
export function assertReachable(dir: string, user: StepUser): void {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    const st = statSync(p);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0)
      throw new RunnerError(
        'RUNNER_PATH_INVALID',
        `uid ${user.uid} cannot reach the work directory through ${p}; choose a --work-dir under directories it may enter (chmod o+x)`,
      );
    if (p === '/') return;
  }
}
