import { z } from 'zod';
import type { AnyRoute } from './route.ts';

// The OpenAPI document is generated from the same zod schemas that validate requests and
// present responses, so it cannot drift from the routes.
export function buildOpenApi(
  routes: readonly AnyRoute[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!schema) continue;
      const json = toJson(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(json.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          schema: s,
        });
      }
    }
    const op: Record<string, unknown> = {
      summary: route.summary,
      tags: route.tags ?? [],
      operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters,
      responses: {
        [String(route.status ?? 200)]: {
          description: 'Success',
          content: route.raw
            ? { [route.raw.contentType]: {} }
            : { 'application/json': { schema: toJson(route.response) } },
        },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
    if ('permission' in route.auth) {
      op['x-permission'] = route.auth.permission;
      op.security = [{ bearer: [] }];
    } else {
      op['x-authentication'] = route.auth.public;
      op.security = [];
    }
    if (route.body) {
      const types = route.contentTypes ?? ['application/json'];
      op.requestBody = {
        required: true,
        content: Object.fromEntries(
          types.map((t) => [
            t,
            { schema: t === 'application/json' ? toJson(route.body!) : { type: 'string' } },
          ]),
        ),
      };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Custody API', version },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'requestId'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                details: { type: 'object' },
                requestId: { type: 'string' },
              },
            },
          },
        },
      },
    },
    paths,
  };
}

function toJson(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
}
