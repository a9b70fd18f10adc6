import type { Clock } from '../../platform/clock.ts';
import type { AuditRecord, RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { AuditAppender } from '../../platform/db/unit-of-work.ts';
import { scrubDetails } from './audit-entry.ts';
import type {
  AuditFilter,
  AuthenticatedLeaf,
  KyselyAuditStore,
  StoredAuditEntry,
} from './audit-store.ts';
import { EntryAuthenticator } from './entry-mac.ts';

export class AuditService implements AuditAppender {
  private authenticator: EntryAuthenticator | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      store: KyselyAuditStore;
      clock: Clock;
      /** Hex key of the entry MACs; read on first write (the ledger key may not exist yet). */
      entryKey: () => string;
    },
  ) {}

  private get auth(): EntryAuthenticator {
    return (this.authenticator ??= new EntryAuthenticator(this.deps.entryKey()));
  }

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
    if (records.length === 0) return;
    const time = this.deps.clock.now().toISOString();
    const { type, id, name, authMethod, ip } = ctx.actor;
    // One actor object for the whole unit of work: entries are never mutated.
    const actor = { type, id, name, authMethod, ip };
    const requestId = ctx.requestId || null;
    // An impersonating token's entries name its issuer next to its principal (the actor).
    const delegatedBy = ctx.actor.delegatedBy ?? null;
    await this.deps.store.appendMany(
      tx,
      records.map((record) => {
        const details = scrubDetails(record.details ?? {}) as Record<string, unknown>;
        return {
          time,
          actor,
          action: record.action,
          resource: { type: record.resource.type, id: record.resource.id },
          outcome: record.outcome ?? 'succeeded',
          requestId,
          details: delegatedBy ? { ...details, delegatedBy } : details,
        };
      }),
      this.auth,
    );
  }

  async list(filter: AuditFilter, tx?: AnyTx): Promise<StoredAuditEntry[]> {
    return this.deps.store.list(tx ?? this.deps.database.db, filter);
  }

  async leafHashes(afterSeq: number, limit: number): Promise<AuthenticatedLeaf[]> {
    return this.deps.store.leafHashes(this.deps.database.db, afterSeq, limit);
  }

  async macsFrom(): Promise<number> {
    return this.deps.store.macsFrom(this.deps.database.db);
  }

  async size(): Promise<number> {
    return this.deps.store.count(this.deps.database.db);
  }
}
