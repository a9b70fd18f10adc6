import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Sandbox } from './sandbox.ts';

// How a job's steps are started. Each step runs in its own process group, and no step
// outlives its runner: sandboxed steps through bubblewrap (job-sandbox.ts); unsandboxed ones
// through the reaper below.

export interface StepStart {
  // Host path inside the job's directory.
  cwd: string;
  script: string;
  env: Record<string, string>;
  // Standard output and error, merged, as text.
  onOutput: (text: string) => void;
}

export interface StepHandle {
  // The exit code; null when killed or lost.
  readonly done: Promise<number | null>;
  // SIGTERM to the step's group, SIGKILL after a grace period.
  kill(): void;
}

export interface StepRunner {
  start(step: StepStart): StepHandle;
  // Ends whatever is left of the job's processes.
  close(): void;
}

export const stepShell = (script: string) => ['bash', '-eo', 'pipefail', '-c', script];

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

// Unsandboxed steps have no PID namespace to die with, so one small reaper process per runner
// keeps the list of live step groups and kills them all when the runner's end of its pipe
// closes — which the kernel does however the runner dies, kill -9 included. It ignores the
// signals a terminal or service manager sends a whole group, so it outlives the runner.
const reaperScript = `trap '' INT TERM HUP QUIT
declare -A live
while read -r op group; do
  case "$op" in add) live[$group]=1 ;; del) unset "live[$group]" ;; esac
done
for g in "\${!live[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done`;

export class Reaper {
  private process: ChildProcess | undefined;

  track(child: ChildProcess): void {
    const pid = child.pid;
    if (!pid) return;
    const reaper = this.ensure();
    reaper.stdin?.write(`add ${pid}\n`);
    child.once('exit', () => {
      // Whatever the step left behind in its group goes with it.
      killGroup(pid, 'SIGKILL');
      reaper.stdin?.write(`del ${pid}\n`);
    });
  }

  private ensure(): ChildProcess {
    if (this.process && this.process.exitCode === null) return this.process;
    const reaper = spawn('bash', ['-c', reaperScript], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    reaper.unref();
    (reaper.stdin as Socket | null)?.unref();
    reaper.stdin?.on('error', () => {});
    this.process = reaper;
    return reaper;
  }

  close(): void {
    this.process?.stdin?.end();
  }
}

// One process per step, in its own process group, registered with the reaper.
export class DirectSteps implements StepRunner {
  constructor(
    private readonly sandbox: Sandbox,
    private readonly jobDir: string,
    private readonly reaper: Reaper,
  ) {}

  start(step: StepStart): StepHandle {
    const cmd = this.sandbox.command({
      jobDir: this.jobDir,
      cwd: step.cwd,
      argv: stepShell(step.script),
    });
    const child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: step.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cmd.uid !== undefined ? { uid: cmd.uid, gid: cmd.gid } : {}),
    });
    this.reaper.track(child);
    for (const stream of [child.stdout!, child.stderr!]) {
      const decoder = new StringDecoder('utf8');
      stream.on('data', (d: Buffer) => step.onOutput(decoder.write(d)));
    }
    const done = new Promise<number | null>((resolve) => {
      child.on('error', (err) => step.onOutput(`${err.message}\n`));
      child.on('close', (code) => resolve(code));
    });
    return {
      done,
      kill() {
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid, 'SIGKILL'), 3000).unref();
      },
    };
  }

  close(): void {}
}
