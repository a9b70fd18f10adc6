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
    // Printed under the message (text) or as `error.details` (JSON).
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, exitCodes.usage, 'CLI_USAGE');
  }
}
