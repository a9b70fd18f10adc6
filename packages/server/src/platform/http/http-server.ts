import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';
import type { z } from 'zod';
import type { Actor, RequestContext } from '../context.ts';
import { DomainError, platformErrors } from '../errors.ts';
import type { AccessControl } from './access-control.ts';
import { toHttpError } from './error-mapper.ts';
import type { RequestFacts, RequestLimits } from './request-limits.ts';
import type { AnyRoute, RouteReply } from './route.ts';

export interface HttpServerOptions {
  routes: readonly AnyRoute[];
  accessControl: AccessControl;
  logger: Logger;
  bodyLimit: number;
  metrics: Registry;
  // Rate limits for `/api/` routes (health and metrics endpoints are never limited).
  limits?: RequestLimits;
  // Proxies whose X-Forwarded-For names the client (addresses or CIDR ranges).
  trustedProxies?: readonly string[];
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const anonymous = (ip: string): Actor => ({
  type: 'anonymous',
  id: null,
  name: 'anonymous',
  authMethod: 'none',
  ip,
});

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    trustProxy: options.trustedProxies?.length ? [...options.trustedProxies] : false,
  });
  const limits = options.limits;

  // Raw text is kept for webhook signature checks; JSON is parsed by us for a stable error code.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (req, body, done) => {
      (req as FastifyRequest & { rawBody?: string }).rawBody = body as string;
      if (body === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new DomainError(platformErrors.REQUEST_MALFORMED_JSON), undefined);
      }
    },
  );
  app.addContentTypeParser(
    ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'],
    { parseAs: 'string' },
    (req, body, done) => {
      (req as FastifyRequest & { rawBody?: string }).rawBody = body as string;
      done(null, body);
    },
  );
  app.addContentTypeParser(
    ['application/octet-stream'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );

  const requests = new Counter({
    name: 'custody_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [options.metrics],
  });
  const duration = new Histogram({
    name: 'custody_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [options.metrics],
  });

  const publicRoutes = new Set(
    options.routes.filter((r) => 'public' in r.auth).map((r) => `${r.method} ${r.url}`),
  );
  const limited = (req: FastifyRequest) => req.url.startsWith('/api/');
  if (limits) {
    // Before the body is read and before any authentication work.
    app.addHook('onRequest', async (req) => {
      if (limited(req)) await limits.beforeRequest(factsOf(req));
    });
  }
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    if (limits && limited(req)) {
      const status = reply.statusCode;
      if (status === 401 || (status === 403 && publicRoutes.has(`${req.method} ${route}`)))
        limits.unauthenticatedResponse(req.ip);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = toHttpError(err, req.id);
    if (internal) req.log.error({ err }, 'request failed');
    const retryAfter = body.error.details?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', retryAfter);
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = toHttpError(
      new DomainError(
        platformErrors.ROUTE_NOT_FOUND,
        `no route ${req.method} ${req.url.split('?')[0]}`,
      ),
      req.id,
    );
    void reply.status(status).send(body);
  });

  for (const route of options.routes) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.bodyLimit ? { bodyLimit: Math.max(route.bodyLimit, options.bodyLimit) } : {}),
      handler: async (req, reply) => handle(route, req, reply, options.accessControl, limits),
    });
  }
  return app;
}

function factsOf(req: FastifyRequest): RequestFacts {
  return {
    ip: req.ip,
    method: req.method,
    route: req.routeOptions.url ?? 'unmatched',
    requestId: req.id,
  };
}

async function handle(
  route: AnyRoute,
  req: FastifyRequest,
  reply: FastifyReply,
  access: AccessControl,
  limits: RequestLimits | undefined,
): Promise<unknown> {
  const ip = req.ip;
  let actor: Actor;
  if ('permission' in route.auth) {
    actor = await access.authenticate({
      authorization: req.headers.authorization,
      cookie: req.headers.cookie,
      ip,
      requestId: req.id,
    });
    await limits?.afterAuthentication(actor, factsOf(req));
  } else {
    actor = anonymous(ip);
  }
  // Authorization comes before the body is validated, so a caller without the permission
  // learns nothing about the body's schema; scopes derive from the path and query only.
  const params = parse(route.params, req.params, 'params');
  const ctx: RequestContext = { actor, requestId: req.id, guard: access.guardFor(actor, req.id) };
  if ('permission' in route.auth) {
    const rawQuery = (req.query ?? {}) as Record<string, unknown>;
    const scope =
      route.auth.scope?.({ params: params as Record<string, unknown>, query: rawQuery }) ?? {};
    await ctx.guard.require(route.auth.permission, scope, {
      type: 'route',
      id: `${route.method} ${route.url}`,
    });
  }
  if (route.body && route.contentTypes && req.body !== undefined) {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (!route.contentTypes.includes(type))
      throw new DomainError(platformErrors.REQUEST_UNSUPPORTED_MEDIA_TYPE);
  }
  const query = parse(route.query, req.query, 'query');
  const body = route.body ? parse(route.body, req.body, 'body') : undefined;
  const replyOptions: RouteReply = {};
  const result = await route.handler(
    {
      body,
      query,
      params,
      ctx,
      rawBody: (req as FastifyRequest & { rawBody?: string }).rawBody,
      headers: req.headers,
      ip,
    },
    replyOptions,
  );
  for (const [k, v] of Object.entries(replyOptions.headers ?? {})) reply.header(k, v);
  reply.status(replyOptions.status ?? route.status ?? 200);
  if (route.raw) {
    reply.type(route.raw.contentType);
    return result;
  }
  return route.response.parse(result);
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return (value ?? {}) as T;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  throw new DomainError(
    platformErrors.REQUEST_INVALID,
    `invalid ${where}: ${result.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`).join('; ')}`,
    {
      issues: result.error.issues.map((i) => ({
        path: [where, ...i.path.map(String)].join('.'),
        message: i.message,
        code: i.code,
      })),
    },
  );
}
