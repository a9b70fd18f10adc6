import type { Clock } from '../../platform/clock.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { parseDuration } from '../../platform/duration.ts';
import { DomainError } from '../../platform/errors.ts';
import { refuseDelegatedDecision } from '../../platform/four-eyes.ts';
import { newId } from '../../platform/ids.ts';
import type { ProjectService } from '../projects/index.ts';
import { freezeErrors } from './errors.ts';
import { FreezeSchedule } from './freeze-schedule.ts';
import type { FreezeLane, FreezeWindowSpec } from './freeze-spec.ts';
import type { FreezeOverrideRow, KyselyFreezeStore } from './freeze-store.ts';
import { freezePermissions as P } from './permissions.ts';

export interface FreezeTarget {
  readonly project: string;
  readonly environment: string;
  // Looked up from the Environment resource when not given.
  readonly environmentType?: 'production' | 'pre-production' | undefined;
  readonly at: Date;
  // The lane the deployment travels in; windows list the lanes they let through.
  readonly lane?: FreezeLane | undefined;
}

export interface ActiveWindow {
  readonly name: string;
  readonly version: number;
  readonly description: string | null;
  readonly timeZone: string;
  // Which scope entry made the window apply: `environmentType:production`, `project:payments`…
  readonly matchedBy: string;
  readonly start: string;
  readonly end: string;
  readonly localStart: string;
  readonly localEnd: string;
  readonly why: string;
  readonly exceptions: FreezeLane[];
}

export interface FreezeOverrideView {
  readonly id: string;
  readonly project: string;
  readonly environment: string;
  readonly reason: string;
  readonly createdBy: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdAt: string;
  readonly windows: string[];
}

export interface FreezeDecision {
  // True when a window is in force for the target's lane and no override covers it.
  readonly frozen: boolean;
  readonly windows: ActiveWindow[];
  // Windows in force that let the target's lane through.
  readonly excepted: ActiveWindow[];
  readonly override: FreezeOverrideView | null;
  readonly reasons: string[];
}

const maxOverrideMs = 86_400_000;
const defaultOverrideMs = 2 * 3_600_000;

function principal(actor: RequestContext['actor']): string {
  return `${actor.type === 'service_account' ? 'serviceaccount' : actor.type}:${actor.name}`;
}

function present(row: FreezeOverrideRow): FreezeOverrideView {
  return {
    id: row.id,
    project: row.project,
    environment: row.environment,
    reason: row.reason,
    createdBy: row.created_by,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    createdAt: row.created_at,
    windows: JSON.parse(row.windows) as string[],
  };
}

// Freeze windows are evaluated when a production step is about to start, never when a run
// is created: the deployment gate calls `check` (or `activeWindows`) with the step's time.
export class FreezeService {
  private readonly compiled = new Map<
    string,
    { version: number; schedule: FreezeSchedule; spec: FreezeWindowSpec }
  >();

  constructor(
    private readonly deps: {
      database: Database;
      uow: UnitOfWork;
      store: KyselyFreezeStore;
      projects: ProjectService;
      clock: Clock;
    },
  ) {}

  now(): Date {
    return this.deps.clock.now();
  }

  // Windows in force for the target at `at`, with why; windows that let the lane through are
  // left out (see `check` for the full decision including them and overrides).
  async activeWindows(target: FreezeTarget, tx?: AnyTx): Promise<ActiveWindow[]> {
    const { windows } = await this.evaluate(target, tx);
    return windows;
  }

  async check(target: FreezeTarget, tx?: AnyTx): Promise<FreezeDecision> {
    const db = tx ?? this.deps.database.db;
    const { windows, excepted } = await this.evaluate(target, tx);
    const reasons: string[] = [];
    let override: FreezeOverrideView | null = null;
    if (windows.length > 0) {
      const rows = await this.deps.store.overridesAt(db, {
        project: target.project,
        environment: target.environment,
        at: target.at.toISOString(),
      });
      const found = rows
        .map(present)
        .find((o) => o.windows.length === 0 || windows.every((w) => o.windows.includes(w.name)));
      override = found ?? null;
      for (const w of windows) reasons.push(`freeze window ${w.name} is in force: ${w.why}`);
      if (override)
        reasons.push(
          `overridden by ${override.createdBy} until ${override.endsAt} (${override.id}): ${override.reason}`,
        );
    }
    for (const w of excepted)
      reasons.push(`freeze window ${w.name} lets the ${target.lane} lane through`);
    return { frozen: windows.length > 0 && !override, windows, excepted, override, reasons };
  }

  // Throws FREEZE_ACTIVE with the windows and what would unblock, for callers that prefer errors.
  async assertNotFrozen(target: FreezeTarget, tx?: AnyTx): Promise<FreezeDecision> {
    const decision = await this.check(target, tx);
    if (decision.frozen) {
      throw new DomainError(freezeErrors.FREEZE_ACTIVE, decision.reasons.join('; '), {
        windows: decision.windows,
      });
    }
    return decision;
  }

