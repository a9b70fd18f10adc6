import type { Actor, AuditRecord, RequestContext } from '../context.ts';
import { DomainError, platformErrors } from '../errors.ts';
import type { Rate } from '../rate.ts';
import { addressKey } from './client-address.ts';
import { TokenBuckets, type Take } from './token-buckets.ts';

export type LimitName = 'address' | 'principal' | 'unauthenticated';

export interface RequestLimitsOptions {
  readonly perAddress: Rate | 'off';
  readonly perPrincipal: Rate | 'off';
  // Requests that end unauthenticated (401, or 403 on a public route such as a bad webhook
  // signature), per address; when used up, the address is refused before authentication.
  readonly unauthenticated: Rate | 'off';
  // Records a 429 as a denied attempt (the unit of work aggregates them per source).
  readonly recordAttempt: (
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    record: AuditRecord,
  ) => Promise<void>;
  readonly now?: () => number;
}

export interface RequestFacts {
  readonly ip: string;
  readonly method: string;
  readonly route: string;
  readonly requestId: string;
}

export const rateLimitedAction = 'platform.rate-limit.exceeded';

// API rate limits, in memory per replica: N replicas behind a load balancer admit up to N
// times a limit. Token buckets; a limit of `off` is never checked.
export class RequestLimits {
  private readonly address: TokenBuckets | undefined;
  private readonly principal: TokenBuckets | undefined;
  private readonly failures: TokenBuckets | undefined;

  constructor(private readonly options: RequestLimitsOptions) {
    const make = (rate: Rate | 'off') =>
      rate === 'off' ? undefined : new TokenBuckets(rate, options.now);
    this.address = make(options.perAddress);
    this.principal = make(options.perPrincipal);
    this.failures = make(options.unauthenticated);
  }

  // Before routing to a handler, before any authentication work.
  async beforeRequest(req: RequestFacts): Promise<void> {
    const key = addressKey(req.ip);
    const failures = this.failures?.check(key);
    if (failures && !failures.ok) await this.refuse('unauthenticated', failures, req);
    const taken = this.address?.take(key);
    if (taken && !taken.ok) await this.refuse('address', taken, req);
  }

  // Once the caller is known.
  async afterAuthentication(actor: Actor, req: RequestFacts): Promise<void> {
    if (actor.type === 'anonymous' || actor.type === 'system') return;
    const taken = this.principal?.take(`${actor.type}:${actor.id ?? actor.name}`);
    if (taken && !taken.ok) await this.refuse('principal', taken, req, actor);
  }

  // A request ended without an authenticated caller: it spends the address's budget.
  unauthenticatedResponse(ip: string): void {
    this.failures?.take(addressKey(ip));
  }

  private async refuse(
    limit: LimitName,
    take: Extract<Take, { ok: false }>,
    req: RequestFacts,
    actor?: Actor,
  ): Promise<never> {
    const retryAfterSeconds = Math.max(1, Math.ceil(take.retryAfterMs / 1000));
    await this.options.recordAttempt(
      {
        actor: actor ?? {
          type: 'anonymous',
          id: null,
          name: 'anonymous',
          authMethod: 'none',
          ip: req.ip,
        },
        requestId: req.requestId,
      },
      {
        action: rateLimitedAction,
        resource: { type: 'route', id: `${req.method} ${req.route}` },
        outcome: 'denied',
        details: { code: platformErrors.RATE_LIMITED.code, limit },
      },
    );
    throw new DomainError(
      platformErrors.RATE_LIMITED,
      `too many requests (${limit} limit); retry in ${retryAfterSeconds}s`,
      { limit, retryAfterSeconds },
    );
  }
}
