import { CommanderError } from 'commander';
import { ApiError } from './client.ts';
import { CliError, exitCodes } from './exit-codes.ts';

// How a failed command reports itself on standard error. Text: `error: CODE: message`, then the
// server's details that help (the approval request to decide, each invalid field, when to
// retry) and the request id. `--output json`: one object `{"error": {...}}`, the server's error
// object as it was sent (code, message, details, requestId).

const maxListed = 20;
// Details whose key alone would not say what to do.
const labels: Record<string, string> = {
  retryAfter: 'try again after',
  retryAfterSeconds: 'try again in (seconds)',
};

export function reportError(
  err: unknown,
  options: { json: boolean; write: (s: string) => void },
): number {
  const { json, write } = options;
  if (err instanceof CommanderError) {
    // In text mode commander has printed its message and the command's help already.
    if (json)
      write(
        JSON.stringify({
          error: { code: 'CLI_USAGE', message: err.message.replace(/^error: /, '') },
        }) + '\n',
      );
    return exitCodes.usage;
  }
  if (err instanceof CliError) {
    if (json) write(JSON.stringify({ error: errorObject(err) }) + '\n');
    else write(errorText(err));
    return err.exitCode;
  }
  const message = (err as Error)?.message ?? String(err);
  write(
    json ? JSON.stringify({ error: { code: 'CLI_ERROR', message } }) + '\n' : `error: ${message}\n`,
  );
  return exitCodes.failure;
}

function errorObject(err: CliError): Record<string, unknown> {
  if (err instanceof ApiError && err.body.error) return { ...err.body.error };
  return {
    code: err.code ?? 'CLI_ERROR',
    message: err.message,
    ...(err.details ? { details: err.details } : {}),
  };
}

export function errorText(err: CliError): string {
  const lines = [`error: ${err.message}`];
  if (err.details) lines.push(...detailLines(err.details, err.message));
  if (err instanceof ApiError && err.body.error?.requestId)
    lines.push(`  request id: ${err.body.error.requestId}`);
  return lines.join('\n') + '\n';
}

// One line per detail; lists (validation issues, manifest errors) one line per entry, unless
// the message already says every entry.
export function detailLines(details: Readonly<Record<string, unknown>>, message = ''): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(details)) {
    if (value === undefined || value === null) continue;
    const key = labels[name] ?? name;
    if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) {
      const entries = value.map(listEntry);
      if (entries.every((e) => message.includes(e))) continue;
      lines.push(`  ${key}:`);
      for (const entry of entries.slice(0, maxListed)) lines.push(`    ${entry}`);
      if (value.length > maxListed) lines.push(`    … and ${value.length - maxListed} more`);
    } else if (Array.isArray(value)) {
      lines.push(`  ${key}: ${value.map(String).join(', ')}`);
    } else if (typeof value === 'object') {
      lines.push(`  ${key}: ${cut(JSON.stringify(value))}`);
    } else {
      lines.push(`  ${key}: ${String(value)}`);
    }
  }
  return lines;
}

// `{path, message}` (request validation), `{document, path, line, column, message}` (manifests).
function listEntry(item: unknown): string {
  if (typeof item !== 'object' || item === null) return String(item);
  const o = item as Record<string, unknown>;
  if (typeof o.message !== 'string') return cut(JSON.stringify(item));
  const where = [
    typeof o.document === 'number' ? `document ${o.document + 1}` : '',
    typeof o.path === 'string' && o.path ? o.path : '',
  ]
    .filter(Boolean)
    .join(', ');
  const at = typeof o.line === 'number' ? ` (line ${o.line}, column ${String(o.column)})` : '';
  return where || at ? `${where}${at}: ${o.message}` : o.message;
}

function cut(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
