import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Sandbox } from './sandbox.ts';
import { killGroup, type StepHandle, type StepRunner, type StepStart } from './step-process.ts';

// One bubblewrap sandbox per job, its steps started inside it one after another: setting up
// the namespaces and mounts costs more than a step of `true`, so it is paid once per job, not
// once per step. Steps of a job share its workspace anyway; nothing else carries over: each
// step gets only its own environment, runs in its own session and process group, and when it
// ends everything it left behind is killed before the next one starts.
//
// Inside, a small supervisor reads step requests (NUL-separated: token, directory, script,
// environment) on its standard input and answers on its standard output, after the step's
// merged output, with `\0TOKEN:EXIT\0`; the token is fresh per step and never in a step's
// reach by its environment, arguments or files.
const supervisor = `exec 5<&0 0</dev/null
while IFS= read -r -d '' token <&5; do
  IFS= read -r -d '' dir <&5
  IFS= read -r -d '' script <&5
  IFS= read -r -d '' n <&5
  envs=()
  for ((i = 0; i < n; i++)); do IFS= read -r -d '' e <&5; envs+=("$e"); done
  (cd "$dir" && exec setsid env -i "\${envs[@]}" bash -eo pipefail -c "$script") 5<&- 2>&1 &
  wait $!
  code=$?
  kill -KILL -1 2>/dev/null
  printf '\\0%s:%d\\0' "$token" "$code"
  unset token dir script envs e
done`;

interface Current {
  marker: string;
  buffer: string;
  onOutput: (text: string) => void;
  resolve: (code: number | null) => void;
}

interface Instance {
  child: ChildProcess;
  current?: Current | undefined;
}

export class SandboxedSteps implements StepRunner {
  private instance: Instance | undefined;

  constructor(
    private readonly sandbox: Sandbox,
    private readonly jobDir: string,
  ) {}

  start(step: StepStart): StepHandle {
    const instance = this.instance ?? (this.instance = this.launch());
    const token = randomBytes(16).toString('hex');
    const done = new Promise<number | null>((resolve) => {
      instance.current = { marker: `\0${token}:`, buffer: '', onOutput: step.onOutput, resolve };
    });
    const env = Object.entries(step.env).map(([k, v]) => `${k}=${v}`);
    const fields = [token, this.sandbox.jobView(this.jobDir) + step.cwd.slice(this.jobDir.length)];
    fields.push(step.script, String(env.length), ...env);
    instance.child.stdin!.write(fields.join('\0') + '\0');
    return { done, kill: () => this.kill(instance) };
  }

  private launch(): Instance {
    const cmd = this.sandbox.command({
      jobDir: this.jobDir,
      cwd: this.jobDir,
      argv: ['bash', '-c', supervisor],
    });
    const child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      detached: true, // its own process group: the runner kills the sandbox as a whole
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    (child.stdio[3] as Writable).on('error', () => {}).end(cmd.fd3 ?? '');
    child.stdin!.on('error', () => {});
    const instance: Instance = { child };
    const out = new StringDecoder('utf8');
    child.stdout!.on('data', (d: Buffer) => this.output(instance, out.write(d)));
    // bubblewrap's own complaints (a mount it could not make) go to the step that waits.
    const err = new StringDecoder('utf8');
    child.stderr!.on('data', (d: Buffer) => instance.current?.onOutput(err.write(d)));
    child.on('error', (e) => instance.current?.onOutput(`${e.message}\n`));
    child.on('close', () => {
      if (this.instance === instance) this.instance = undefined;
      const current = instance.current;
      instance.current = undefined;
      if (current) {
        current.onOutput(current.buffer);
        current.resolve(null);
      }
    });
    return instance;
  }

  // Output up to the current step's end marker is its own; the marker carries its exit code.
  private output(instance: Instance, text: string): void {
    const current = instance.current;
    if (!current) return;
    current.buffer += text;
    const at = current.buffer.indexOf(current.marker);
    if (at >= 0) {
      const end = current.buffer.indexOf('\0', at + current.marker.length);
      if (end < 0) return;
      current.onOutput(current.buffer.slice(0, at));
      instance.current = undefined;
      current.resolve(Number(current.buffer.slice(at + current.marker.length, end)));
      return;
    }
    // Keep what could be the beginning of the marker; hand on the rest.
    const keep = current.marker.length + 12;
    if (current.buffer.length > keep) {
      current.onOutput(current.buffer.slice(0, -keep));
      current.buffer = current.buffer.slice(-keep);
    }
  }

  // The step cannot be told apart from its sandbox from outside: both go, and the next step
  // starts in a fresh one.
  private kill(instance: Instance): void {
    if (this.instance === instance) this.instance = undefined;
    const pid = instance.child.pid;
    killGroup(pid, 'SIGTERM');
    setTimeout(() => killGroup(pid, 'SIGKILL'), 3000).unref();
  }

  close(): void {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) killGroup(instance.child.pid, 'SIGKILL');
  }
}
