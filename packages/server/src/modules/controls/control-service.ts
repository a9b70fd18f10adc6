import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.ts';
import { systemActor, type RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import type { InForceVersion } from '../resources/index.ts';
import { checkById, watchedKinds, type CheckState } from './catalog.ts';
import { evaluateCatalog, type CheckResult } from './check-evaluation.ts';
import { readSnapshot, type ControlSources, type RetentionReader } from './control-inputs.ts';
import type { CheckStateRow, KyselyControlStore } from './control-store.ts';
import { controlErrors } from './errors.ts';
import { controlPermissions as P } from './permissions.ts';

// What moved a check: versions that came into force (kind, name, version), or the clock.
export type CheckCause = { type: 'resources'; versions: InForceVersion[] } | { type: 'time' };

export interface CatalogItem extends CheckResult {
  // When the check entered this state as recorded in its history (null: not recorded yet).
  readonly since: string | null;
}

export interface HistoryItem {
  readonly id: string;
  readonly check: string;
  readonly control: string;
  readonly project: string;
  readonly environment: string;
  readonly state: CheckState;
  readonly message: string;
  readonly evidence: Record<string, unknown>;
  readonly cause: CheckCause;
  readonly from: string;
  readonly until: string | null;
}

interface Filter {
  project?: string | undefined;
  environment?: string | undefined;
}

// Ids sort in the order periods were opened (within a process), so periods that start at the
// same instant still list newest first.
const periodId = () =>
  `chk_${process.hrtime.bigint().toString().padStart(20, '0')}_${randomUUID().slice(0, 8)}`;

const keyOf = (r: { check: string; project: string; environment: string }) =>
  `${r.project}/${r.environment}/${r.check}`;
const rowKey = (r: CheckStateRow) =>
  keyOf({ check: r.check_id, project: r.project, environment: r.environment });

// The live control catalog: evaluates every check of every production environment, keeps
// each check's state over time, and writes `controls.check.weakened` / `.restored` in the
// transaction of whatever moved it (docs/reference/controls.md).
export class ControlService {
  private retention: RetentionReader | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyControlStore;
      sources: ControlSources;
      clock: Clock;
      retention?: RetentionReader | undefined;
    },
  ) {
    this.retention = deps.retention;
  }

  now(): Date {
    return this.deps.clock.now();
  }

  // The retention module's reader, when the installation has one.
  useRetention(reader: RetentionReader): void {
    this.retention = reader;
  }

  private async evaluate(db: AnyDb, at: Date, filter: Filter = {}): Promise<CheckResult[]> {
    const snapshot = await readSnapshot(db, this.deps.sources, this.retention, at);
    return evaluateCatalog(
      snapshot,
      (p, e) =>
        (!filter.project || filter.project === p) &&
        (!filter.environment || filter.environment === e),
    );
  }

  async catalog(ctx: RequestContext, filter: Filter): Promise<CatalogItem[]> {
    if (filter.environment && !filter.project)
      throw new DomainError(controlErrors.CONTROLS_FILTER_INVALID);
    const db = this.deps.database.db;
    const results = await this.evaluate(db, this.deps.clock.now(), filter);
    const open = new Map((await this.deps.store.openStates(db)).map((r) => [rowKey(r), r]));
    const allowed = await this.readable(ctx);
    const out: CatalogItem[] = [];
    for (const r of results) {
      if (!(await allowed(r.project, r.environment))) continue;
      const row = open.get(keyOf(r));
      out.push({ ...r, since: row && row.state === r.state ? row.from_at : null });
    }
    return out;
  }

  async history(
    ctx: RequestContext,
    filter: Filter & { check?: string | undefined },
    page: PageRequest = firstPage,
  ): Promise<PageOf<HistoryItem>> {
    if (filter.check && !checkById.has(filter.check))
      throw new DomainError(controlErrors.CONTROLS_CHECK_UNKNOWN, `no check ${filter.check}`, {
        known: [...checkById.keys()],
      });
    if (filter.environment && !filter.project)
      throw new DomainError(controlErrors.CONTROLS_FILTER_INVALID);
    const rows = await this.deps.store.history(this.deps.database.db, filter, page);
    const allowed = await this.readable(ctx);
    const items: HistoryItem[] = [];
    for (const r of rows.items) {
      if (!(await allowed(r.project, r.environment))) continue;
      const { message, ...evidence } = JSON.parse(r.evidence) as Record<string, unknown>;
      items.push({
        id: r.id,
        check: r.check_id,
        control: checkById.get(r.check_id)?.control ?? 'unknown',
        project: r.project,
        environment: r.environment,
        state: r.state as CheckState,
        message: typeof message === 'string' ? message : '',
        evidence,
        cause: JSON.parse(r.cause) as CheckCause,
        from: r.from_at,
        until: r.until_at,
      });
    }
    return { items, next: rows.next };
  }

  // Each environment is read at its own scope: a project-scoped reader sees its project only.
  private async readable(ctx: RequestContext) {
    const cache = new Map<string, boolean>();
    return async (project: string, environment: string): Promise<boolean> => {
      const key = `${project}/${environment}`;
      let ok = cache.get(key);
      if (ok === undefined) {
        ok = await ctx.guard.can(P['controls.catalog.read'], { project, environment });
        cache.set(key, ok);
      }
      return ok;
    };
  }

  // In the transaction that put versions in force: what they weakened is written with them,
  // so a change never commits without its entry and a rolled-back one leaves none.
  async afterInForce(
    tx: AnyTx,
    record: RecordAudit,
    versions: readonly InForceVersion[],
  ): Promise<void> {
    const relevant = versions.filter((v) => watchedKinds.has(v.kind));
    if (relevant.length === 0) return;
    const kinds = new Set(relevant.map((v) => v.kind));
    await this.reconcile(tx, record, this.deps.clock.now(), (check) =>
      checkById.get(check)!.reads.some((k) => kinds.has(k))
        ? {
            type: 'resources',
            versions: relevant.filter((v) => checkById.get(check)!.reads.includes(v.kind)),
          }
        : { type: 'time' },
    );
  }

  // The periodic re-evaluation (checkpoint age, stream delivery, reviews, retention): writes
  // only when some check moved. Returns how many did.
  async tick(): Promise<number> {
    const at = this.deps.clock.now();
    const results = await this.evaluate(this.deps.database.db, at);
    const open = await this.deps.store.openStates(this.deps.database.db);
    if (this.transitions(results, open).length === 0) return 0;
    const ctx = { actor: systemActor, requestId: `controls-${randomUUID()}` };
    return this.deps.uow.run(ctx, async (tx, record) => {
      const moved = await this.reconcile(tx, record, at, () => ({ type: 'time' }));
      // First records of checks (no state before them) are history, still in the ledger.
      if (moved.entries === 0)
        record({
          action: 'controls.catalog.recorded',
          resource: { type: 'ControlCatalog', id: 'production' },
          details: { checks: moved.recorded },
        });
      return moved.recorded;
    });
  }

  private transitions(results: CheckResult[], open: CheckStateRow[]) {
    const byKey = new Map(open.map((r) => [rowKey(r), r]));
    const seen = new Set<string>();
    const out: { result: CheckResult; before: CheckStateRow | undefined }[] = [];
    for (const r of results) {
      const key = keyOf(r);
      seen.add(key);
      const before = byKey.get(key);
      if (!before || before.state !== r.state) out.push({ result: r, before });
    }
    // A production environment that is no longer one (or a check retired): nothing holds.
    for (const row of open) {
      if (seen.has(rowKey(row)) || row.state === 'not_configured') continue;
      const def = checkById.get(row.check_id);
      out.push({
        before: row,
        result: {
          check: row.check_id,
          control: def?.control ?? 'deployment-controls',
          title: def?.title ?? row.check_id,
          project: row.project,
          environment: row.environment,
          state: 'not_configured',
          message: 'no longer a production environment in force',
          evidence: {},
        },
      });
    }
    return out;
  }

  private async reconcile(
    tx: AnyTx,
    record: RecordAudit,
    at: Date,
    causeOf: (check: string) => CheckCause,
  ): Promise<{ recorded: number; entries: number }> {
    const { store } = this.deps;
    const results = await this.evaluate(tx, at);
    const moved = this.transitions(results, await store.openStates(tx));
    const iso = at.toISOString();
    let entries = 0;
    for (const { result: r, before } of moved) {
      const cause = causeOf(r.check);
      if (before) await store.close(tx, before.id, iso);
      await store.open(tx, {
        id: periodId(),
        check_id: r.check,
        project: r.project,
        environment: r.environment,
        state: r.state,
        evidence: JSON.stringify({ message: r.message, ...r.evidence }),
        cause: JSON.stringify(cause),
        from_at: iso,
        until_at: null,
      });
      const weakened = before?.state === 'pass' && r.state !== 'pass';
      const restored = before !== undefined && before.state !== 'pass' && r.state === 'pass';
      if (!weakened && !restored) continue;
      entries++;
      record({
        action: weakened ? 'controls.check.weakened' : 'controls.check.restored',
        resource: { type: 'ControlCheck', id: keyOf(r) },
        details: {
          check: r.check,
          control: r.control,
          project: r.project,
          environment: r.environment,
          before: { state: before.state, since: before.from_at },
          after: { state: r.state, message: r.message },
          evidence: r.evidence,
          cause,
        },
      });
    }
    return { recorded: moved.length, entries };
  }
}
