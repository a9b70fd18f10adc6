import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Sandbox, StepUser } from './sandbox.ts';

// A job's directory: `src/` the checkout (where steps run), `artifacts/` what earlier stages
// made, `home/` the steps' HOME. Steps see it at /job when sandboxed, at its host path when not.
export interface Workspace {
  readonly dir: string;
  readonly src: string;
  readonly artifacts: string;
  readonly home: string;
  // The path a step sees for a host path inside the workspace.
  view(hostPath: string): string;
}

export async function createWorkspace(
  workDir: string,
  job: { jobId: string; attempt: number },
  sandbox: Sandbox,
): Promise<Workspace> {
  const dir = path.join(
    path.resolve(workDir),
    `${job.jobId}-${job.attempt}-${randomBytes(3).toString('hex')}`,
  );
  await mkdir(path.join(dir, 'home'), { recursive: true, mode: 0o700 });
  const root = sandbox.jobView(dir);
  return {
    dir,
    src: path.join(dir, 'src'),
    artifacts: path.join(dir, 'artifacts'),
    home: path.join(dir, 'home'),
    view: (hostPath) => path.join(root, path.relative(dir, hostPath)),
  };
}

// Steps of a root runner run as another user: the workspace becomes theirs, symlinks included
// but never followed (-h, and -R does not traverse them).
export function handOver(ws: Workspace, user: StepUser | undefined): Promise<void> {
  if (!user) return Promise.resolve();
  return new Promise((resolve, reject) =>
    execFile('chown', ['-R', '-h', `${user.uid}:${user.gid}`, '--', ws.dir], (err) =>
      err
        ? reject(new Error(`cannot hand the workspace to the step user: ${err.message}`))
        : resolve(),
    ),
  );
}

// Reads a file a step made, refusing anything that resolves outside the workspace: the runner
// reads with its own rights, so a symlink to the runner's token or the server's keys must not
// become evidence.
export async function readWorkspaceFile(
  ws: Workspace,
  rel: string,
): Promise<Buffer | 'missing' | 'outside'> {
  let real: string;
  try {
    real = await realpath(path.resolve(ws.src, rel));
  } catch {
    return 'missing';
  }
  const root = await realpath(ws.dir);
  if (!real.startsWith(root + path.sep)) return 'outside';
  let handle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return 'missing';
  }
  try {
    if (!(await handle.stat()).isFile()) return 'missing';
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export async function removeWorkspace(ws: Workspace): Promise<void> {
  await rm(ws.dir, { recursive: true, force: true }).catch(() => {});
}
