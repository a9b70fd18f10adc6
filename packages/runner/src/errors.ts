// The runner's own failures at start-up, each with a stable code and how to solve it
// (listed in docs/reference/runners.md).
export const runnerErrorCodes = {
  RUNNER_SANDBOX_UNAVAILABLE:
    'Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`) and allow user namespaces, or pass --bwrap PATH; only as a last resort start the runner with --unsafe-no-sandbox.',
  RUNNER_STEP_USER_INVALID:
    'Pass --step-user as a user name or UID[:GID] of an unprivileged account (never root); only a runner started as root can run steps as another user.',
  RUNNER_TOKEN_MISSING:
    'Give the runner its token with --token-file FILE (mode 0600) or the CUSTODY_RUNNER_TOKEN environment variable (`custody runners token NAME --pools POOL` makes one).',
  RUNNER_TOKEN_FILE_UNREADABLE:
    'Check the path given to --token-file and that the runner can read it; the file holds the token only.',
  RUNNER_PATH_INVALID:
    'Name an existing absolute directory that is not a system directory (/usr, /etc, /proc, /dev) for --writable-dir and --read-only-dir.',
} as const;

export type RunnerErrorCode = keyof typeof runnerErrorCodes;

export class RunnerError extends Error {
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }

  get solve(): string {
    return runnerErrorCodes[this.code];
  }
}
