import { hkdfSync } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { SealedValueSet } from '../../platform/crypto/sealed-values.ts';
import type { Sealer } from '../../platform/crypto/sealer.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { StoredAuditEntry } from '../audit/index.ts';
import type { KindHandler } from '../resources/index.ts';
import { streamErrors } from './errors.ts';
import { streamPermissions as P } from './permissions.ts';
import {
  DeliveryError,
  splunkSender,
  syslogSender,
  webhookSender,
  type PublishedCheckpoint,
  type Sender,
  type StreamedEntry,
} from './senders.ts';
import { actionMatcher, auditStreamSpec, type AuditStreamSpec } from './stream-spec.ts';
import type { DestinationRow, KyselyStreamStore } from './stream-store.ts';

export interface StreamAuditSource {
  list(filter: { afterSeq: number; limit: number; order: 'asc' }): Promise<StoredAuditEntry[]>;
  size(): Promise<number>;
  /** Entries committed so far, read inside the given transaction. */
  sizeIn(tx: AnyTx): Promise<number>;
}

/** Signed ledger checkpoints, smallest first: after `size`, or only the latest when null. */
export type StreamCheckpointSource = (
  afterSize: number | null,
  limit: number,
) => Promise<PublishedCheckpoint[]>;

export interface DestinationView {
  name: string;
  type: AuditStreamSpec['type'];
  version: number;
  enabled: boolean;
  nextSeq: number;
  pending: number;
  secretSet: boolean;
  lastError: string | null;
  lastAttemptAt: string | null;
  lastDeliveryAt: string | null;
}

/**
 * The key destination secrets were sealed with before the one sealer (derived from the ledger
 * key): only for opening those old values once, at start-up, to seal them again (ADR 8).
 */
export function deriveSealingKey(material: string | Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'custody', 'streams/secret-sealing/v1', 32));
}

/** What a destination's secret is sealed to: it opens for that destination only. */
const secretContext = (name: string) => `streams/secret/${name}`;

// The destination secrets as the sealing check and `reseal` see them.
export function streamSecretSealedValues(store: KyselyStreamStore): SealedValueSet {
  return {
    name: 'stream-secrets',
    async list(db) {
      return (await store.secrets(db)).map((r) => ({
        id: r.name,
        context: secretContext(r.name),
        sealed: r.sealed,
      }));
    },
    replace: (tx, id, from, to) => store.replaceSecret(tx, id, from, to),
  };
}

interface Backoff {
  failures: number;
  until: number;
}

