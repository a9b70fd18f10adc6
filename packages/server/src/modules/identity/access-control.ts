import type { Actor, AuditResource, Guard, Scope } from '../../platform/context.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError, type ErrorDefinition } from '../../platform/errors.ts';
import type { AccessControl } from '../../platform/http/access-control.ts';
import { builtinRoles } from './builtin-roles.ts';
import { identityErrors } from './errors.ts';
import { delegatedBy } from './delegation.ts';
import { implicitPermissions } from './permissions.ts';
import type { KyselyPrincipalStore } from './principal-store.ts';
import { evaluate, formatScope, type Decision } from './rbac.ts';
import type { BindingRow, KyselyRbacStore } from './rbac-store.ts';
import { hashSecret, secretKind } from './token-codec.ts';

const builtinPatterns = new Map(builtinRoles.map((r) => [r.name, r.permissions]));
const touchEveryMs = 60_000;

export class IdentityAccessControl implements AccessControl {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      principals: KyselyPrincipalStore;
      rbac: KyselyRbacStore;
      clock: Clock;
    },
  ) {}

  async authenticate(input: {
    authorization: string | undefined;
    cookie: string | undefined;
    ip: string;
    requestId: string;
  }): Promise<Actor> {
    const secret = bearer(input.authorization) ?? sessionCookie(input.cookie);
    const anonymous: Actor = {
      type: 'anonymous',
      id: null,
      name: 'anonymous',
      authMethod: 'none',
      ip: input.ip,
    };
    const fail = async (
      def: ErrorDefinition,
      resourceId: string,
      actor: Actor = anonymous,
    ): Promise<never> => {
      await this.deps.uow.recordAttempt(
        { actor, requestId: input.requestId },
        {
          action: 'identity.authentication.denied',
          resource: { type: 'token', id: resourceId },
          outcome: 'denied',
          details: { code: def.code },
        },
      );
      throw new DomainError(def);
    };
    if (!secret) return fail(identityErrors.AUTH_REQUIRED, 'none');
    if (!secretKind(secret)) return fail(identityErrors.AUTH_INVALID_TOKEN, 'unknown');
    const found = await this.deps.principals.findTokenByHash(
      this.deps.database.db,
      hashSecret(secret),
    );
    if (!found) return fail(identityErrors.AUTH_INVALID_TOKEN, 'unknown');
    const { token, principal } = found;
    const actor: Actor = {
      type: principal.kind,
      id: principal.id,
      name: principal.name,
      authMethod: token.kind === 'session' ? 'session' : 'token',
      ip: input.ip,
      delegatedBy: delegatedBy(token, principal),
    };
    const now = this.deps.clock.now();
    if (token.revoked_at) return fail(identityErrors.AUTH_TOKEN_REVOKED, token.id, actor);
    if (new Date(token.expires_at) <= now)
      return fail(identityErrors.AUTH_TOKEN_EXPIRED, token.id, actor);
    if (principal.deleted_at) return fail(identityErrors.AUTH_PRINCIPAL_DISABLED, token.id, actor);
    // Usage bookkeeping, not a change of state: throttled and not an audit event.
    if (
      !token.last_used_at ||
      now.getTime() - new Date(token.last_used_at).getTime() > touchEveryMs
    ) {
      await this.deps.principals.touchToken(this.deps.database.db, token.id, now.toISOString());
    }
    return actor;
  }

  guardFor(actor: Actor, requestId: string): Guard {
    let cached:
      Promise<{ bindings: BindingRow[]; roles: Map<string, readonly string[]> }> | undefined;
    const load = () => (cached ??= this.loadGrants(actor));
    const decide = async (permission: string, scope: Scope): Promise<Decision> => {
      if (actor.type === 'anonymous') return { allowed: false, reason: 'not authenticated' };
      if (actor.type === 'system') return { allowed: true, reason: 'system' };
      const { bindings, roles } = await load();
      return evaluate({ permission, scope, bindings, roles, implicit: implicitPermissions });
    };
    return {
      can: async (permission, scope = {}) => (await decide(permission, scope)).allowed,
      require: async (permission: string, scope: Scope = {}, resource?: AuditResource) => {
        const decision = await decide(permission, scope);
        if (decision.allowed) return;
        const details = { permission, scope: formatScope(scope), reason: decision.reason };
        await this.deps.uow.recordAttempt(
          { actor, requestId },
          {
            action: permission,
            resource: resource ?? { type: 'permission', id: permission },
            outcome: 'denied',
            details: { code: identityErrors.AUTHZ_PERMISSION_DENIED.code, ...details },
          },
        );
        throw new DomainError(
          identityErrors.AUTHZ_PERMISSION_DENIED,
          scope.any
            ? `you hold permission ${permission} at no scope (${decision.reason})`
            : `permission ${permission} is denied at ${details.scope} (${decision.reason})`,
          details,
        );
      },
    };
  }

  async grantsOf(actor: Actor): Promise<{ bindings: BindingRow[]; groups: string[] }> {
    const db = this.deps.database.db;
    const type = actor.type === 'service_account' ? 'service_account' : 'user';
    const groups = await this.deps.rbac.groupsOf(db, { type, name: actor.name });
    const bindings = await this.deps.rbac.bindingsFor(db, [
      { type, name: actor.name },
      ...groups.map((g) => ({ type: 'group', name: g })),
    ]);
    return { bindings, groups };
  }

  private async loadGrants(
    actor: Actor,
  ): Promise<{ bindings: BindingRow[]; roles: Map<string, readonly string[]> }> {
    const { bindings } = await this.grantsOf(actor);
    const roles = new Map<string, readonly string[]>(builtinPatterns);
    const custom = [...new Set(bindings.map((b) => b.role))].filter((r) => !roles.has(r));
    for (const row of await this.deps.rbac.rolesByName(this.deps.database.db, custom)) {
      roles.set(row.name, JSON.parse(row.permissions) as string[]);
    }
    return { bindings, roles };
  }
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m?.[1];
}

function sessionCookie(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === 'custody_session' && v) return decodeURIComponent(v);
  }
  return undefined;
}
