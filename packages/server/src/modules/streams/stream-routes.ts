import { z } from 'zod';
import { Pager, pageFields } from '../../platform/http/pagination.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { streamPermissions as P } from './permissions.ts';
import type { StreamService } from './stream-service.ts';

const destination = z.object({
  name: z.string(),
  type: z.string(),
  version: z.number(),
  enabled: z.boolean(),
  nextSeq: z.number(),
  pending: z.number(),
  secretSet: z.boolean(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastDeliveryAt: z.string().nullable(),
});

export function streamRoutes(service: StreamService): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/streams',
      summary:
        'SIEM destinations with their cursor, backlog and last error (never secrets), by name (paginated)',
      tags: ['streams'],
      auth: { permission: P['streams.destination.read'] },
      query: z.object(pageFields).strict(),
      response: z.object({ destinations: z.array(destination), next: z.string().nullable() }),
      async handler({ query }) {
        const pager = new Pager(query, 'streams');
        const page = pager.page(await service.list(pager.request));
        return { destinations: page.items, next: page.next };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/v1/streams/:name/secret',
      summary:
        "Set a destination's secret: the webhook HMAC key or the Splunk HEC token (write-only)",
      tags: ['streams'],
      auth: { permission: P['streams.secret.write'] },
      params: z.object({ name: z.string().min(1).max(200) }),
      body: z.object({ value: z.string() }).strict(),
      response: z.object({ name: z.string(), secretSet: z.literal(true) }),
      async handler({ params, body, ctx }) {
        await service.setSecret(ctx, params.name, body.value);
        return { name: params.name, secretSet: true as const };
      },
    }),
  ];
}
