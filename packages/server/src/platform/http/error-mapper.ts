import type { FastifyError } from 'fastify';
import { DomainError, platformErrors, type ErrorCategory } from '../errors.ts';

export const statusByCategory: Record<ErrorCategory, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; requestId: string };
}

// The one place where errors become HTTP responses.
export function toHttpError(
  err: unknown,
  requestId: string,
): { status: number; body: ErrorBody; internal: boolean } {
  let domain: DomainError;
  if (isStorageFull(err)) {
    // Logged: an operator must act. The transaction has rolled back, so nothing was written.
    domain = new DomainError(platformErrors.STORAGE_FULL);
    return {
      status: statusByCategory[domain.category],
      body: present(domain, requestId),
      internal: true,
    };
  }
  if (err instanceof DomainError) {
    domain = err;
  } else {
    const fe = err as Partial<FastifyError>;
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        domain = new DomainError(platformErrors.REQUEST_BODY_TOO_LARGE);
        break;
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        domain = new DomainError(platformErrors.REQUEST_UNSUPPORTED_MEDIA_TYPE);
        break;
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        domain = new DomainError(platformErrors.REQUEST_MALFORMED_JSON);
        break;
      default:
        if (fe.statusCode === 400 && err instanceof SyntaxError) {
          domain = new DomainError(platformErrors.REQUEST_MALFORMED_JSON);
        } else {
          domain = new DomainError(platformErrors.INTERNAL_ERROR);
          return { status: 500, body: present(domain, requestId), internal: true };
        }
    }
  }
  return {
    status: statusByCategory[domain.category],
    body: present(domain, requestId),
    internal: domain.category === 'internal',
  };
}

// SQLite `SQLITE_FULL` (also raised at `max_page_count`), PostgreSQL `53100` disk_full,
// ENOSPC/EDQUOT from the file system; looked for along the `cause` chain.
const storageFullCodes = new Set(['SQLITE_FULL', '53100', 'ENOSPC', 'EDQUOT']);

export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && storageFullCodes.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function present(err: DomainError, requestId: string): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
      requestId,
    },
  };
}
