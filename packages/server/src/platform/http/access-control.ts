import type { Actor, Guard } from '../context.ts';

// Implemented by the identity module; the HTTP layer only needs these two operations.
export interface AccessControl {
  // Resolves the caller from the Authorization header (or session cookie); on failure it
  // records a denied audit entry and throws a 401 DomainError.
  authenticate(input: {
    authorization: string | undefined;
    cookie: string | undefined;
    ip: string;
    requestId: string;
  }): Promise<Actor>;
  guardFor(actor: Actor, requestId: string): Guard;
}
