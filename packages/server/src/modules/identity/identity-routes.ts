import { z } from 'zod';
import { parseDuration } from '../../platform/duration.ts';
import { DomainError } from '../../platform/errors.ts';
import { Pager, pageFields, pageResponse } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { identityErrors } from './errors.ts';
import type { IdentityService } from './identity-service.ts';
import { identityPermissions as P } from './permissions.ts';

const principalView = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
});
const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  principal: z.object({ kind: z.string(), name: z.string() }),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
const principalName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/, 'letters, digits, . _ @ - (at most 63)');
const nameParams = z.object({ name: principalName }).strict();
const linkView = z.object({
  kind: z.string(),
  value: z.string(),
  source: z.string(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
});
// Kinds and values are checked by the service, so bad ones get IDENTITY_LINK_* codes.
const linkBody = z
  .object({ kind: z.string().min(1).max(32), value: z.string().min(1).max(320) })
  .strict();
const linkParams = z
  .object({
    name: principalName,
    kind: z.string().min(1).max(32),
    value: z.string().min(1).max(320),
  })
  .strict();

export function identityRoutes(service: IdentityService): AnyRoute[] {
  const principalRoutes = (
    kind: 'user' | 'service_account',
    path: string,
    perm: { read: string; create: string; delete: string },
  ) => [
    defineRoute({
      method: 'POST',
      url: `/api/v1/${path}`,
      summary: `Create a ${kind === 'user' ? 'user' : 'service account'}`,
      tags: ['identity'],
      auth: { permission: perm.create },
      body:
        kind === 'user'
          ? z
              .object({
                name: principalName,
                email: z.email().optional(),
                password: z.string().max(1024).optional(),
              })
              .strict()
          : z.object({ name: principalName }).strict(),
      status: 201,
      response: principalView,
      async handler({ body, ctx }) {
        const b = body as { name: string; email?: string; password?: string };
        return service.createPrincipal(ctx, {
          kind,
          name: b.name,
          email: b.email,
          password: b.password,
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: `/api/v1/${path}`,
      summary: `List ${kind === 'user' ? 'users' : 'service accounts'} by name (paginated)`,
      tags: ['identity'],
      auth: { permission: perm.read },
      query: z.object(pageFields).strict(),
      response: pageResponse(principalView),
      async handler({ query }) {
        const pager = new Pager(query, `principals/${kind}`);
        return pager.page(await service.listPrincipals(kind, pager.request));
      },
    }),
    defineRoute({
      method: 'GET',
      url: `/api/v1/${path}/:name`,
      summary: `Get a ${kind === 'user' ? 'user' : 'service account'}`,
      tags: ['identity'],
      auth: { permission: perm.read },
      params: nameParams,
      response: principalView,
      async handler({ params }) {
        return service.getPrincipal(kind, params.name);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: `/api/v1/${path}/:name`,
      summary: `Delete a ${kind === 'user' ? 'user' : 'service account'} and revoke its tokens`,
      tags: ['identity'],
      auth: { permission: perm.delete },
      params: nameParams,
      response: principalView,
      async handler({ params, ctx }) {
        return service.deletePrincipal(ctx, kind, params.name);
      },
    }),
  ];

  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/auth/login',
      summary: 'Log in with a user name and password; returns a session token',
      tags: ['identity'],
      auth: { public: 'password' },
      body: z.object({ name: principalName, password: z.string().min(1).max(1024) }).strict(),
      response: z.object({ token: z.string(), expiresAt: z.string(), user: z.string() }),
      async handler({ body, ctx, ip }, reply) {
        const session = await service.login({
          name: body.name,
          password: body.password,
          ip,
          requestId: ctx.requestId,
        });
        reply.headers = {
          'set-cookie': `custody_session=${encodeURIComponent(session.token)}; HttpOnly; SameSite=Strict; Path=/`,
        };
        return session;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/whoami',
      summary: 'Who the caller is, their groups and role bindings',
      tags: ['identity'],
      auth: { permission: P['identity.self.read'] },
      response: z.object({
        kind: z.string(),
        name: z.string(),
        id: z.string().nullable(),
        authMethod: z.string(),
        delegatedBy: z.string().nullable(),
        groups: z.array(z.string()),
        bindings: z.array(
          z.object({
            name: z.string(),
            role: z.string(),
            scope: z.string(),
            effect: z.string(),
            via: z.string(),
          }),
        ),
      }),
      async handler({ ctx }) {
        return service.whoami(ctx);
      },
    }),
    ...principalRoutes('user', 'users', {
      read: P['identity.user.read'],
      create: P['identity.user.create'],
      delete: P['identity.user.delete'],
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/users/:name/identities',
      summary: "List a user's linked identities (e-mail addresses, GitHub and GitLab logins)",
      tags: ['identity'],
      auth: { permission: P['identity.user.read'] },
      params: nameParams,
      response: z.object({ items: z.array(linkView) }),
      async handler({ params }) {
        return { items: await service.listLinks(params.name) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/users/:name/identities',
      summary:
        'Link a verified identity to a user: {kind: email|github|gitlab, value}; one live owner each',
      tags: ['identity'],
      auth: { permission: P['identity.link.manage'] },
      params: nameParams,
      body: linkBody,
      status: 201,
      response: linkView,
      async handler({ params, body, ctx }) {
        return service.addLink(ctx, params.name, body);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/users/:name/identities/:kind/:value',
      summary: 'Unlink an identity from a user (unlinking its own e-mail clears it)',
      tags: ['identity'],
      auth: { permission: P['identity.link.manage'] },
      params: linkParams,
      response: linkView,
      async handler({ params, ctx }) {
        return service.removeLink(ctx, params.name, { kind: params.kind, value: params.value });
      },
    }),
    ...principalRoutes('service_account', 'serviceaccounts', {
      read: P['identity.serviceaccount.read'],
      create: P['identity.serviceaccount.create'],
      delete: P['identity.serviceaccount.delete'],
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/tokens',
      summary: 'Create an API token (shown once). Without user/serviceAccount, for the caller',
      tags: ['identity'],
      auth: { permission: P['identity.token.create'] },
      body: z
        .object({
          user: principalName.optional(),
          serviceAccount: principalName.optional(),
          ttl: z.string().min(1),
          name: z.string().min(1).max(100).optional(),
        })
        .strict()
        .refine((b) => !(b.user && b.serviceAccount), {
          message: 'give user or serviceAccount, not both',
        }),
      status: 201,
      response: z.object({
        id: z.string(),
        token: z.string(),
        expiresAt: z.string(),
        principal: z.object({ kind: z.string(), name: z.string() }),
      }),
      async handler({ body, ctx }) {
        const ttlMs = parseDuration(body.ttl);
        if (ttlMs === undefined)
          throw new DomainError(
            identityErrors.IDENTITY_TOKEN_TTL_INVALID,
            `ttl ${body.ttl} is not a duration such as 30d`,
          );
        const principal = body.user
          ? { kind: 'user' as const, name: body.user }
          : body.serviceAccount
            ? { kind: 'service_account' as const, name: body.serviceAccount }
            : undefined;
        return service.createToken(ctx, { principal, ttlMs, name: body.name });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/tokens',
      summary:
        'List API tokens, oldest first (yours; all with ?all=true and identity.token.manage; paginated). Never returns token values',
      tags: ['identity'],
      auth: { permission: P['identity.token.read'] },
      query: z.object({ all: z.enum(['true', 'false']).default('false'), ...pageFields }).strict(),
      response: pageResponse(tokenView),
      async handler({ query, ctx }) {
        const all = query.all === 'true';
        // Bound to the caller too: a cursor of someone else's listing is refused.
        const pager = new Pager(query, 'tokens', { all, caller: ctx.actor.id });
        return pager.page(await service.listTokens(ctx, { all }, pager.request));
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/tokens/:id',
      summary: 'Revoke an API token',
      tags: ['identity'],
      auth: { permission: P['identity.token.create'] },
      params: z
        .object({ id: z.string().regex(/^tok_[A-Za-z0-9_-]+$/, 'must be a token id (tok_...)') })
        .strict(),
      response: z.object({ id: z.string(), revokedAt: z.string() }),
      async handler({ params, ctx }) {
        return service.revokeToken(ctx, params.id);
      },
    }),
  ];
}
