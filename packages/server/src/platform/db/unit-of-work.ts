import type { Clock } from '../clock.ts';
import type { AuditRecord, RequestContext } from '../context.ts';
import type { AnyTx, Database } from './database.ts';
import { DeniedAttemptAggregator } from './denied-attempts.ts';
import { DomainError } from '../errors.ts';

// The audit module implements this; the platform only knows the shape.
export interface AuditAppender {
  append(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    record: AuditRecord,
  ): Promise<void>;
  // Appends all records of a unit of work at once (in order), if the appender can.
  appendAll?(
    tx: AnyTx,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    records: readonly AuditRecord[],
  ): Promise<void>;
}

export interface FaultHooks {
  // Test hook: throw here to prove the change and its audit entry commit or roll back together.
  beforeCommit?(records: readonly AuditRecord[]): void | Promise<void>;
}

export type RecordAudit = (record: AuditRecord) => void;

// How denied attempts are aggregated (see denied-attempts.ts); without it every one is written.
export interface AttemptPolicy {
  readonly perWindow: number;
  readonly windowMs: number;
  readonly clock: Clock;
  readonly onError?: (err: unknown) => void;
  readonly maxKeys?: number;
  readonly anonymousInFullPerWindow?: number;
}

export class MutationWithoutAuditError extends Error {}

// One use case = one transaction holding the change and its audit entries. A mutation that
// records nothing is a programming error and fails loudly instead of committing unaudited.
export class UnitOfWork {
  readonly attempts: DeniedAttemptAggregator | undefined;

  constructor(
    private readonly database: Database,
    private readonly audit: AuditAppender,
    private readonly faults: FaultHooks = {},
    attemptPolicy?: AttemptPolicy,
  ) {
    this.attempts = attemptPolicy
      ? new DeniedAttemptAggregator({ ...attemptPolicy, write: (ctx, r) => this.append(ctx, r) })
      : undefined;
  }

  async run<T>(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    work: (tx: AnyTx, record: RecordAudit) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.database.db.transaction().execute(async (tx) => {
        const records: AuditRecord[] = [];
        const result = await work(tx, (r) => records.push(r));
        if (records.length === 0)
          throw new MutationWithoutAuditError('a mutation committed no audit record');
        if (this.audit.appendAll) await this.audit.appendAll(tx, ctx, records);
        else for (const r of records) await this.audit.append(tx, ctx, r);
        await this.faults.beforeCommit?.(records);
        return result;
      });
    } catch (err) {
      // The refusal is kept even though the use case's writes are not.
      const after = err instanceof DomainError ? err.afterRollback : undefined;
      if (after) {
        (err as DomainError).afterRollback = undefined;
        await this.run(ctx, after);
      }
      throw err;
    }
  }

  // Denied and failed attempts are recorded on their own, since the attempt itself rolls back.
  // Denials are aggregated per source (the first N per window in full, then a summary entry);
  // failures of the platform itself (`outcome: 'failed'`) are always written in full.
  async recordAttempt(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    record: AuditRecord,
  ): Promise<void> {
    if (record.outcome !== 'failed' && this.attempts && !this.attempts.admit(ctx, record)) return;
    await this.append(ctx, record);
  }

  // Writes the pending summaries of denied attempts (shutdown).
  async close(): Promise<void> {
    await this.attempts?.stop();
  }

  private async append(
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    record: AuditRecord,
  ): Promise<void> {
    await this.database.db.transaction().execute(async (tx) => {
      await this.audit.append(tx, ctx, record);
    });
  }
}
