import type { ApiClient } from './client.ts';
import { CliError, exitCodes, UsageError } from './exit-codes.ts';
import type { Output } from './output.ts';

// List commands read one page (`--limit N`, the server's default otherwise) or, with `--all`,
// follow `next` until the listing ends; when more exist they say so on standard error, so
// `--output json` still prints one JSON document.

export interface PageFlags {
  limit?: string;
  all?: boolean;
  allPages?: boolean;
}

const allPageSize = 1000;
// What the server returns when no `limit` is given.
export const defaultPageSize = 100;

// Spread into `.option(...)`: `.option(...limitOption).option(...allOption)`.
export const limitOption = [
  '--limit <n>',
  'at most this many per page (the server allows up to 1000)',
] as const;
export const allOption = ['--all', 'follow every page to the end of the listing'] as const;

export interface Listed<T> {
  readonly items: T[];
  // Where the next page starts, when more exist and `--all` was not given.
  readonly next: string | number | null;
}

export async function fetchList<T>(
  client: ApiClient,
  path: string,
  options: {
    flags: PageFlags;
    query?: Record<string, string | number | boolean | undefined>;
    // The response field holding the items (`items` unless the listing predates pagination).
    field?: string;
    // How the next page is asked for: `cursor` (opaque) or `after` (the audit trail's seq).
    cursorParam?: 'cursor' | 'after';
    start?: string | number | undefined;
  },
): Promise<Listed<T>> {
  const all = options.flags.all === true || options.flags.allPages === true;
  const limit = parseLimit(options.flags.limit) ?? (all ? allPageSize : undefined);
  const param = options.cursorParam ?? 'cursor';
  const items: T[] = [];
  let next: string | number | null | undefined = options.start;
  const seen = new Set<string>();
  for (;;) {
    const body: Record<string, unknown> = await client.request<Record<string, unknown>>(
      'GET',
      path,
      {
        query: {
          ...options.query,
          limit,
          ...(next !== undefined && next !== null ? { [param]: next } : {}),
        },
      },
    );
    items.push(...((body[options.field ?? 'items'] as T[] | undefined) ?? []));
    next = (body.next as string | number | null | undefined) ?? null;
    if (!all || next === null) return { items, next };
    if (seen.has(String(next)))
      throw new CliError(
        `the server repeated a page cursor for ${path}`,
        exitCodes.failure,
        'CLI_PAGINATION_LOOP',
      );
    seen.add(String(next));
  }
}

export function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`--limit must be a positive whole number, not ${text}`);
  return Number(text);
}

export function hintMore(
  out: Output,
  listed: Listed<unknown>,
  what: string,
  allFlag = '--all',
): void {
  if (listed.next === null) return;
  out.info(
    `(more ${what} exist: add ${allFlag} to list them all, or a larger --limit; ${listed.items.length} shown)`,
  );
}
