import type { AuditRecord } from './context.ts';
import type { AnyTx } from './db/database.ts';

// Domain errors carry a stable code; HTTP status is derived from the error's category by
// the one error mapper in http/error-mapper.ts. Every code is declared in a module's
// `errors.ts` through `defineErrors` so docs/reference/errors.md can be checked against it.

export type ErrorCategory =
  | 'invalid' // 400: the request is malformed or fails validation
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'conflict' // 409
  | 'too_large' // 413
  | 'unsupported_media' // 415
  | 'rate_limited' // 429: too many requests from one address or principal; retry later
  | 'unavailable' // 503: a dependency is down (or out of space); fail closed
  | 'internal'; // 500

export interface ErrorDefinition {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly message: string;
  readonly solve: string;
}

// Written after the use case's transaction rolled back, in a transaction of its own: the
// record of a denied attempt that must outlive the refusal (a policy decision).
export type AfterRollback = (tx: AnyTx, record: (r: AuditRecord) => void) => Promise<void>;

export class DomainError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown> | undefined;
  afterRollback: AfterRollback | undefined;

  constructor(
    def: ErrorDefinition,
    message?: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message ?? def.message, options);
    this.name = 'DomainError';
    this.code = def.code;
    this.category = def.category;
    this.details = details;
  }
}

const registry = new Map<string, ErrorDefinition>();

export function defineErrors<const T extends Record<string, Omit<ErrorDefinition, 'code'>>>(
  defs: T,
): { readonly [K in keyof T]: ErrorDefinition } {
  const out: Record<string, ErrorDefinition> = {};
  for (const [code, def] of Object.entries(defs)) {
    if (registry.has(code) && registry.get(code)?.message !== def.message) {
      throw new Error(`error code ${code} declared twice`);
    }
    const full = { code, ...def };
    registry.set(code, full);
    out[code] = full;
  }
  return out as { readonly [K in keyof T]: ErrorDefinition };
}

export function allErrorDefinitions(): ErrorDefinition[] {
  return [...registry.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

export const platformErrors = defineErrors({
  REQUEST_INVALID: {
    category: 'invalid',
    message: 'The request does not match the schema',
    solve:
      'Read `details.issues`: each names the field path and what is wrong. Fix the request and retry.',
  },
  REQUEST_MALFORMED_JSON: {
    category: 'invalid',
    message: 'The request body is not valid JSON',
    solve: 'Send a well-formed JSON document with `Content-Type: application/json`.',
  },
  REQUEST_BODY_TOO_LARGE: {
    // Bad input like any other (400, as the API contract states), with its own code.
    category: 'invalid',
    message: 'The request body exceeds the configured limit',
    solve: 'Send a smaller body, or raise `bodyLimit` in the server configuration.',
  },
  REQUEST_UNSUPPORTED_MEDIA_TYPE: {
    category: 'unsupported_media',
    message: 'The request content type is not supported by this route',
    solve: 'Use `application/json` (or `application/yaml` for manifests).',
  },
  ROUTE_NOT_FOUND: {
    category: 'not_found',
    message: 'No such route',
    solve: 'Check the method and path against /api/v1/openapi.json.',
  },
  INTERNAL_ERROR: {
    category: 'internal',
    message: 'An unexpected error occurred',
    solve: 'Retry; if it persists, report it with the request id from the `x-request-id` header.',
  },
  CONFIG_INVALID: {
    category: 'invalid',
    message: 'The configuration is invalid',
    solve: 'Fix the named setting (flag, environment variable or config file) and start again.',
  },
  DATABASE_UNAVAILABLE: {
    category: 'unavailable',
    message: 'The database cannot be reached',
    solve: 'Check `databaseUrl` and that the database server is running.',
  },
  STORAGE_FULL: {
    category: 'unavailable',
    message: 'The server is out of storage space; nothing of this request was written',
    solve:
      'An operator must free or add disk space for the database (and the data directory); then retry the request unchanged.',
  },
  RATE_LIMITED: {
    category: 'rate_limited',
    message: 'Too many requests; slow down',
    solve:
      'Wait the number of seconds in the `Retry-After` header (also `details.retryAfterSeconds`) before retrying. Operators tune the limits with the `rateLimit*` settings.',
  },
  PAGINATION_CURSOR_INVALID: {
    category: 'invalid',
    message: 'The page cursor is not one this listing issued',
    solve:
      'Pass back the `next` value of the previous page unchanged, with the same filters; start again without `cursor` to read from the beginning.',
  },
});
