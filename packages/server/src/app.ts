import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from './platform/config/config.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { systemActor } from './platform/context.ts';
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
  environmentKind,
  registerEnvironmentApprovals,
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
  ledgerEntryKey,
  ledgerMigrations,
  ledgerRoutes,
  type LedgerOptions,
  ledgerKeyPath,
  toCheckpointView,
} from './modules/ledger/index.ts';
import {
  KyselyStreamStore,
  StreamService,
  deriveSealingKey,
  streamMigrations,
  streamRoutes,
} from './modules/streams/index.ts';
import {
  ApprovalService,
  KyselyApprovalStore,
  approvalMigrations,
  approvalRoutes,
} from './modules/approvals/index.ts';
import {
  ExecutionEngine,
  KyselyExecutionStore,
  executionMigrations,
  executionRoutes,
  type EngineOptions,
} from './modules/executions/index.ts';
import {
  KyselyPipelineStore,
  PipelineService,
  pipelineKind,
  pipelineMigrations,
  pipelineRoutes,
} from './modules/pipelines/index.ts';
import {
  KyselyRunnerStore,
  RunnerService,
  runnerMigrations,
  runnerRoutes,
} from './modules/runners/index.ts';
import {
  KyselySecretStore,
  SecretService,
  secretMigrations,
  secretRoutes,
} from './modules/secrets/index.ts';
import {
  FreezeService,
  KyselyFreezeStore,
  freezeKinds,
  freezeMigrations,
  freezeRoutes,
} from './modules/freeze/index.ts';
import {
  ChangeService,
  CredentialSealer,
  KyselyChangeStore,
  changeKinds,
  changeMigrations,
  changeRoutes,
} from './modules/changes/index.ts';
import { KyselyScmStore, ScmService, scmMigrations, scmRoutes } from './modules/scm/index.ts';
import {
  DeploymentGate,
  DeploymentService,
  KyselyDeploymentStore,
  deploymentMigrations,
  deploymentRoutes,
} from './modules/deployments/index.ts';
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
  // Execution engine tuning (lease TTL, attempts); env CUSTODY_LEASE_TTL_MS and
  // CUSTODY_REQUEUE_TIMEOUT_MS override the lease period and how long a requeued job waits.
  engine?: Partial<EngineOptions>;
  // SIEM delivery retry backoff (tests shorten it).
  streams?: { retryBaseMs?: number; retryMaxMs?: number };
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
    readonly ledger: Ledger;
    readonly streams: StreamService;
    readonly pipelines: PipelineService;
    readonly approvals: ApprovalService;
    readonly engine: ExecutionEngine;
    readonly runners: RunnerService;
    readonly secrets: SecretService;
    readonly scm: ScmService;
    readonly freeze: FreezeService;
    readonly changes: ChangeService;
    readonly gate: DeploymentGate;
    readonly deployments: DeploymentService;
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
  approvalMigrations,
  pipelineMigrations,
  executionMigrations,
  runnerMigrations,
  secretMigrations,
  scmMigrations,
  freezeMigrations,
  changeMigrations,
  streamMigrations,
  deploymentMigrations,
];

