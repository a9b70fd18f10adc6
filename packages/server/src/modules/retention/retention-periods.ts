import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { systemActor } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { retentionErrors } from './errors.ts';
import { checkGuards, type GuardState } from './guard-check.ts';
import type { KyselyRetentionStore } from './retention-store.ts';

// Seven years for SOX; the organization minimum (server setting) may raise, never lower, it.
export const defaultRetentionYears = 7;
export const organizationScope = '*';

/** What the controls catalog asks: the effective retention of a project's records, in years. */
export interface RetentionReader {
  yearsFor(project: string): Promise<number>;
  // Whether the database still has (and enforces) every retention trigger.
  guards(): Promise<GuardState>;
}

// The periods the database triggers read: the organization minimum (recorded at start when it
// differs from the last one) and each project's setting (recorded in the transaction that puts
// a Project version in force). A period is never updated; a new one is appended.
export class RetentionPeriods implements RetentionReader {
  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyRetentionStore;
      clock: Clock;
      minimumYears: number;
    },
  ) {}

  get minimumYears(): number {
    return this.deps.minimumYears;
  }

  // Start-up: the configured minimum becomes the one in force, with its ledger entry. Lowering
  // it shortens nothing stored before (the triggers keep the longest period since a row's time).
  async prepare(): Promise<void> {
    const db = this.deps.database.db;
    const last = await this.deps.store.latestPeriod(db, organizationScope);
    if (last?.years === this.deps.minimumYears) return;
    const ctx = { actor: systemActor, requestId: `retention-${randomUUID()}` };
    await this.deps.uow.run(ctx, async (tx, record) => {
      const at = this.deps.clock.now().toISOString();
      await this.deps.store.insertPeriod(tx, {
        id: newId('rtp'),
        scope: organizationScope,
        years: this.deps.minimumYears,
        effective_at: at,
        recorded_by: 'system:custody',
      });
      record({
        action: 'retention.minimum.changed',
        resource: { type: 'RetentionPeriod', id: organizationScope },
        details: { years: this.deps.minimumYears, previous: last?.years ?? null },
      });
    });
  }

  // The years a project declares (or the default) below the minimum are refused at apply.
  check(years: number | undefined): void {
    if (years !== undefined && years < this.deps.minimumYears)
      throw new DomainError(
        retentionErrors.RETENTION_BELOW_MINIMUM,
        `retention of ${years} years is below the organization minimum of ${this.deps.minimumYears}`,
        { years, minimumYears: this.deps.minimumYears },
      );
  }

  declared(years: number | undefined): number {
    return years ?? defaultRetentionYears;
  }

  // A Project version that shortens its retention weakens a control.
  lowers(before: number | undefined, after: number | undefined): boolean {
    return this.declared(after) < this.declared(before);
  }

  // In the transaction of the Project version coming into force (the apply's ledger entry
  // records the version); nothing is written when the period does not change.
  async inForce(tx: AnyTx, project: string, years: number | undefined): Promise<void> {
    const declared = this.declared(years);
    const last = await this.deps.store.latestPeriod(tx, project);
    if (last?.years === declared) return;
    await this.deps.store.insertPeriod(tx, {
      id: newId('rtp'),
      scope: project,
      years: declared,
      effective_at: this.deps.clock.now().toISOString(),
      recorded_by: 'resource:Project',
    });
  }

  guards(): Promise<GuardState> {
    return checkGuards(this.deps.database, this.deps.store);
  }

  async yearsFor(project: string, db: AnyDb | AnyTx = this.deps.database.db): Promise<number> {
    const last = await this.deps.store.latestPeriod(db, project);
    return Math.max(this.deps.minimumYears, this.declared(last?.years));
  }
}
