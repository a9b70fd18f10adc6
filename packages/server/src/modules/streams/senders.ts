import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { hostname } from 'node:os';
import tls from 'node:tls';
import type { AuditStreamSpec } from './stream-spec.ts';

/** An audit entry as streamed: the API's presentation of it (no chain hash). */
export interface StreamedEntry {
  readonly seq: number;
  readonly time: string;
  readonly actor: {
    type: string;
    id: string | null;
    name: string;
    authMethod: string;
    ip: string | null;
  };
  readonly action: string;
  readonly resource: { type: string; id: string };
  readonly outcome: string;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
  readonly leafHash: string;
}

/** Thrown when a batch is only partly delivered; `delivered` entries went through, in order. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly delivered: number,
  ) {
    super(message);
  }
}

/** A signed ledger checkpoint, as published to destinations with `checkpoints: true`. */
export interface PublishedCheckpoint {
  readonly kind: 'ledger.checkpoint';
  readonly size: number;
  /** Base64 root hash. */
  readonly rootHash: string;
  readonly origin: string;
  /** The signed note (c2sp.org/tlog-checkpoint), verifiable with the ledger's verifier key. */
  readonly note: string;
  readonly createdAt: string;
}

export interface Sender {
  /** Delivers entries in order; resolves with how many went through (all, unless it throws). */
  send(entries: readonly StreamedEntry[]): Promise<number>;
  /** Delivers checkpoints in order, the same way. */
  sendCheckpoints(checkpoints: readonly PublishedCheckpoint[]): Promise<number>;
  close(): void;
}

export const signatureHeader = 'x-custody-signature-256';
export const deliveryHeader = 'x-custody-delivery';
export const checkpointHeader = 'x-custody-checkpoint';

/** The webhook signature: HMAC-SHA256 of the exact body bytes, hex, prefixed `sha256=`. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

function tlsOptions(spec: AuditStreamSpec): { ca?: Buffer; servername?: string } {
  return {
    ...(spec.tls?.caFile ? { ca: readFileSync(spec.tls.caFile) } : {}),
    ...(spec.tls?.serverName ? { servername: spec.tls.serverName } : {}),
  };
}

function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
  spec: AuditStreamSpec,
): Promise<{ status: number; body: string }> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: spec.timeoutMs,
        ...(url.protocol === 'https:' ? tlsOptions(spec) : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 500) text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// Error texts are stored and shown: keep them short and free of anything the peer echoed.
function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}`.slice(0, 300) : String(e.message).slice(0, 300);
}

/** HTTPS webhook: one POST per entry, signed, with the seq as dedupe id. */
export function webhookSender(
  spec: Extract<AuditStreamSpec, { type: 'webhook' }>,
  secret: string | undefined,
): Sender {
  const url = new URL(spec.url);
  // One signed POST per item, in order; stops at the first that is not accepted.
  const postEach = async <T>(
    items: readonly T[],
    describeItem: (item: T) => { what: string; headers: Record<string, string> },
  ): Promise<number> => {
    if (!secret) throw new DeliveryError('no secret set: PUT /api/v1/streams/NAME/secret', 0);
    let delivered = 0;
    for (const item of items) {
      const body = JSON.stringify(item);
      const { what, headers } = describeItem(item);
      let res: { status: number; body: string };
      try {
        res = await post(
          url,
          body,
          {
            'content-type': 'application/json',
            'user-agent': 'custody-audit-stream/1',
            ...headers,
            [signatureHeader]: signBody(secret, body),
          },
          spec,
        );
      } catch (err) {
        throw new DeliveryError(`${what}: ${describe(err)}`, delivered);
      }
      if (res.status < 200 || res.status >= 300)
        throw new DeliveryError(`${what}: HTTP ${res.status}`, delivered);
      delivered++;
    }
    return delivered;
  };
  return {
    send: (entries) =>
      postEach(entries, (e) => ({
        what: `entry ${e.seq}`,
        headers: { [deliveryHeader]: String(e.seq), 'idempotency-key': `custody-audit-${e.seq}` },
      })),
    sendCheckpoints: (checkpoints) =>
      postEach(checkpoints, (c) => ({
        what: `checkpoint ${c.size}`,
        headers: {
          [checkpointHeader]: String(c.size),
          'idempotency-key': `custody-checkpoint-${c.size}`,
        },
      })),
    close() {},
  };
}

