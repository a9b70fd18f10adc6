import type { z } from 'zod';
import type { RequestContext, Scope } from '../context.ts';

// A route is data: its schemas, the permission it needs, and a handler that receives plain
// inputs and a RequestContext — never the HTTP request. The registrar (register-routes.ts)
// does parsing, authentication, authorization and presentation for every route the same way.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type RouteAuth =
  | { readonly permission: string; readonly scope?: (input: ScopeInput) => Scope }
  // Routes reachable without a bearer token authenticate some other way (password, HMAC).
  | { readonly public: string };

export interface ScopeInput {
  readonly params: Record<string, unknown>;
  readonly query: Record<string, unknown>;
}

export interface RouteInput<B, Q, P> {
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  readonly ctx: RequestContext;
  readonly rawBody: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly ip: string;
}

export interface RouteReply {
  status?: number;
  headers?: Record<string, string>;
}

export interface RouteDef<B = unknown, Q = unknown, P = unknown, R = unknown> {
  readonly method: HttpMethod;
  readonly url: string;
  readonly summary: string;
  readonly tags?: readonly string[];
  readonly auth: RouteAuth;
  readonly body?: z.ZodType<B>;
  readonly query?: z.ZodType<Q>;
  readonly params?: z.ZodType<P>;
  // The response schema is the presenter: only its fields leave the server.
  readonly response: z.ZodType<R>;
  readonly status?: number;
  readonly contentTypes?: readonly string[];
  // A larger body than the server's `bodyLimit` (the runner's file uploads).
  readonly bodyLimit?: number;
  // Raw (text) responses such as Prometheus metrics skip JSON presentation.
  readonly raw?: { readonly contentType: string };
  handler(input: RouteInput<B, Q, P>, reply: RouteReply): Promise<R>;
}

// Erases the generic parameters so modules can export heterogeneous route lists.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any, any>;

export function defineRoute<B = undefined, Q = undefined, P = undefined, R = unknown>(
  def: RouteDef<B, Q, P, R>,
): AnyRoute {
  return def as AnyRoute;
}
