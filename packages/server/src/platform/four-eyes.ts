import {
  principalOf,
  type Actor,
  type AuditRecord,
  type AuditResource,
  type RequestContext,
} from './context.ts';
import type { AnyDb, AnyTx } from './db/database.ts';
import { DomainError, defineErrors, type ErrorDefinition } from './errors.ts';

// Who may never decide a four-eyes question (approve, reject, activate, review, waive), whatever
// their permissions: someone acting through a token another principal issued for them, and an
// account its requester created for the occasion. Services call these first thing.

export const fourEyesErrors = defineErrors({
  AUTH_DELEGATED_TOKEN_FORBIDDEN: {
    category: 'forbidden',
    message:
      'This token was created for you by someone else; approvals, rejections, activations, reviews and waivers need a token you issued yourself',
    solve:
      'Log in yourself (`custody login`) or create your own token (`custody token create`). A token an administrator created for another principal is impersonation and never decides a four-eyes question; the audit entry names both.',
  },
  APPROVALS_SOCK_PUPPET_FORBIDDEN: {
    category: 'forbidden',
    message: "An account created by the request's author for the occasion cannot approve it",
    solve:
      'Ask someone whose account the author did not create recently (within the `sockPuppetWindow` setting, default 7d, before the request) to approve. `details.chain` shows who created whom.',
  },
});

// Who answers for an action under four-eyes: the issuer of an impersonating token, else the
// actor. A change an administrator makes through a token for bob is the administrator's change:
// record this as its author (or triggerer, requester) so the administrator cannot approve it.
export function accountablePrincipal(actor: Pick<Actor, 'type' | 'name' | 'delegatedBy'>): string {
  return actor.delegatedBy ?? principalOf(actor);
}

interface AttemptRecorder {
  recordAttempt(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    record: AuditRecord,
  ): Promise<void>;
}

async function refuse(
  ctx: Pick<RequestContext, 'actor' | 'requestId'>,
  recorder: AttemptRecorder,
  attempt: { action: string; resource: AuditResource },
  def: ErrorDefinition,
  details: Record<string, unknown>,
): Promise<never> {
  await recorder.recordAttempt(ctx, {
    action: attempt.action,
    resource: attempt.resource,
    outcome: 'denied',
    details: { code: def.code, ...details },
  });
  throw new DomainError(def, undefined, details);
}

/** Refuses (403, audited as denied) a decision made with a token issued by someone else. */
export async function refuseDelegatedDecision(
  ctx: Pick<RequestContext, 'actor' | 'requestId'>,
  recorder: AttemptRecorder,
  action: string,
  resource: AuditResource,
): Promise<void> {
  const delegatedBy = ctx.actor.delegatedBy;
  if (!delegatedBy) return;
  await refuse(ctx, recorder, { action, resource }, fourEyesErrors.AUTH_DELEGATED_TOKEN_FORBIDDEN, {
    delegatedBy,
  });
}

/** Identity's `IdentityDirectory` satisfies this. */
export interface CreatorLookup {
  creatorOf(
    db: AnyDb | AnyTx,
    principal: string,
  ): Promise<{ createdBy: string | null; createdAt: string } | undefined>;
}

const maxChain = 8;

// The accounts from `approver` up to `author` when the author created the approver — directly,
// or through accounts that themselves were created within the window — within the window before
// `since` (or after it). Undefined when the approver is nobody's puppet, or the window is off.
export async function sockPuppetChain(
  creators: CreatorLookup,
  db: AnyDb | AnyTx,
  input: { approver: string; author: string; since: string; windowMs: number | null },
): Promise<string[] | undefined> {
  if (input.windowMs === null) return undefined;
  const from = new Date(new Date(input.since).getTime() - input.windowMs).toISOString();
  const chain = [input.approver];
  let current = input.approver;
  while (chain.length <= maxChain) {
    const created = await creators.creatorOf(db, current);
    if (!created?.createdBy || created.createdAt < from) return undefined;
    chain.push(created.createdBy);
    if (created.createdBy === input.author) return chain;
    if (chain.slice(0, -1).includes(created.createdBy)) return undefined;
    current = created.createdBy;
  }
  return undefined;
}

/** Refuses (403, audited as denied) an approval by an account the author created for it. */
export async function refuseSockPuppet(
  ctx: Pick<RequestContext, 'actor' | 'requestId'>,
  recorder: AttemptRecorder,
  creators: CreatorLookup,
  db: AnyDb | AnyTx,
  input: {
    approver: string;
    author: string;
    since: string;
    windowMs: number | null;
    action: string;
    resource: AuditResource;
  },
): Promise<void> {
  const chain = await sockPuppetChain(creators, db, input);
  if (!chain) return;
  await refuse(ctx, recorder, input, fourEyesErrors.APPROVALS_SOCK_PUPPET_FORBIDDEN, {
    author: input.author,
    chain,
  });
}
