import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from './platform/config/config.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { createDatabase, type Database } from './platform/db/database.ts';
import { migrateToLatest } from './platform/db/migrator.ts';
import { UnitOfWork, type FaultHooks } from './platform/db/unit-of-work.ts';
import { parseDuration } from './platform/duration.ts';
import { createHttpServer } from './platform/http/http-server.ts';
import type { AnyRoute } from './platform/http/route.ts';
import { createLogger } from './platform/log/logger.ts';
import {
  AuditService,
  KyselyAuditStore,
  auditMigrations,
  auditRoutes,
} from './modules/audit/index.ts';
import {
  IdentityAccessControl,
  IdentityService,
  KyselyPrincipalStore,
  KyselyRbacStore,
  identityKinds,
  identityMigrations,
  identityRoutes,
} from './modules/identity/index.ts';
import {
  KyselyProjectStore,
  ProjectService,
  projectKinds,
  projectMigrations,
} from './modules/projects/index.ts';
import {
  KyselyResourceStore,
  ResourceService,
  resourceMigrations,
  resourceRoutes,
} from './modules/resources/index.ts';
import {
  Ledger,
  ledgerMigrations,
  ledgerRoutes,
  type LedgerOptions,
} from './modules/ledger/index.ts';
import {
  FreezeService,
  KyselyFreezeStore,
  freezeKinds,
  freezeMigrations,
  freezeRoutes,
} from './modules/freeze/index.ts';
import { systemRoutes } from './system-routes.ts';

export interface AppDeps {
  config: Config;
  database?: Database;
  clock?: Clock;
  logger?: Logger;
  faults?: FaultHooks;
  // Tuning for the ledger's checkpointer and leader election (tests shorten the intervals).
  ledger?: Pick<
    LedgerOptions,
    'checkpointIntervalMs' | 'checkpointWaitMs' | 'leaderRetryMs' | 'batchSize'
  >;
}

// Background work (the ledger checkpointer, SIEM streamers) that createApp builds but never
// starts: main.ts starts it for real servers, tests start it or drive it by hand.
export interface BackgroundTasks {
  start(): void;
  stop(): Promise<void>;
}

export interface App {
  readonly http: FastifyInstance;
  readonly database: Database;
  readonly config: Config;
  readonly clock: Clock;
  readonly services: {
    readonly audit: AuditService;
    readonly identity: IdentityService;
    readonly access: IdentityAccessControl;
    readonly resources: ResourceService;
    readonly projects: ProjectService;
    readonly freeze: FreezeService;
    readonly ledger: Ledger;
  };
  readonly background: BackgroundTasks;
  readonly uow: UnitOfWork;
  readonly routes: readonly AnyRoute[];
  close(): Promise<void>;
}

export const allMigrations = [
  auditMigrations,
  identityMigrations,
  resourceMigrations,
  projectMigrations,
  ledgerMigrations,
  freezeMigrations,
];

// Builds everything and never listens: tests inject requests, main.ts listens.
export async function createApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const ownsDatabase = !deps.database;
  const database = deps.database ?? createDatabase(config.databaseUrl);
  await migrateToLatest(database, allMigrations);

  const audit = new AuditService({
    database,
    store: new KyselyAuditStore(database.dialect),
    clock,
  });
  const uow = new UnitOfWork(database, audit, deps.faults);
  const principals = new KyselyPrincipalStore();
  const rbac = new KyselyRbacStore();
  const access = new IdentityAccessControl({ database, uow, principals, rbac, clock });
  const identity = new IdentityService({
    database,
    uow,
    principals,
    access,
    clock,
    tokenMaxTtlMs: parseDuration(config.tokenMaxTtl)!,
    sessionTtlMs: parseDuration(config.sessionTtl)!,
  });
  const resources = new ResourceService({ database, uow, store: new KyselyResourceStore(), clock });
  const projectStore = new KyselyProjectStore();
  const projects = new ProjectService({ database, store: projectStore });
  for (const handler of [...projectKinds(projectStore), ...identityKinds(rbac)])
    resources.register(handler);
  const freezeStore = new KyselyFreezeStore();
  const freeze = new FreezeService({ database, uow, store: freezeStore, projects, clock });
  for (const handler of freezeKinds(freezeStore)) resources.register(handler);

  const ledger = new Ledger({
    database,
    audit: {
      list: (filter) => audit.list(filter),
      size: () => audit.size(),
    },
    key: {
      dataDir: config.dataDir,
      ledgerKeyFile: config.ledgerKeyFile,
      publicUrl: config.publicUrl,
    },
    clock,
    logger,
    ...deps.ledger,
  });
  const background: BackgroundTasks = {
    start: () => ledger.start(),
    stop: () => ledger.stop(),
  };

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const routes: AnyRoute[] = [];
  routes.push(
    ...systemRoutes({ database, metrics, routes: () => routes }),
    ...identityRoutes(identity),
    ...resourceRoutes(resources),
    ...auditRoutes(audit),
    ...ledgerRoutes(ledger),
    ...freezeRoutes(freeze),
  );
  const http = createHttpServer({
    routes,
    accessControl: access,
    logger,
    bodyLimit: config.bodyLimit,
    metrics,
  });
  await http.ready();

  return {
    http,
    database,
    config,
    clock,
    services: { audit, identity, access, resources, projects, ledger, freeze },
    background,
    uow,
    routes,
    async close() {
      await background.stop();
      await http.close();
      if (ownsDatabase) await database.destroy();
    },
  };
}
