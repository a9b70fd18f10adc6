// Who is acting, for every use case. Identity fills it in at the edge (HTTP, runner, scheduler);
// services receive it as plain data and never look at the HTTP request.

export type ActorType = 'user' | 'service_account' | 'runner' | 'system' | 'anonymous';
export type AuthMethod =
  'token' | 'session' | 'password' | 'webhook' | 'bootstrap' | 'none' | 'system';

export interface Actor {
  readonly type: ActorType;
  readonly id: string | null;
  readonly name: string;
  readonly authMethod: AuthMethod;
  readonly ip: string | null;
  // The principal (`user:admin`) that issued the token this actor authenticated with, when it
  // is not the actor itself: impersonation. Such an actor never decides a four-eyes question
  // (platform/four-eyes.ts) and every audit entry it causes names both.
  readonly delegatedBy?: string | null;
}

// Where a permission is checked: the organization, a project, or one environment of a project.
export interface Scope {
  readonly project?: string | undefined;
  readonly environment?: string | undefined;
  // "Anywhere": granted if some binding at any scope grants it. Used by entry-point
  // permissions (such as submitting a manifest) whose real check happens per resource.
  readonly any?: boolean;
}

export const organizationScope: Scope = {};

export interface Guard {
  // Resolves when allowed; otherwise records a denied audit entry and throws a 403 DomainError.
  require(permission: string, scope?: Scope, resource?: AuditResource): Promise<void>;
  can(permission: string, scope?: Scope): Promise<boolean>;
}

export interface RequestContext {
  readonly actor: Actor;
  readonly requestId: string;
  readonly guard: Guard;
}

export interface AuditResource {
  readonly type: string;
  readonly id: string;
}

export type AuditOutcome = 'succeeded' | 'denied' | 'failed';

export interface AuditRecord {
  readonly action: string;
  readonly resource: AuditResource;
  readonly outcome?: AuditOutcome;
  readonly details?: Record<string, unknown>;
}

export const systemActor: Actor = {
  type: 'system',
  id: null,
  name: 'custody',
  authMethod: 'system',
  ip: null,
};

/** `user:NAME`, `serviceaccount:NAME`, … : how approvals, SoD and authorship name an actor. */
export function principalOf(actor: Pick<Actor, 'type' | 'name'>): string {
  return `${actor.type === 'service_account' ? 'serviceaccount' : actor.type}:${actor.name}`;
}