/** Splunk HTTP Event Collector: a batch of JSON events per POST. */
export function splunkSender(
  spec: Extract<AuditStreamSpec, { type: 'splunk-hec' }>,
  token: string | undefined,
): Sender {
  const url = new URL(spec.url.replace(/\/+$/, '') + '/services/collector/event');
  const host = hostname();
  interface HecEvent {
    time: number;
    sourcetype: string;
    fields: Record<string, string>;
    event: unknown;
  }
  const postEvents = async (events: readonly HecEvent[]): Promise<number> => {
    if (!token) throw new DeliveryError('no HEC token set: PUT /api/v1/streams/NAME/secret', 0);
    if (events.length === 0) return 0;
    const body = events
      .map((e) =>
        JSON.stringify({
          time: e.time,
          host,
          source: spec.source,
          sourcetype: e.sourcetype,
          ...(spec.index ? { index: spec.index } : {}),
          fields: e.fields,
          event: e.event,
        }),
      )
      .join('\n');
    let res: { status: number; body: string };
    try {
      res = await post(
        url,
        body,
        {
          'content-type': 'application/json',
          authorization: `Splunk ${token}`,
          'user-agent': 'custody-audit-stream/1',
        },
        spec,
      );
    } catch (err) {
      throw new DeliveryError(describe(err), 0);
    }
    if (res.status !== 200) throw new DeliveryError(`HTTP ${res.status}`, 0);
    return events.length;
  };
  return {
    send: (entries) =>
      postEvents(
        entries.map((e) => ({
          time: Date.parse(e.time) / 1000,
          sourcetype: spec.sourcetype,
          fields: { custody_seq: String(e.seq) },
          event: e,
        })),
      ),
    sendCheckpoints: (checkpoints) =>
      postEvents(
        checkpoints.map((c) => ({
          time: Date.parse(c.createdAt) / 1000,
          sourcetype: `${spec.sourcetype}:checkpoint`,
          fields: { custody_checkpoint_size: String(c.size) },
          event: c,
        })),
      ),
    close() {},
  };
}

const severity: Record<string, number> = { succeeded: 6, denied: 4, failed: 3 };
const facilityLogAudit = 13;

function sdEscape(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

function printable(v: string, max: number): string {
  const s = v.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return s || '-';
}

/** One RFC 5424 syslog message for an entry (facility log audit). */
export function syslogMessage(e: StreamedEntry, host = hostname()): string {
  const pri = facilityLogAudit * 8 + (severity[e.outcome] ?? 5);
  const sd = `[custody@32473 seq="${e.seq}" outcome="${sdEscape(e.outcome)}" actor="${sdEscape(`${e.actor.type}:${e.actor.name}`)}" resource="${sdEscape(`${e.resource.type}/${e.resource.id}`)}"]`;
  return `<${pri}>1 ${e.time} ${printable(host, 255)} custody ${process.pid} ${printable(e.action, 32)} ${sd} ${JSON.stringify(e)}`;
}

/** The RFC 5424 message for a signed checkpoint (MSGID `ledger.checkpoint`, severity 6). */
export function syslogCheckpointMessage(c: PublishedCheckpoint, host = hostname()): string {
  const sd = `[custody@32473 checkpoint="${c.size}" origin="${sdEscape(c.origin)}"]`;
  return `<${facilityLogAudit * 8 + 6}>1 ${c.createdAt} ${printable(host, 255)} custody ${process.pid} ledger.checkpoint ${sd} ${JSON.stringify(c)}`;
}

/** RFC 6587 octet counting: "<length> <message>". */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

/** Syslog over TCP or TLS with octet-counted framing, on one kept-open connection. */
export function syslogSender(spec: Extract<AuditStreamSpec, { type: 'syslog' }>): Sender {
  let socket: net.Socket | undefined;
  let broken: Error | undefined;
  const connect = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      const s =
        spec.transport === 'tls'
          ? tls.connect({ host: spec.host, port: spec.port, ...tlsOptions(spec) }, () => ready())
          : net.connect({ host: spec.host, port: spec.port }, () => ready());
      s.setTimeout(spec.timeoutMs, () =>
        s.destroy(new Error(`timed out after ${spec.timeoutMs} ms`)),
      );
      s.once('error', onError);
      function ready(): void {
        s.off('error', onError);
        s.setTimeout(0);
        broken = undefined;
        s.on('error', (err) => (broken = err));
        s.on('close', () => (broken ??= new Error('connection closed')));
        // The receiver never talks back; reading keeps a half-closed socket noticed.
        s.on('data', () => {});
        resolve(s);
      }
    });
  const write = async (messages: readonly string[]): Promise<number> => {
    if (messages.length === 0) return 0;
    try {
      if (!socket || broken || socket.destroyed) {
        socket?.destroy();
        socket = await connect();
      }
      const s = socket;
      const frames = Buffer.concat(messages.map(octetCounted));
      await new Promise<void>((resolve, reject) =>
        s.write(frames, (err) => (err ? reject(err) : resolve())),
      );
      if (broken) throw broken;
    } catch (err) {
      socket?.destroy();
      socket = undefined;
      throw new DeliveryError(describe(err), 0);
    }
    return messages.length;
  };
  return {
    send: (entries) => write(entries.map((e) => syslogMessage(e))),
    sendCheckpoints: (checkpoints) => write(checkpoints.map((c) => syslogCheckpointMessage(c))),
    close() {
      socket?.end();
      socket = undefined;
    },
  };
}
