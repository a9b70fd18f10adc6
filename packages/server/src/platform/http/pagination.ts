import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { PageOf, PageRequest, Position } from '../db/keyset.ts';
import { DomainError, platformErrors } from '../errors.ts';

// Every list answers `{ items, next }`: at most `limit` items and, when more exist, an opaque
// `next` cursor to pass back as `cursor`. A cursor holds a position in the listing's order (keyset
// pagination), never a permission: filters and authorization are applied again on every page,
// so a hand-made cursor can only move where a page starts. It is bound to the listing and its
// filters; one from elsewhere is refused with PAGINATION_CURSOR_INVALID.

export const defaultPageLimit = 100;
export const maxPageLimit = 1000;

// Spread into a route's query schema: `z.object({ ...pageFields, project: ... }).strict()`.
export const pageFields = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      `page size; default ${defaultPageLimit}, larger values are lowered to ${maxPageLimit}`,
    ),
  cursor: z.string().max(2048).optional().describe('the `next` value of the previous page'),
};

export const pageResponse = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next: z.string().nullable() });

export interface Page<T> {
  items: T[];
  next: string | null;
}

// One listing's pages: reads `limit` and `cursor` and writes `next`.
export class Pager {
  readonly request: PageRequest;
  private readonly scope: string;

  constructor(
    query: { readonly limit?: number | undefined; readonly cursor?: string | undefined },
    listing: string,
    filters: Record<string, unknown> = {},
  ) {
    this.scope = scopeOf(listing, filters);
    this.request = {
      limit: Math.min(query.limit ?? defaultPageLimit, maxPageLimit),
      after: query.cursor === undefined ? undefined : decode(query.cursor, this.scope),
    };
  }

  page<T, U = T>(result: PageOf<T>, present?: (item: T) => U): Page<U> {
    return {
      items: present ? result.items.map(present) : (result.items as unknown as U[]),
      next: result.next ? encode(this.scope, result.next) : null,
    };
  }
}

function scopeOf(listing: string, filters: Record<string, unknown>): string {
  const canonical = Object.keys(filters)
    .filter((k) => filters[k] !== undefined)
    .sort()
    .map((k) => [k, filters[k]]);
  return createHash('sha256')
    .update(JSON.stringify([listing, canonical]))
    .digest('base64url')
    .slice(0, 16);
}

function encode(scope: string, position: Position): string {
  return Buffer.from(JSON.stringify({ s: scope, p: position })).toString('base64url');
}

const cursorSchema = z
  .object({
    s: z.string(),
    p: z
      .array(z.union([z.string().max(512), z.number().finite()]))
      .min(1)
      .max(8),
  })
  .strict();

function decode(cursor: string, scope: string): Position {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('the cursor is not one this server issued');
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw invalidCursor('the cursor is not one this server issued');
  if (result.data.s !== scope)
    throw invalidCursor('the cursor belongs to another listing or to other filters');
  return result.data.p;
}

export function invalidCursor(message: string): DomainError {
  return new DomainError(platformErrors.PAGINATION_CURSOR_INVALID, message);
}
