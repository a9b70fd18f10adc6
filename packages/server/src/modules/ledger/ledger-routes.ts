import { parseTilePath, TILE_WIDTH } from '@custody/ledger';
import { z } from 'zod';
import { DomainError } from '../../platform/errors.ts';
import type { RequestContext } from '../../platform/context.ts';
import { defineRoute, type AnyRoute } from '../../platform/http/route.ts';
import { ledgerErrors } from './errors.ts';
import type { Ledger } from './ledger.ts';
import { toCheckpointView } from './ledger-service.ts';
import { ledgerPermissions as P } from './permissions.ts';

const checkpointSchema = z.object({
  size: z.number(),
  rootHash: z.string(),
  note: z.string(),
  origin: z.string(),
  keyId: z.string(),
  signedBy: z.string(),
  createdAt: z.string(),
});

const size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// Records a download of the trail's entries: who exported the audit trail is itself evidence
// (hash tiles and checkpoints carry no content and are not recorded). It must not fail the
// download: a database someone tampered with is exactly when an auditor verifies.
export type ExportRecorder = (
  ctx: RequestContext,
  details: { bundle: number; fromSeq: number; toSeq: number },
) => Promise<void>;

export function ledgerRoutes(ledger: Ledger, recordExport: ExportRecorder): AnyRoute[] {
  const { service } = ledger;
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/key',
      summary: "The ledger's verifier key (C2SP signed-note form: name+keyid+base64)",
      tags: ['ledger'],
      auth: { permission: P['ledger.key.read'] },
      response: z.object({ verifierKey: z.string(), origin: z.string(), keyId: z.string() }),
      async handler() {
        return service.verifierKey();
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/status',
      summary:
        'Ledger state on this replica: leadership, latest checkpoint, entries not yet covered',
      tags: ['ledger'],
      auth: { permission: P['ledger.checkpoint.read'] },
      response: z.object({
        leader: z.boolean(),
        running: z.boolean(),
        checkpointSize: z.number().nullable(),
        entries: z.number(),
        pending: z.number(),
        controlFailure: z
          .object({
            code: z.string(),
            seq: z.number(),
            message: z.string(),
            detectedAt: z.string(),
          })
          .nullable(),
        witnesses: z.array(
          z.object({
            name: z.string(),
            url: z.string(),
            verifierKey: z.string(),
            cosignedSize: z.number().nullable(),
            lastError: z.string().nullable(),
            lastAttemptAt: z.string().nullable(),
          }),
        ),
      }),
      async handler() {
        const latest = await service.latestOrUndefined();
        const entries = await service.auditSize();
        return {
          leader: ledger.election.isLeader,
          running: ledger.election.isRunning,
          checkpointSize: latest?.size ?? null,
          entries,
          pending: entries - (latest?.size ?? 0),
          controlFailure: (await service.openControlFailure()) ?? null,
          witnesses: await ledger.witnesses.status(),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/checkpoint',
      summary: 'The latest signed checkpoint',
      tags: ['ledger'],
      auth: { permission: P['ledger.checkpoint.read'] },
      response: checkpointSchema,
      async handler() {
        return toCheckpointView(await service.latest());
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/checkpoints',
      summary: 'Every signed checkpoint, smallest first, paginated by size',
      tags: ['ledger'],
      auth: { permission: P['ledger.checkpoint.read'] },
      query: z
        .object({
          after: size.optional(),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        })
        .strict(),
      response: z.object({ checkpoints: z.array(checkpointSchema), next: z.number().nullable() }),
      async handler({ query }) {
        const rows = await service.listCheckpoints({ afterSize: query.after, limit: query.limit });
        const last = rows.at(-1);
        return {
          checkpoints: rows.map(toCheckpointView),
          next: rows.length === query.limit && last ? last.size : null,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/checkpoints/cosigned',
      summary:
        'The newest checkpoint cosigned by at least `witnesses` witnesses (C2SP tlog-cosignature), its note carrying their lines',
      tags: ['ledger'],
      auth: { permission: P['ledger.checkpoint.read'] },
      query: z.object({ witnesses: z.coerce.number().int().min(1).max(100).default(1) }).strict(),
      response: checkpointSchema.extend({
        cosignatures: z.array(z.object({ witness: z.string(), timestamp: z.number() })),
      }),
      async handler({ query }) {
        const c = await ledger.cosignedCheckpoint(query.witnesses);
        return {
          ...toCheckpointView(c.checkpoint),
          note: c.note,
          cosignatures: [...c.cosignatures],
        };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/ledger/checkpoints',
      summary: 'Sign a checkpoint covering every committed entry now (returns it)',
      tags: ['ledger'],
      auth: { permission: P['ledger.checkpoint.create'] },
      response: checkpointSchema,
      async handler() {
        return toCheckpointView(await ledger.checkpointNow());
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/proofs/inclusion',
      summary: 'Inclusion proof (RFC 9162) of entry `seq` in the tree of `size` (default: latest)',
      tags: ['ledger'],
      auth: { permission: P['ledger.proof.read'] },
      query: z.object({ seq: size, size: size.optional() }).strict(),
      response: z.object({
        seq: z.number(),
        size: z.number(),
        leafHash: z.string(),
        proof: z.array(z.string()),
        checkpoint: z.string().nullable(),
      }),
      async handler({ query }) {
        return service.inclusionProof(query.seq, query.size);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/proofs/consistency',
      summary: 'Consistency proof (RFC 9162) from tree size `from` to `to` (default: latest)',
      tags: ['ledger'],
      auth: { permission: P['ledger.proof.read'] },
      query: z.object({ from: size, to: size.optional() }).strict(),
      response: z.object({
        from: z.number(),
        to: z.number(),
        proof: z.array(z.string()),
        checkpoint: z.string().nullable(),
      }),
      async handler({ query }) {
        return service.consistencyProof(query.from, query.to);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/tlog/checkpoint',
      summary: 'The latest signed checkpoint as a C2SP note (tlog-tiles layout)',
      tags: ['ledger'],
      auth: { permission: P['ledger.checkpoint.read'] },
      response: z.string(),
      raw: { contentType: 'text/plain; charset=utf-8' },
      async handler() {
        return (await service.latest()).note;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/ledger/tlog/tile/*',
      summary:
        'Hash tiles `tile/<L>/<N>[.p/<W>]` and entry bundles `tile/entries/<N>[.p/<W>]` (c2sp.org/tlog-tiles)',
      tags: ['ledger'],
      auth: { permission: P['ledger.proof.read'] },
      params: z.object({ '*': z.string() }),
      response: z.string(),
      raw: { contentType: 'application/octet-stream' },
      async handler({ params, ctx }, reply) {
        const parsed = parseTilePath(`tile/${params['*']}`);
        if (!parsed)
          throw new DomainError(
            ledgerErrors.LEDGER_TILE_NOT_FOUND,
            `tile/${params['*']} is not a tlog-tiles path`,
          );
        // A full hash tile never changes; entry bundles are read from the live rows and must
        // not be served from a cache when someone checks them.
        reply.headers = {
          'cache-control':
            parsed.kind === 'hashes' && parsed.width === 256
              ? 'private, max-age=31536000, immutable'
              : 'no-store',
        };
        if (parsed.kind !== 'entries')
          return Buffer.from(
            await service.servedTile(parsed.level, parsed.index, parsed.width),
          ) as unknown as string;
        const bytes = await service.entryBundle(parsed.index, parsed.width);
        const first = parsed.index * TILE_WIDTH;
        await recordExport(ctx, {
          bundle: parsed.index,
          fromSeq: first,
          toSeq: first + parsed.width - 1,
        });
        return Buffer.from(bytes) as unknown as string;
      },
    }),
  ];
}
