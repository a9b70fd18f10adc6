import { z } from 'zod';

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' })
  .refine((u) => !new URL(u).username && !new URL(u).password, {
    message: 'must not carry credentials: set them with the destination secret',
  });

const tls = z
  .object({
    // PEM file with the CA certificate(s) to trust instead of the system store.
    caFile: z.string().min(1).optional(),
    // Server name to check the certificate against (default: the host).
    serverName: z.string().min(1).optional(),
  })
  .strict();

// An audit action such as `deployments.approval.requested`, or a pattern in which `*` stands
// for any characters within one dot-separated segment (`deployments.approval.*`, `*.*.denied`).
const actionPattern = z
  .string()
  .regex(
    /^[a-z0-9*-]+(\.[a-z0-9*-]+)*$/,
    'must be an action such as approvals.request.created, * matching within a segment',
  );

const common = {
  // Only entries whose action matches one of these (a notification destination); all when absent.
  actions: z.array(actionPattern).min(1).max(50).optional(),
  // Deliver the whole audit trail from the first entry, or only entries from now on.
  startAt: z.enum(['beginning', 'now']).default('beginning'),
  enabled: z.boolean().default(true),
  // Also publish every signed ledger checkpoint (from the latest when enabled), so a copy of
  // the signed tree heads lives outside the database.
  checkpoints: z.boolean().default(false),
  // Entries read per round; webhooks still get one request per entry.
  batchSize: z.number().int().min(1).max(1000).default(100),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  tls: tls.optional(),
};

export const auditStreamSpec = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('webhook'),
      description: z.string().max(500).optional(),
      url: httpUrl,
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal('splunk-hec'),
      description: z.string().max(500).optional(),
      // Base URL of the HTTP Event Collector; events go to <url>/services/collector/event.
      url: httpUrl,
      index: z.string().min(1).optional(),
      sourcetype: z.string().min(1).default('custody:audit'),
      source: z.string().min(1).default('custody'),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal('syslog'),
      description: z.string().max(500).optional(),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      // RFC 6587 octet-counted framing over TCP, or over TLS (RFC 5425).
      transport: z.enum(['tcp', 'tls']).default('tcp'),
      ...common,
    })
    .strict(),
]);

export type AuditStreamSpec = z.infer<typeof auditStreamSpec>;

/** Compiles `actions` patterns into one predicate; every action matches when none are given. */
export function actionMatcher(
  patterns: readonly string[] | undefined,
): (action: string) => boolean {
  if (!patterns) return () => true;
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((part) => part.replace(/\./g, '\\$&'))
          .join('[^.]*')}$`,
      ),
  );
  return (action) => res.some((re) => re.test(action));
}
