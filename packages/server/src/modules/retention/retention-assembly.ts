import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { CreatorLookup } from '../../platform/four-eyes.ts';
import type { AnyRoute } from '../../platform/http/route.ts';
import type { EvidenceDocuments } from '../evidence/index.ts';
import type { ExecutionReads } from '../executions/index.ts';
import type { ProjectService } from '../projects/index.ts';
import { FixityCheck } from './fixity.ts';
import { HoldService, type ChangeRuns } from './hold-service.ts';
import { retentionRoutes } from './retention-routes.ts';
import { RetentionPeriods } from './retention-periods.ts';
import { KyselyRetentionStore } from './retention-store.ts';

// The periods come first: the Project kind writes them in the transaction of each version in
// force, and is registered before the rest of the app exists.
export function retentionPeriods(deps: {
  database: Database;
  uow: UnitOfWork;
  clock: Clock;
  minimumYears: number;
}): RetentionPeriods {
  return new RetentionPeriods({ ...deps, store: new KyselyRetentionStore() });
}

// The retention module, assembled: legal holds, the fixity check (on demand, and as a leader
// duty every `intervalMs`), and its routes. `prepare` records the organization minimum.
export async function assembleRetention(deps: {
  database: Database;
  uow: UnitOfWork;
  clock: Clock;
  periods: RetentionPeriods;
  projects: ProjectService;
  executions: ExecutionReads;
  documents: EvidenceDocuments;
  changeRuns: ChangeRuns;
  creators: CreatorLookup;
  sockPuppetWindowMs: number | null;
  lastFixity: () => Promise<string | undefined>;
  fixityIntervalMs: number | null;
  addDuty: (duty: { name: string; intervalMs: number; tick: () => Promise<void> }) => void;
}): Promise<{ holds: HoldService; fixity: FixityCheck; routes: AnyRoute[] }> {
  const store = new KyselyRetentionStore();
  await deps.periods.prepare();
  const holds = new HoldService({ ...deps, store });
  const fixity = new FixityCheck({
    ...deps,
    lastChecked: deps.lastFixity,
    guards: () => deps.periods.guards(),
  });
  const interval = deps.fixityIntervalMs;
  if (interval !== null)
    deps.addDuty({
      name: 'fixity',
      intervalMs: Math.min(interval, 60_000),
      tick: async () => {
        await fixity.due(interval);
      },
    });
  return { holds, fixity, routes: retentionRoutes({ holds, periods: deps.periods, fixity }) };
}
