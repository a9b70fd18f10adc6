import type { Registry } from 'prom-client';
import { z } from 'zod';
import { sql } from 'kysely';
import type { Database } from './platform/db/database.ts';
import { DomainError, platformErrors } from './platform/errors.ts';
import { buildOpenApi } from './platform/http/openapi.ts';
import { defineRoute, type AnyRoute } from './platform/http/route.ts';
import { identityPermissions } from './modules/identity/index.ts';

export const serverVersion = '0.1.0';

export function systemRoutes(deps: {
  database: Database;
  metrics: Registry;
  routes: () => readonly AnyRoute[];
}): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/healthz',
      summary: 'Liveness: the process is up',
      tags: ['system'],
      auth: { public: 'none (liveness probe)' },
      response: z.object({ status: z.literal('ok') }),
      async handler() {
        return { status: 'ok' as const };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/readyz',
      summary: 'Readiness: the database answers',
      tags: ['system'],
      auth: { public: 'none (readiness probe)' },
      response: z.object({ status: z.literal('ready'), database: z.string() }),
      async handler() {
        try {
          await sql`select 1`.execute(deps.database.db);
        } catch (err) {
          throw new DomainError(platformErrors.DATABASE_UNAVAILABLE, undefined, undefined, {
            cause: err,
          });
        }
        return { status: 'ready' as const, database: deps.database.dialect };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['system'],
      auth: { public: 'none (scraped by Prometheus; holds no secrets)' },
      response: z.string(),
      raw: { contentType: 'text/plain; version=0.0.4; charset=utf-8' },
      async handler() {
        return deps.metrics.metrics();
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/openapi.json',
      summary: 'The OpenAPI 3.1 document of this API, generated from the route schemas',
      tags: ['system'],
      auth: { permission: identityPermissions['system.openapi.read'] },
      response: z.record(z.string(), z.unknown()),
      async handler() {
        return buildOpenApi(deps.routes(), serverVersion);
      },
    }),
  ];
}
