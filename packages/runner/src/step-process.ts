import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Sandbox } from './sandbox.ts';

// Each step runs in its own process group, and no step outlives its runner. Sandboxed steps
// die with it through bubblewrap (--die-with-parent, and the PID namespace ends with its first
// process). Unsandboxed steps have no such guard, so one small reaper process per runner keeps
// the list of live step groups and kills them all when the runner's end of its pipe closes —
// which the kernel does however the runner dies, kill -9 included.

export interface StepProcess {
  readonly child: ChildProcess;
  // SIGTERM to the whole group, SIGKILL after a grace period.
  kill(): void;
}

// Ignores the signals a terminal or service manager sends a whole group, so that it outlives
// the runner long enough to clean up after it.
const reaperScript = `trap '' INT TERM HUP QUIT
declare -A live
while read -r op group; do
  case "$op" in add) live[$group]=1 ;; del) unset "live[$group]" ;; esac
done
for g in "\${!live[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done`;

export class StepLauncher {
  private reaper: ChildProcess | undefined;

  constructor(private readonly sandbox: Sandbox) {}

  start(input: {
    jobDir: string;
    cwd: string;
    argv: string[];
    env: Record<string, string>;
  }): StepProcess {
    const cmd = this.sandbox.command(input);
    const child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: input.env,
      detached: true, // its own process group (and session)
      stdio:
        cmd.fd3 === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe'],
      ...(cmd.uid !== undefined ? { uid: cmd.uid, gid: cmd.gid } : {}),
    });
    if (cmd.fd3 !== undefined) (child.stdio[3] as Writable).on('error', () => {}).end(cmd.fd3);
    if (this.sandbox.kind === 'none' && child.pid) this.track(child.pid, child);
    const group = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
    };
    return {
      child,
      kill() {
        group('SIGTERM');
        setTimeout(() => group('SIGKILL'), 3000).unref();
      },
    };
  }

  private track(pid: number, child: ChildProcess): void {
    const reaper = this.ensureReaper();
    reaper.stdin?.write(`add ${pid}\n`);
    child.once('exit', () => {
      // Whatever the step left behind in its group goes with it.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* group empty */
      }
      reaper.stdin?.write(`del ${pid}\n`);
    });
  }

  private ensureReaper(): ChildProcess {
    if (this.reaper && this.reaper.exitCode === null) return this.reaper;
    const reaper = spawn('bash', ['-c', reaperScript], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    reaper.unref();
    (reaper.stdin as Socket | null)?.unref();
    reaper.stdin?.on('error', () => {});
    this.reaper = reaper;
    return reaper;
  }

  close(): void {
    this.reaper?.stdin?.end();
  }
}
