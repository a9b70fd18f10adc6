import { readFileSync, statSync } from 'node:fs';
import { RunnerError } from './errors.ts';

export const runnerTokenEnv = 'CUSTODY_RUNNER_TOKEN';

// The runner's token comes from a file or the environment, never from the command line, where
// every user of the machine can read it (ps, /proc/PID/cmdline). Whatever the source, the
// variables go from the environment before any step starts.
export function takeRunnerToken(input: {
  tokenFile?: string | undefined;
  // The global --token flag: still accepted, with a warning.
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
}): { token: string; warnings: string[] } {
  const env = input.env ?? process.env;
  const fromEnv = env[runnerTokenEnv];
  const generic = env.CUSTODY_TOKEN;
  delete env[runnerTokenEnv];
  delete env.CUSTODY_TOKEN;
  const warnings: string[] = [];
  if (input.flag)
    warnings.push(
      '--token puts the runner token on the command line, where other users of this machine can read it; use --token-file FILE or CUSTODY_RUNNER_TOKEN',
    );
  if (input.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(input.tokenFile, 'utf8');
    } catch (err) {
      throw new RunnerError('RUNNER_TOKEN_FILE_UNREADABLE', (err as Error).message);
    }
    if ((statSync(input.tokenFile).mode & 0o077) !== 0)
      warnings.push(`${input.tokenFile} is readable by other users of this machine; chmod 600 it`);
    const token = text.trim();
    if (!token)
      throw new RunnerError('RUNNER_TOKEN_FILE_UNREADABLE', `${input.tokenFile} is empty`);
    return { token, warnings };
  }
  if (fromEnv) return { token: fromEnv, warnings };
  if (input.flag) return { token: input.flag, warnings };
  if (generic) return { token: generic, warnings };
  throw new RunnerError('RUNNER_TOKEN_MISSING', 'no runner token given');
}