// Builds everything and never listens: tests inject requests, main.ts listens.
export async function createApp(deps: AppDeps): Promise<App> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const ownsDatabase = !deps.database;
  const database =
    deps.database ??
    createDatabase(config.databaseUrl, {
      onConnectionError: (err) => logger.warn({ err }, 'database connection lost; reconnecting'),
    });
  await migrateToLatest(database, allMigrations);

  // The ledger key file: the checkpoints' signing key, and (through HKDF) the key of the
  // MAC every audit entry carries, which the checkpointer checks before signing.
  const ledgerKey = {
    dataDir: config.dataDir,
    ledgerKeyFile: config.ledgerKeyFile,
    ledgerStateFile: config.ledgerStateFile,
    publicUrl: config.publicUrl,
  };
  let entryKey: string | undefined;
  const ledgerEntryKeyOnce = (): string => (entryKey ??= ledgerEntryKey(ledgerKey));
  const audit = new AuditService({
    database,
    store: new KyselyAuditStore(),
    clock,
    entryKey: ledgerEntryKeyOnce,
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
  const approvals = new ApprovalService({
    database,
    uow,
    audit,
    store: new KyselyApprovalStore(),
    clock,
  });
  const projects = new ProjectService({ database, store: projectStore });
  const environments = { store: projectStore, approvals, clock };
  for (const handler of [
    ...projectKinds(projectStore),
    environmentKind(environments),
    ...identityKinds(rbac),
  ])
    resources.register(handler);
  registerEnvironmentApprovals(environments);
  const freezeStore = new KyselyFreezeStore();
  const freeze = new FreezeService({ database, uow, store: freezeStore, projects, clock });
  for (const handler of freezeKinds(freezeStore)) resources.register(handler);
  const changeStore = new KyselyChangeStore();
  const changes = new ChangeService({
    database,
    uow,
    store: changeStore,
    projects,
    clock,
    sealer: new CredentialSealer(path.join(path.resolve(config.dataDir), 'secrets.key')),
  });
  for (const handler of changeKinds(changeStore)) resources.register(handler);
  const pipelineStore = new KyselyPipelineStore();
  const pipelines = new PipelineService({ database, store: pipelineStore });
  resources.register(pipelineKind({ store: pipelineStore, projects, approvals }));
  const secrets = new SecretService({
    database,
    uow,
    store: new KyselySecretStore(),
    clock,
    projects,
    keyFile: path.join(path.resolve(config.dataDir), 'secrets.key'),
  });
  // The deployment gate: protection rules of the Environment, evaluated by the engine when a
  // deploy stage starts and right before its job is leased.
  const deploymentStore = new KyselyDeploymentStore();
  const scmStore = new KyselyScmStore();
  const gate = new DeploymentGate({
    store: deploymentStore,
    clock,
    projects,
    freeze,
    changes,
    pipelines,
    scm: scmStore,
    rbac,
  });
  const envLeaseTtl = Number(process.env.CUSTODY_LEASE_TTL_MS);
  const envRequeue = Number(process.env.CUSTODY_REQUEUE_TIMEOUT_MS);
  const engine = new ExecutionEngine({
    database,
    uow,
    store: new KyselyExecutionStore(database.dialect),
    clock,
    pipelines,
    approvals,
    secrets,
    gate,
    options: {
      ...(envLeaseTtl > 0 ? { leaseTtlMs: envLeaseTtl } : {}),
      ...(envRequeue > 0 ? { requeueTimeoutMs: envRequeue } : {}),
      ...deps.engine,
    },
    onError: (err) => logger.error({ err }, 'scheduler tick failed'),
    environmentPool: async (project, environment) =>
      (await projects.environment(project, environment))?.spec.runnerPool,
  });
  const scm = new ScmService({
    database,
    uow,
    store: scmStore,
    clock,
    secrets,
    pipelines,
    engine,
    access,
  });
  const executionStore = new KyselyExecutionStore(database.dialect);
  const deployments = new DeploymentService({
    database,
    uow,
    clock,
    store: deploymentStore,
    gate,
    executions: executionStore,
    projects,
    pipelines,
    scm: scmStore,
    rbac,
    engine,
  });
  const runners = new RunnerService({
    database,
    uow,
    store: new KyselyRunnerStore(),
    clock,
    engine,
    identity,
    resources,
  });

  const ledger: Ledger = new Ledger({
    database,
    audit: {
      list: (filter) => audit.list(filter),
      leafHashes: (afterSeq, limit) => audit.leafHashes(afterSeq, limit),
      size: () => audit.size(),
      macsFrom: () => audit.macsFrom(),
    },
    key: ledgerKey,
    entryKey: ledgerEntryKeyOnce,
    witnesses: config.witnesses,
    // A control failure also goes into the audit trail, and so to the SIEM streams.
    onControlFailure: (f): Promise<void> =>
      uow.recordAttempt(
        { actor: systemActor, requestId: `ledger-${randomUUID()}` },
        {
          action: 'ledger.control.failed',
          resource: { type: 'Ledger', id: ledger.service.signer.name },
          outcome: 'failed',
          details: { code: f.code, seq: f.seq, message: f.message },
        },
      ),
    clock,
    logger,
    ...deps.ledger,
  });
  // SIEM streaming runs on the ledger leader only, so entries go out once and in order.
  const auditStore = new KyselyAuditStore();
  const streams = new StreamService({
    database,
    uow,
    store: new KyselyStreamStore(),
    audit: {
      list: (filter) => audit.list(filter),
      size: () => audit.size(),
      sizeIn: (tx) => auditStore.count(tx),
    },
    clock,
    logger: logger.child({ component: 'streams' }),
    // Destination secrets are sealed under a key derived from the ledger signing key, which
    // every replica shares; it never leaves the data directory.
    sealingKey: () => {
      void ledger.service.signer; // created at first start
      return deriveSealingKey(
        readFileSync(
          ledgerKeyPath({ dataDir: config.dataDir, ledgerKeyFile: config.ledgerKeyFile }),
        ),
      );
    },
    // Signed checkpoints for destinations with `checkpoints: true`: a copy of every tree head
    // outside the database.
    checkpoints: async (afterSize, limit) => {
      const rows =
        afterSize === null
          ? [await ledger.service.latestOrUndefined()].filter((r) => r !== undefined)
          : await ledger.service.listCheckpoints({ afterSize, limit });
      return rows.map((r) => {
        const v = toCheckpointView(r);
        const { size, rootHash, origin, note, createdAt } = v;
        return { kind: 'ledger.checkpoint' as const, size, rootHash, origin, note, createdAt };
      });
    },
    ...deps.streams,
  });
  resources.register(streams.kind());
  ledger.election.addDuty({
    name: 'streams',
    intervalMs: 500,
    tick: () => streams.deliverAll(),
  });
  const background: BackgroundTasks = {
    start: () => {
      ledger.start();
      // The scheduler runs in every replica: transitions are conditional, so timers fire once.
      engine.start();
    },
    stop: async () => {
      await engine.stop();
      await ledger.stop();
      streams.close();
    },
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
    ...streamRoutes(streams),
    ...pipelineRoutes(),
    ...approvalRoutes(approvals),
    ...executionRoutes(engine),
    ...runnerRoutes(runners, engine),
    ...secretRoutes(secrets),
    ...scmRoutes(scm),
    ...freezeRoutes(freeze),
    ...changeRoutes(changes),
    ...deploymentRoutes(deployments),
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
    services: {
      audit,
      identity,
      access,
      resources,
      projects,
      ledger,
      streams,
      pipelines,
      approvals,
      engine,
      runners,
      secrets,
      scm,
      freeze,
      changes,
      gate,
      deployments,
    },
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
