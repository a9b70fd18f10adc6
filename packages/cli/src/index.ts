export { main, buildProgram } from './main.ts';
export { exitCodes, CliError, UsageError } from './exit-codes.ts';
export { ApiClient, ApiError } from './client.ts';
export { extendUp, type UpExtension } from './commands/server.ts';