  async createOverride(
    ctx: RequestContext,
    input: {
      project: string;
      environment: string;
      reason: string;
      duration?: string | undefined;
      startsAt?: Date | undefined;
      windows?: readonly string[] | undefined;
    },
  ): Promise<FreezeOverrideView> {
    const reason = input.reason.trim();
    if (reason === '') throw new DomainError(freezeErrors.FREEZE_OVERRIDE_REASON_REQUIRED);
    const ms = input.duration === undefined ? defaultOverrideMs : parseDuration(input.duration);
    if (ms === undefined || ms > maxOverrideMs)
      throw new DomainError(freezeErrors.FREEZE_OVERRIDE_TOO_LONG, undefined, {
        duration: input.duration,
      });
    const resource = { type: 'environment', id: `${input.project}/${input.environment}` };
    // Letting deploys through a freeze is a person's decision: never through a token someone
    // else issued for them.
    await refuseDelegatedDecision(ctx, this.deps.uow, 'freeze.override.create', resource);
    await ctx.guard.require(
      P['freeze.window.override'],
      { project: input.project, environment: input.environment },
      resource,
    );
    if (ctx.actor.type !== 'user') {
      await this.deps.uow.recordAttempt(ctx, {
        action: 'freeze.override.created',
        resource,
        outcome: 'denied',
        details: { code: freezeErrors.FREEZE_SERVICE_ACCOUNT_FORBIDDEN.code, reason },
      });
      throw new DomainError(freezeErrors.FREEZE_SERVICE_ACCOUNT_FORBIDDEN);
    }
    if (!(await this.deps.projects.environment(input.project, input.environment)))
      throw new DomainError(freezeErrors.FREEZE_ENVIRONMENT_NOT_FOUND, undefined, resource);
    const now = this.deps.clock.now();
    const startsAt = input.startsAt ?? now;
    // No back-dated overrides, and none booked more than a week ahead.
    if (
      startsAt.getTime() < now.getTime() - 300_000 ||
      startsAt.getTime() > now.getTime() + 7 * 86_400_000
    )
      throw new DomainError(freezeErrors.FREEZE_OVERRIDE_START_INVALID, undefined, {
        startsAt: startsAt.toISOString(),
      });
    const row: FreezeOverrideRow = {
      id: newId('fov'),
      project: input.project,
      environment: input.environment,
      reason,
      created_by: principal(ctx.actor),
      starts_at: startsAt.toISOString(),
      ends_at: new Date(startsAt.getTime() + ms).toISOString(),
      created_at: now.toISOString(),
      windows: JSON.stringify([...(input.windows ?? [])].sort()),
    };
    return this.deps.uow.run(ctx, async (tx, record) => {
      await this.deps.store.insertOverride(tx, row);
      record({
        action: 'freeze.override.created',
        resource,
        details: {
          override: row.id,
          reason,
          startsAt: row.starts_at,
          endsAt: row.ends_at,
          windows: JSON.parse(row.windows) as string[],
        },
      });
      return present(row);
    });
  }

  async listOverrides(
    filter: {
      project?: string | undefined;
      environment?: string | undefined;
      since?: Date | undefined;
      until?: Date | undefined;
    },
    page: PageRequest = firstPage,
  ): Promise<PageOf<FreezeOverrideView>> {
    const rows = await this.deps.store.listOverrides(
      this.deps.database.db,
      {
        project: filter.project,
        environment: filter.environment,
        since: filter.since?.toISOString(),
        until: filter.until?.toISOString(),
      },
      page,
    );
    return { items: rows.items.map(present), next: rows.next };
  }

  private async evaluate(
    target: FreezeTarget,
    tx?: AnyTx,
  ): Promise<{ windows: ActiveWindow[]; excepted: ActiveWindow[] }> {
    const db = tx ?? this.deps.database.db;
    let type = target.environmentType;
    if (!type) {
      const env = await this.deps.projects.environment(target.project, target.environment, tx);
      if (!env)
        throw new DomainError(freezeErrors.FREEZE_ENVIRONMENT_NOT_FOUND, undefined, {
          project: target.project,
          environment: target.environment,
        });
      type = env.type;
    }
    const windows: ActiveWindow[] = [];
    const excepted: ActiveWindow[] = [];
    for (const row of await this.deps.store.windows(db)) {
      let entry = this.compiled.get(row.name);
      if (!entry || entry.version !== row.version) {
        const spec = JSON.parse(row.spec) as FreezeWindowSpec;
        entry = { version: row.version, spec, schedule: new FreezeSchedule(spec) };
        this.compiled.set(row.name, entry);
      }
      const { spec, schedule } = entry;
      if (spec.enabled === false) continue;
      const matchedBy = spec.scope.environments?.includes(`${target.project}/${target.environment}`)
        ? `environment:${target.project}/${target.environment}`
        : spec.scope.projects?.includes(target.project)
          ? `project:${target.project}`
          : spec.scope.environmentTypes?.includes(type)
            ? `environmentType:${type}`
            : undefined;
      if (!matchedBy) continue;
      const occ = schedule.occurrenceAt(target.at);
      if (!occ) continue;
      const active: ActiveWindow = {
        name: row.name,
        version: row.version,
        description: spec.description ?? null,
        timeZone: spec.timeZone,
        matchedBy,
        start: occ.start.toISOString(),
        end: occ.end.toISOString(),
        localStart: occ.localStart,
        localEnd: occ.localEnd,
        why: occ.why,
        exceptions: spec.exceptions,
      };
      if (target.lane && spec.exceptions.includes(target.lane)) excepted.push(active);
      else windows.push(active);
    }
    return { windows, excepted };
  }
}
