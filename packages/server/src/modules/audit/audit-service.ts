import type { Clock } from '../../platform/clock.ts';
import type { AuditRecord, RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { AuditAppender } from '../../platform/db/unit-of-work.ts';
import { scrubDetails } from './audit-entry.ts';
import type { AuditFilter, KyselyAuditStore, StoredAuditEntry } from './audit-store.ts';

export type AppendListener = (entry: StoredAuditEntry) => void;

export class AuditService implements AuditAppender {
  private readonly listeners: AppendListener[] = [];

  constructor(
    private readonly deps: { database: Database; store: KyselyAuditStore; clock: Clock },
  ) {}

  async append(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    record: AuditRecord,
  ): Promise<void> {
    await this.appendAll(tx, ctx, [record]);
  }

  // The records of one unit of work, appended together (consecutive seqs, one round trip).
  async appendAll(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    records: readonly AuditRecord[],
  ): Promise<void> {
    const time = this.deps.clock.now().toISOString();
    const entries = await this.deps.store.appendMany(
      tx,
      records.map((record) => ({
        time,
        actor: {
          type: ctx.actor.type,
          id: ctx.actor.id,
          name: ctx.actor.name,
          authMethod: ctx.actor.authMethod,
          ip: ctx.actor.ip,
        },
        action: record.action,
        resource: { type: record.resource.type, id: record.resource.id },
        outcome: record.outcome ?? 'succeeded',
        requestId: ctx.requestId || null,
        details: scrubDetails(record.details ?? {}) as Record<string, unknown>,
      })),
    );
    for (const entry of entries) for (const l of this.listeners) l(entry);
  }

  // Listeners learn of entries appended in this process (they may still roll back; readers
  // such as the ledger builder re-read committed rows).
  onAppend(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  async list(filter: AuditFilter): Promise<StoredAuditEntry[]> {
    return this.deps.store.list(this.deps.database.db, filter);
  }

  async leafHashes(afterSeq: number, limit: number): Promise<{ seq: number; leafHash: string }[]> {
    return this.deps.store.leafHashes(this.deps.database.db, afterSeq, limit);
  }

  async size(): Promise<number> {
    return this.deps.store.count(this.deps.database.db);
  }
}
