import type { Clock } from '../../platform/clock.ts';
import type { AnyDb, AnyTx, Database } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { AnyRoute } from '../../platform/http/route.ts';
import type { ChangeService } from '../changes/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { ResourceService } from '../resources/index.ts';
import type { StreamService } from '../streams/index.ts';
import type { ControlFailure } from '../changes/index.ts';
import type { RetentionReader } from './control-inputs.ts';
import { controlRoutes } from './control-routes.ts';
import { ControlService } from './control-service.ts';
import { KyselyControlStore } from './control-store.ts';

// How often the leader re-evaluates the time-based checks (checkpoint age, stream delivery).
export const controlsTickMs = 60_000;

// The controls module, assembled: reads through the other modules' public surfaces, hooks
// into the resources' in-force transaction, and runs on the ledger leader.
export function assembleControls(deps: {
  database: Database;
  uow: UnitOfWork;
  clock: Clock;
  resources: ResourceService;
  streams: StreamService;
  ledger: Ledger;
  changes: ChangeService;
  // Entries committed to the audit trail, read with the given db or transaction.
  auditSize: (db: AnyDb) => Promise<number>;
  retention?: RetentionReader;
}): { service: ControlService; routes: AnyRoute[] } {
  const service = new ControlService({
    database: deps.database,
    uow: deps.uow,
    store: new KyselyControlStore(),
    clock: deps.clock,
    retention: deps.retention,
    sources: {
      inForce: (db, kind) => deps.resources.inForceVersions(db, kind),
      streams: (db) => deps.streams.deliveryStatus(db),
      latestCheckpoint: async (db) => {
        const row = await deps.ledger.service.latestOrUndefined(db);
        return row ? { size: row.size, createdAt: row.created_at } : undefined;
      },
      ledgerSize: deps.auditSize,
      controlFailures: async (db, at) => {
        const all: ControlFailure[] = [];
        let after: (string | number)[] | undefined;
        for (;;) {
          const page = await deps.changes.failures.list({ limit: 1000, after }, at, db);
          all.push(...page.items);
          if (!page.next) return all;
          after = [...page.next];
        }
      },
    },
  });
  deps.resources.onInForce((tx: AnyTx, _ctx, record, versions) =>
    service.afterInForce(tx, record, versions),
  );
  deps.ledger.election.addDuty({
    name: 'controls',
    intervalMs: controlsTickMs,
    tick: async () => {
      await service.tick();
    },
  });
  return { service, routes: controlRoutes(service) };
}