// Streams the audit trail to SIEM destinations: at least once, in seq order, with a persisted
// cursor per destination that only moves after the destination accepted the entries. A
// destination that is down is retried with exponential backoff and resumes where it stopped.
export class StreamService {
  private readonly senders = new Map<string, { version: number; sender: Sender }>();
  private readonly backoff = new Map<string, Backoff>();

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyStreamStore;
      audit: StreamAuditSource;
      clock: Clock;
      logger: Logger;
      sealer: Sealer;
      /** Where `checkpoints: true` destinations get the ledger's signed checkpoints. */
      checkpoints?: StreamCheckpointSource;
      retryBaseMs?: number;
      retryMaxMs?: number;
    },
  ) {}

  kind(): KindHandler<AuditStreamSpec> {
    const { store, audit } = this.deps;
    return {
      kind: 'AuditStream',
      scope: 'organization',
      description:
        'A SIEM destination for the audit trail: HTTPS webhook, syslog (TCP/TLS) or Splunk HEC',
      spec: auditStreamSpec,
      applyPermission: P['streams.destination.apply'],
      readPermission: P['streams.destination.read'],
      // Redirecting, filtering or disabling a SIEM stream blinds monitoring: every change of a
      // stream in force needs a second person. A new stream only adds a copy: at once.
      async governed({ doc, inForce }) {
        if (!inForce) return undefined;
        const what = doc.spec.enabled ? 'changes' : 'disables';
        return {
          reason: `${what} audit stream ${doc.metadata.name} (${inForce.spec.type} to ${destinationOf(inForce.spec)})`,
        };
      },
      async materialize(tx, doc) {
        const start = doc.spec.startAt === 'now' ? await audit.sizeIn(tx) : 0;
        await store.upsertDestination(
          tx,
          { name: doc.metadata.name, spec: JSON.stringify(doc.spec), version: doc.version },
          start,
        );
      },
    };
  }

  /** Sets (or replaces) a destination's secret. The value is never returned or recorded. */
  async setSecret(ctx: RequestContext, name: string, value: string): Promise<void> {
    if (value.length === 0 || value.length > 4096)
      throw new DomainError(streamErrors.STREAMS_SECRET_INVALID);
    await this.deps.uow.run(ctx, async (tx, record) => {
      if (!(await this.deps.store.destinationExists(tx, name)))
        throw new DomainError(streamErrors.STREAMS_DESTINATION_NOT_FOUND, `no AuditStream ${name}`);
      await this.deps.store.setSecret(tx, {
        name,
        sealed: this.deps.sealer.seal(value, secretContext(name)),
        updated_at: this.deps.clock.now().toISOString(),
      });
      record({
        action: 'streams.secret.set',
        resource: { type: 'AuditStream', id: name },
        details: {},
      });
    });
    this.dropSender(name);
  }

  async list(page: PageRequest = firstPage): Promise<PageOf<DestinationView>> {
    const db = this.deps.database.db;
    const rows = await this.deps.store.destinationsPage(db, page);
    const size = await this.deps.audit.size();
    const out: DestinationView[] = [];
    for (const r of rows.items) {
      const spec = JSON.parse(r.spec) as AuditStreamSpec;
      out.push({
        name: r.name,
        type: spec.type,
        version: r.version,
        enabled: spec.enabled,
        nextSeq: r.next_seq,
        pending: Math.max(0, size - r.next_seq),
        secretSet: (await this.deps.store.secret(db, r.name)) !== undefined,
        lastError: r.last_error,
        lastAttemptAt: r.last_attempt_at,
        lastDeliveryAt: r.last_delivery_at,
      });
    }
    return { items: out, next: rows.next };
  }

  // Every destination's delivery state, read with the given db or transaction (the controls
  // catalog decides "audit stream delivering" from it inside the change's transaction).
  async deliveryStatus(db: AnyDb): Promise<
    {
      name: string;
      version: number;
      enabled: boolean;
      actions: string[] | null;
      nextSeq: number;
      pending: number;
      lastError: string | null;
      lastAttemptAt: string | null;
      lastDeliveryAt: string | null;
    }[]
  > {
    const rows = await this.deps.store.destinations(db);
    const size = await this.deps.audit.sizeIn(db as AnyTx);
    return rows.map((r) => {
      const spec = JSON.parse(r.spec) as AuditStreamSpec;
      return {
        name: r.name,
        version: r.version,
        enabled: spec.enabled,
        actions: spec.actions ?? null,
        nextSeq: r.next_seq,
        pending: Math.max(0, size - r.next_seq),
        lastError: r.last_error,
        lastAttemptAt: r.last_attempt_at,
        lastDeliveryAt: r.last_delivery_at,
      };
    });
  }

  private dropSender(name: string): void {
    this.senders.get(name)?.sender.close();
    this.senders.delete(name);
  }

  private async senderFor(row: DestinationRow, spec: AuditStreamSpec): Promise<Sender> {
    const cached = this.senders.get(row.name);
    if (cached && cached.version === row.version) return cached.sender;
    this.dropSender(row.name);
    const sealed = await this.deps.store.secret(this.deps.database.db, row.name);
    const secret = sealed
      ? this.deps.sealer.open(sealed.sealed, secretContext(row.name))
      : undefined;
    const sender =
      spec.type === 'webhook'
        ? webhookSender(spec, secret)
        : spec.type === 'splunk-hec'
          ? splunkSender(spec, secret)
          : syslogSender(spec);
    this.senders.set(row.name, { version: row.version, sender });
    return sender;
  }

  /**
   * One delivery round: every enabled destination not in backoff gets the entries after its
   * cursor, batch by batch, until it is caught up or fails. `ignoreBackoff` retries at once.
   */
  async deliverAll(options: { ignoreBackoff?: boolean; maxBatches?: number } = {}): Promise<void> {
    const rows = await this.deps.store.destinations(this.deps.database.db);
    await Promise.all(rows.map((r) => this.deliver(r, options)));
  }

  private async deliver(
    row: DestinationRow,
    options: { ignoreBackoff?: boolean; maxBatches?: number },
  ): Promise<void> {
    const spec = JSON.parse(row.spec) as AuditStreamSpec;
    if (!spec.enabled) return;
    const now = Date.now();
    const b = this.backoff.get(row.name);
    if (b && b.until > now && !options.ignoreBackoff) return;
    const { store, database, audit, clock } = this.deps;
    let next = row.next_seq;
    const matches = actionMatcher(spec.actions);
    for (let batch = 0; batch < (options.maxBatches ?? 50); batch++) {
      const entries = await audit.list({ afterSeq: next - 1, limit: spec.batchSize, order: 'asc' });
      if (entries.length === 0) break;
      const streamed = entries.filter((e) => matches(e.action)).map(present);
      let delivered = 0;
      let failure: string | undefined;
      try {
        if (streamed.length) {
          const sender = await this.senderFor(row, spec);
          delivered = await sender.send(streamed);
        }
      } catch (err) {
        delivered = err instanceof DeliveryError ? err.delivered : 0;
        failure = err instanceof DeliveryError ? err.message : 'delivery failed';
        if (!(err instanceof DeliveryError))
          this.deps.logger.error({ err, destination: row.name }, 'audit stream failed');
      }
      const at = clock.now().toISOString();
      // Past everything delivered, and past entries the destination does not want: all of
      // the batch when every match went out, else up to the first match not delivered.
      const upTo =
        delivered === streamed.length
          ? entries[entries.length - 1]!.seq + 1
          : streamed[delivered]!.seq;
      if (upTo > next) {
        next = upTo;
        await store.advance(database.db, row.name, next, at);
      }
      if (failure !== undefined) return this.failed(row, failure, at);
      this.backoff.delete(row.name);
      if (entries.length < spec.batchSize) break;
    }
    if (spec.checkpoints) await this.deliverCheckpoints(row, spec);
  }

  private async failed(row: DestinationRow, failure: string, at: string): Promise<void> {
    await this.deps.store.recordFailure(this.deps.database.db, row.name, failure, at);
    const failures = (this.backoff.get(row.name)?.failures ?? 0) + 1;
    const base = this.deps.retryBaseMs ?? 1000;
    const delay = Math.min(this.deps.retryMaxMs ?? 60_000, base * 2 ** (failures - 1));
    this.backoff.set(row.name, { failures, until: Date.now() + delay });
    this.deps.logger.warn(
      { destination: row.name, error: failure, retryInMs: delay },
      'audit stream delivery failed',
    );
  }

  // Signed checkpoints after the destination's checkpoint cursor, in order (at least once);
  // a destination that just opted in starts with the latest one.
  private async deliverCheckpoints(row: DestinationRow, spec: AuditStreamSpec): Promise<void> {
    const source = this.deps.checkpoints;
    if (!source) return;
    const checkpoints = await source(row.checkpoint_size, spec.batchSize);
    if (checkpoints.length === 0) return;
    let delivered = 0;
    let failure: string | undefined;
    try {
      delivered = await (await this.senderFor(row, spec)).sendCheckpoints(checkpoints);
    } catch (err) {
      delivered = err instanceof DeliveryError ? err.delivered : 0;
      failure = err instanceof DeliveryError ? err.message : 'delivery failed';
    }
    const at = this.deps.clock.now().toISOString();
    if (delivered > 0)
      await this.deps.store.advanceCheckpoint(
        this.deps.database.db,
        row.name,
        checkpoints[delivered - 1]!.size,
        at,
      );
    if (failure !== undefined) await this.failed(row, failure, at);
  }

  close(): void {
    for (const name of [...this.senders.keys()]) this.dropSender(name);
  }
}

function present(e: StoredAuditEntry): StreamedEntry {
  return {
    seq: e.seq,
    time: e.time,
    actor: e.actor,
    action: e.action,
    resource: e.resource,
    outcome: e.outcome,
    requestId: e.requestId,
    details: e.details,
    leafHash: e.leafHash,
  };
}

// Where a stream sends entries, for the approver (the URL or host, never a secret).
function destinationOf(spec: AuditStreamSpec): string {
  return 'url' in spec ? spec.url : `${spec.host}:${spec.port}`;
}
