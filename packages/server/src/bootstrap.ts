import { randomUUID } from 'node:crypto';
import type { App } from './app.ts';
import { systemActor, type RequestContext } from './platform/context.ts';
import { parseDuration } from './platform/duration.ts';

export function systemContext(app: App, purpose: string): RequestContext {
  const requestId = `${purpose}-${randomUUID()}`;
  return {
    actor: systemActor,
    requestId,
    guard: app.services.access.guardFor(systemActor, requestId),
  };
}

// First start: an `admin` user bound to the admin role at organization scope, and one API
// token for it. A workflow over two modules, each step its own audited transaction; it runs
// only while no user exists, so a retry after a crash starts over cleanly.
export async function bootstrapAdmin(
  app: App,
): Promise<{ token: string; user: string } | undefined> {
  if (await app.services.identity.hasUsers()) return undefined;
  const ctx = systemContext(app, 'bootstrap');
  await app.services.identity.createPrincipal(ctx, { kind: 'user', name: 'admin' });
  await app.services.resources.applyDocuments(ctx, [
    {
      apiVersion: 'custody/v1',
      kind: 'RoleBinding',
      metadata: { name: 'bootstrap-admin' },
      spec: { principal: 'user:admin', role: 'admin', scope: 'organization', effect: 'allow' },
    },
  ]);
  const ttlMs = parseDuration(app.config.tokenMaxTtl)!;
  const { token } = await app.services.identity.createToken(ctx, {
    principal: { kind: 'user', name: 'admin' },
    ttlMs,
    name: 'bootstrap',
  });
  return { token, user: 'admin' };
}
