import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..', '..');
export const custodyBin = path.join(repoRoot, 'node_modules', '.bin', 'custody');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function custody(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): CliResult {
  const r = spawnSync(custodyBin, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// Starts a long-running `custody` command and resolves once `pattern` appears on stdout.
export async function startCustody(
  args: readonly string[],
  pattern: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: () => string }> {
  const child = spawn(custodyBin, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`)),
      60_000,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`custody ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
  return { child, match, output: () => out };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

// `custody` in the background, for commands that follow a run while the test drives it (a
// synchronous spawn would block the test, and an in-process server with it).
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(custodyBin, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.done = new Promise((resolve) =>
      child.once('exit', (code) =>
        resolve({ status: code ?? -1, stdout: this.stdout, stderr: this.stderr }),
      ),
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    void this.done.then(() => clearTimeout(timer));
  }

  // Resolves once `pattern` appears in standard output or error.
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = (this.stdout + this.stderr).match(pattern);
      if (m) return m;
      if (Date.now() > until)
        throw new Error(
          `timed out waiting for ${pattern}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
