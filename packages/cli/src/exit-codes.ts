// Documented in docs/reference/cli.md.
export const exitCodes = {
  success: 0,
  failure: 1,
  usage: 2,
  permissionDenied: 3,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.failure,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, exitCodes.usage, 'CLI_USAGE');
  }
}
