import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { principalOf, type Actor, type RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { accountablePrincipal } from '../../platform/four-eyes.ts';
import type { IdentityAccessControl } from './access-control.ts';
import { identityErrors } from './errors.ts';
import { requireLink, type LinkKind } from './identity-link.ts';
import type { KyselyLinkStore, LinkRow } from './link-store.ts';
import { delegatedBy } from './delegation.ts';
import { throttleKeys, type LoginThrottle } from './login-throttle.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password.ts';
import { identityPermissions as P } from './permissions.ts';
import type { KyselyPrincipalStore, PrincipalRow, TokenRow } from './principal-store.ts';
import { formatScope } from './rbac.ts';
import { hashSecret, newId, newSecret } from './token-codec.ts';

export interface IdentityServiceDeps {
  database: Database;
  uow: UnitOfWork;
  principals: KyselyPrincipalStore;
  links: KyselyLinkStore;
  throttle: LoginThrottle;
  access: IdentityAccessControl;
  clock: Clock;
  tokenMaxTtlMs: number;
  sessionTtlMs: number;
}

export interface PrincipalView {
  id: string;
  kind: 'user' | 'service_account';
  name: string;
  email: string | null;
  createdAt: string;
  createdBy: string | null;
}

export interface LinkView {
  kind: LinkKind;
  value: string;
  // `profile`: the user's own e-mail address; `admin`: linked by an administrator.
  source: 'admin' | 'profile';
  createdAt: string;
  createdBy: string | null;
}

export interface TokenView {
  id: string;
  name: string;
  principal: { kind: string; name: string };
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export const minPasswordLength = 12;

export class IdentityService {
  constructor(private readonly deps: IdentityServiceDeps) {}

  async createPrincipal(
    ctx: RequestContext,
    input: {
      kind: 'user' | 'service_account';
      name: string;
      email?: string | undefined;
      password?: string | undefined;
    },
  ): Promise<PrincipalView> {
    const permission =
      input.kind === 'user' ? P['identity.user.create'] : P['identity.serviceaccount.create'];
    await ctx.guard.require(permission, {}, { type: input.kind, id: input.name });
    if (input.password !== undefined && input.password.length < minPasswordLength) {
      throw new DomainError(identityErrors.IDENTITY_PASSWORD_TOO_WEAK);
    }
    // Service accounts never get a password: they authenticate with tokens only.
    const passwordHash =
      input.kind === 'user' && input.password ? await hashPassword(input.password) : null;
    // User names are stored in lower case (`BOB` is `bob`); service accounts keep the case
    // they were created with. Either way a name is unique and looked up regardless of case.
    const name = input.kind === 'user' ? input.name.toLowerCase() : input.name;
    const email = input.email?.trim() || null;
    const profile = email !== null ? requireLink('email', email) : undefined;
    return this.deps.uow.run(ctx, async (tx, record) => {
      const existing = await this.deps.principals.findLiveByName(tx, name);
      if (existing) {
        throw new DomainError(
          identityErrors.IDENTITY_PRINCIPAL_EXISTS,
          `${existing.name} already exists`,
        );
      }
      const row: PrincipalRow = {
        id: randomUUID(),
        kind: input.kind,
        name,
        email,
        password_hash: passwordHash,
        created_at: this.now(),
        created_by: creatorOf(ctx.actor),
        deleted_at: null,
      };
      await this.deps.principals.insertPrincipal(tx, row);
      if (profile) await this.insertLink(tx, row, profile, email!, 'profile', ctx.actor);
      record({
        action: input.kind === 'user' ? 'identity.user.created' : 'identity.serviceaccount.created',
        resource: { type: input.kind, id: row.name },
        details: {
          id: row.id,
          email: row.email,
          passwordSet: passwordHash !== null,
          createdBy: row.created_by,
        },
      });
      return toPrincipalView(row);
    });
  }

  async deletePrincipal(
    ctx: RequestContext,
    kind: 'user' | 'service_account',
    name: string,
  ): Promise<PrincipalView> {
    const permission =
      kind === 'user' ? P['identity.user.delete'] : P['identity.serviceaccount.delete'];
    await ctx.guard.require(permission, {}, { type: kind, id: name });
    return this.deps.uow.run(ctx, async (tx, record) => {
      const row = await this.deps.principals.findLiveByName(tx, name);
      if (!row || row.kind !== kind)
        throw new DomainError(
          identityErrors.IDENTITY_PRINCIPAL_NOT_FOUND,
          `no ${kind} named ${name}`,
        );
      const at = this.now();
      const links = await this.deps.links.listLive(tx, row.id);
      await this.deps.principals.markDeleted(tx, row.id, at);
      await this.deps.principals.revokeAllFor(tx, row.id, at);
      // A deleted user's e-mails and logins are free to link to someone else.
      await this.deps.links.removeAllFor(tx, row.id, at);
      record({
        action: kind === 'user' ? 'identity.user.deleted' : 'identity.serviceaccount.deleted',
        resource: { type: kind, id: row.name },
        details: { id: row.id, unlinked: links.map((l) => `${l.kind}:${l.value}`) },
      });
      return toPrincipalView(row);
    });
  }

  async listPrincipals(
    kind: 'user' | 'service_account',
    page: PageRequest = firstPage,
  ): Promise<PageOf<PrincipalView>> {
    const rows = await this.deps.principals.listLive(this.deps.database.db, kind, page);
    return { items: rows.items.map(toPrincipalView), next: rows.next };
  }

  async getPrincipal(kind: 'user' | 'service_account', name: string): Promise<PrincipalView> {
    const row = await this.deps.principals.findLiveByName(this.deps.database.db, name);
    if (!row || row.kind !== kind)
      throw new DomainError(
        identityErrors.IDENTITY_PRINCIPAL_NOT_FOUND,
        `no ${kind} named ${name}`,
      );
    return toPrincipalView(row);
  }

  async createToken(
    ctx: RequestContext,
    input: {
      principal?: { kind: 'user' | 'service_account'; name: string } | undefined;
      ttlMs: number;
      name?: string | undefined;
    },
  ): Promise<{
    id: string;
    token: string;
    expiresAt: string;
    principal: { kind: string; name: string };
  }> {
    const target = input.principal ?? { kind: actorKind(ctx.actor), name: ctx.actor.name };
    const self =
      target.name.toLowerCase() === ctx.actor.name.toLowerCase() &&
      target.kind === actorKind(ctx.actor);
    await ctx.guard.require(
      self ? P['identity.token.create'] : P['identity.token.manage'],
      {},
      { type: target.kind, id: target.name },
    );
    if (!(input.ttlMs > 0) || input.ttlMs > this.deps.tokenMaxTtlMs) {
      throw new DomainError(
        identityErrors.IDENTITY_TOKEN_TTL_INVALID,
        `ttl must be between 1s and ${this.deps.tokenMaxTtlMs / 86_400_000}d`,
        {
          maxTtlMs: this.deps.tokenMaxTtlMs,
        },
      );
    }
    return this.deps.uow.run(ctx, async (tx, record) => {
      const principal = await this.deps.principals.findLiveByName(tx, target.name);
      if (!principal || principal.kind !== target.kind) {
        throw new DomainError(
          identityErrors.IDENTITY_PRINCIPAL_NOT_FOUND,
          `no ${target.kind} named ${target.name}`,
        );
      }
      const token = newSecret('token');
      const now = this.deps.clock.now();
      const row: TokenRow = {
        id: newId('tok'),
        kind: 'token',
        principal_id: principal.id,
        name: input.name ?? `${principal.name}-${now.toISOString().slice(0, 10)}`,
        token_hash: hashSecret(token),
        scopes: '{}',
        created_at: now.toISOString(),
        // A token issued for someone else is impersonation: it carries its issuer for good, and
        // a token an impersonator issues with it carries the impersonator, not the victim.
        created_by: creatorOf(ctx.actor) ?? principalOf(ctx.actor),
        expires_at: new Date(now.getTime() + input.ttlMs).toISOString(),
        revoked_at: null,
        last_used_at: null,
      };
      await this.deps.principals.insertToken(tx, row);
      record({
        action: 'identity.token.created',
        resource: { type: 'token', id: row.id },
        details: {
          principal: principalOf({ type: principal.kind, name: principal.name }),
          name: row.name,
          expiresAt: row.expires_at,
          impersonation: delegatedBy(row, principal) !== null,
        },
      });
      return {
        id: row.id,
        token,
        expiresAt: row.expires_at,
        principal: { kind: principal.kind, name: principal.name },
      };
    });
  }

  async listTokens(
    ctx: RequestContext,
    input: { all: boolean },
    page: PageRequest = firstPage,
  ): Promise<PageOf<TokenView>> {
    if (input.all) await ctx.guard.require(P['identity.token.manage']);
    else await ctx.guard.require(P['identity.token.read']);
    const rows = await this.deps.principals.listTokens(
      this.deps.database.db,
      { kind: 'token', ...(input.all ? {} : { principalId: ctx.actor.id ?? '' }) },
      page,
    );
    return {
      items: rows.items.map((r) => ({
        id: r.id,
        name: r.name,
        principal: { kind: r.principal_kind, name: r.principal_name },
        createdAt: r.created_at,
        createdBy: r.created_by,
        expiresAt: r.expires_at,
        revokedAt: r.revoked_at,
        lastUsedAt: r.last_used_at,
      })),
      next: rows.next,
    };
  }

  async revokeToken(ctx: RequestContext, id: string): Promise<{ id: string; revokedAt: string }> {
    const existing = await this.deps.principals.findToken(this.deps.database.db, id);
    const own = existing?.principal_id === ctx.actor.id;
    await ctx.guard.require(
      own ? P['identity.token.create'] : P['identity.token.manage'],
      {},
      { type: 'token', id },
    );
    return this.deps.uow.run(ctx, async (tx, record) => {
      const row = await this.deps.principals.findToken(tx, id);
      if (!row || row.kind !== 'token')
        throw new DomainError(identityErrors.IDENTITY_TOKEN_NOT_FOUND, `no token ${id}`);
      const at = row.revoked_at ?? this.now();
      if (!row.revoked_at) await this.deps.principals.revokeToken(tx, id, at);
      record({
        action: 'identity.token.revoked',
        resource: { type: 'token', id },
        details: { alreadyRevoked: row.revoked_at !== null },
      });
      return { id, revokedAt: at };
    });
  }

  async login(input: {
    name: string;
    password: string;
    ip: string;
    requestId: string;
  }): Promise<{ token: string; expiresAt: string; user: string }> {
    const anonymous: Actor = {
      type: 'anonymous',
      id: null,
      name: input.name,
      authMethod: 'password',
      ip: input.ip,
    };
    const ctx = { actor: anonymous, requestId: input.requestId };
    const keys = throttleKeys(input.name, input.ip);
    await this.deps.throttle.admit(ctx, keys);
    const row = await this.deps.principals.findLiveByName(this.deps.database.db, input.name);
    const hash = row?.kind === 'user' && row.password_hash ? row.password_hash : dummyPasswordHash;
    const ok =
      (await verifyPassword(input.password, hash)) &&
      row?.kind === 'user' &&
      row.password_hash !== null;
    if (!ok || !row) {
      await this.deps.throttle.failed(ctx, keys, {
        action: 'identity.session.denied',
        resource: keys[0]!.resource,
        outcome: 'denied',
        details: {
          code: identityErrors.AUTH_INVALID_CREDENTIALS.code,
          reason:
            row?.kind === 'service_account'
              ? 'service accounts cannot log in'
              : 'invalid credentials',
        },
      });
      throw new DomainError(identityErrors.AUTH_INVALID_CREDENTIALS);
    }
    const actor: Actor = {
      type: 'user',
      id: row.id,
      name: row.name,
      authMethod: 'password',
      ip: input.ip,
    };
    return this.deps.uow.run({ actor, requestId: input.requestId }, async (tx, record) => {
      const token = newSecret('session');
      const now = this.deps.clock.now();
      const session: TokenRow = {
        id: newId('ses'),
        kind: 'session',
        principal_id: row.id,
        name: 'session',
        token_hash: hashSecret(token),
        scopes: '{}',
        created_at: now.toISOString(),
        created_by: principalOf({ type: 'user', name: row.name }),
        expires_at: new Date(now.getTime() + this.deps.sessionTtlMs).toISOString(),
        revoked_at: null,
        last_used_at: null,
      };
      await this.deps.principals.insertToken(tx, session);
      await this.deps.throttle.succeeded(tx, keys);
      record({
        action: 'identity.session.created',
        resource: { type: 'session', id: session.id },
        details: { expiresAt: session.expires_at },
      });
      return { token, expiresAt: session.expires_at, user: row.name };
    });
  }

  // ---- linked identities -----------------------------------------------------------------

  async listLinks(name: string): Promise<LinkView[]> {
    const user = await this.requireUser(this.deps.database.db, name);
    return (await this.deps.links.listLive(this.deps.database.db, user.id)).map(toLinkView);
  }

  async addLink(
    ctx: RequestContext,
    name: string,
    input: { kind: string; value: string },
  ): Promise<LinkView> {
    await ctx.guard.require(P['identity.link.manage'], {}, { type: 'user', id: name });
    const link = requireLink(input.kind, input.value);
    return this.deps.uow.run(ctx, async (tx, record) => {
      const user = await this.requireUser(tx, name);
      const row = await this.insertLink(tx, user, link, input.value.trim(), 'admin', ctx.actor);
      record({
        action: 'identity.link.added',
        resource: { type: 'user', id: user.name },
        details: { kind: row.kind, value: row.value },
      });
      return toLinkView(row);
    });
  }

  async removeLink(
    ctx: RequestContext,
    name: string,
    input: { kind: string; value: string },
  ): Promise<LinkView> {
    await ctx.guard.require(P['identity.link.manage'], {}, { type: 'user', id: name });
    const link = requireLink(input.kind, input.value);
    return this.deps.uow.run(ctx, async (tx, record) => {
      const user = await this.requireUser(tx, name);
      const found = await this.deps.links.findLive(tx, link.kind, link.normalized);
      if (!found || found.link.principal_id !== user.id)
        throw new DomainError(
          identityErrors.IDENTITY_LINK_NOT_FOUND,
          `${user.name} has no linked ${link.kind} ${input.value.trim()}`,
          { kind: link.kind, value: input.value.trim() },
        );
      const at = this.now();
      await this.deps.links.remove(tx, found.link.id, at);
      // The user's own e-mail is one of its identities: unlinking it clears it.
      if (found.link.source === 'profile') await this.deps.principals.setEmail(tx, user.id, null);
      record({
        action: 'identity.link.removed',
        resource: { type: 'user', id: user.name },
        details: { kind: found.link.kind, value: found.link.value, source: found.link.source },
      });
      return toLinkView({ ...found.link, removed_at: at });
    });
  }

  private async requireUser(db: AnyTx | Database['db'], name: string): Promise<PrincipalRow> {
    const user = await this.deps.principals.findLiveByName(db, name);
    if (!user || user.kind !== 'user')
      throw new DomainError(identityErrors.IDENTITY_PRINCIPAL_NOT_FOUND, `no user named ${name}`);
    return user;
  }

  // Inside the caller's transaction; an identity has one live owner (a unique index backs it).
  private async insertLink(
    tx: AnyTx,
    user: PrincipalRow,
    link: { kind: LinkKind; normalized: string },
    value: string,
    source: LinkRow['source'],
    by: Actor,
  ): Promise<LinkRow> {
    const taken = await this.deps.links.findLive(tx, link.kind, link.normalized);
    if (taken)
      throw new DomainError(
        identityErrors.IDENTITY_LINK_TAKEN,
        `${link.kind} ${value} is already linked to user:${taken.principalName}`,
        { kind: link.kind, value, principal: `user:${taken.principalName}` },
      );
    const row: LinkRow = {
      id: newId('lnk'),
      principal_id: user.id,
      kind: link.kind,
      value,
      normalized: link.normalized,
      source,
      created_at: this.now(),
      created_by: creatorOf(by),
      removed_at: null,
    };
    await this.deps.links.insert(tx, row);
    return row;
  }

  async whoami(ctx: RequestContext): Promise<{
    kind: string;
    name: string;
    id: string | null;
    authMethod: string;
    delegatedBy: string | null;
    groups: string[];
    bindings: { name: string; role: string; scope: string; effect: string; via: string }[];
  }> {
    await ctx.guard.require(P['identity.self.read']);
    const { bindings, groups } = await this.deps.access.grantsOf(ctx.actor);
    return {
      kind: ctx.actor.type,
      name: ctx.actor.name,
      id: ctx.actor.id,
      authMethod: ctx.actor.authMethod,
      delegatedBy: ctx.actor.delegatedBy ?? null,
      groups,
      bindings: bindings.map((b) => ({
        name: b.name,
        role: b.role,
        scope: formatScope({
          project: b.scope_project ?? undefined,
          environment: b.scope_environment ?? undefined,
        }),
        effect: b.effect,
        via: `${b.principal_type === 'service_account' ? 'serviceaccount' : b.principal_type}:${b.principal_name}`,
      })),
    };
  }

  async hasUsers(): Promise<boolean> {
    return (await this.deps.principals.countUsers(this.deps.database.db)) > 0;
  }

  randomPassword(): string {
    return randomBytes(24).toString('base64url');
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function actorKind(actor: Actor): 'user' | 'service_account' {
  return actor.type === 'service_account' ? 'service_account' : 'user';
}

// Who is behind an action that creates something: the issuer of an impersonating token, else
// the actor; null for the system (bootstrap, `custody up`).
function creatorOf(actor: Actor): string | null {
  return actor.type === 'system' ? null : accountablePrincipal(actor);
}

function toPrincipalView(row: PrincipalRow): PrincipalView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    email: row.email,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function toLinkView(row: LinkRow): LinkView {
  return {
    kind: row.kind,
    value: row.value,
    source: row.source,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}
