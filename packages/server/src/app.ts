import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from './platform/config/config.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { Sealer } from './platform/crypto/sealer.ts';
import { loadSealingKeys } from './platform/crypto/sealing-keys.ts';
import { systemActor } from './platform/context.ts';
import { createDatabase, type AnyTx, type Database } from './platform/db/database.ts';
import { migrateToLatest } from './platform/db/migrator.ts';
import { UnitOfWork, type FaultHooks } from './platform/db/unit-of-work.ts';
import { parseDuration } from './platform/duration.ts';
import { createHttpServer } from './platform/http/http-server.ts';
import { RequestLimits } from './platform/http/request-limits.ts';
import { parseRate } from './platform/rate.ts';
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
  IdentityDirectory,
  IdentityService,
  KyselyLinkStore,
  KyselyLoginThrottleStore,
  KyselyPrincipalStore,
  LoginThrottle,
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
  ProductionScope,
  projectMigrations,
} from './modules/projects/index.ts';
import {
  KyselyResourceStore,
  ResourceService,
  resourceMigrations,
  resourceRoutes,
  type GovernanceReader,
} from './modules/resources/index.ts';
import {
  assembleDossiers,
  dossierMigrations,
  type DossierService,
} from './modules/dossiers/index.ts';
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
  streamSecretSealedValues,
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
  ExecutionReads,
  KyselyExecutionStore,
  executionMigrations,
  executionRoutes,
  type EngineOptions,
} from './modules/executions/index.ts';
import {
  KyselyPipelineStore,
  PipelineGovernance,
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
  KyselySealingKeyStore,
  KyselySecretChangeStore,
  KyselySecretStore,
  SealingService,
  SecretReleases,
  SecretService,
  secretMigrations,
  secretRoutes,
  secretSealedValues,
  pendingSecretSealedValues,
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
  connectorCredentialSealedValues,
  changeKinds,
  changeMigrations,
  changeRoutes,
} from './modules/changes/index.ts';
import {
  KyselyScmStore,
  ScmService,
  scmMigrations,
  scmRoutes,
  webhookSecretSealedValues,
} from './modules/scm/index.ts';
import {
  DeploymentGate,
  DeploymentService,
  KyselyDeploymentStore,
  deploymentMigrations,
  deploymentRoutes,
} from './modules/deployments/index.ts';
import {
  EvidenceDocuments,
  EvidenceIngest,
  EvidenceService,
  KyselyEvidenceStore,
  WaiverService,
  evidenceMigrations,
  evidenceRoutes,
} from './modules/evidence/index.ts';
import {
  AttestationService,
  KyselyAttestationStore,
  attestationMigrations,
  attestationRoutes,
  loadOrCreateAttestationKey,
} from './modules/attestations/index.ts';
import {
  assemblePolicies,
  policyMigrations,
  policyRoutes,
  type PolicyEngine,
  type PolicyService,
} from './modules/policies/index.ts';
import { assembleReports } from './modules/reports/index.ts';
import {
  assembleRetention,
  retentionMigrations,
  retentionPeriods,
  type FixityCheck,
  type HoldService,
  type RetentionPeriods,
} from './modules/retention/index.ts';
import {
  assembleControls,
  controlMigrations,
  type ControlService,
} from './modules/controls/index.ts';
import { serverVersion, systemRoutes } from './system-routes.ts';

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
  // The deployment's one sealer (ADR 8): secrets, webhook secrets, connector and stream secrets.
  readonly sealer: Sealer;
  readonly services: {
    readonly audit: AuditService;
    readonly identity: IdentityService;
    readonly access: IdentityAccessControl;
    // Who a commit author or reviewer is, and who created whom (segregation of duties).
    readonly directory: IdentityDirectory;
    readonly resources: ResourceService;
    readonly projects: ProjectService;
    readonly ledger: Ledger;
    readonly streams: StreamService;
    readonly pipelines: PipelineService;
    readonly governance: PipelineGovernance;
    readonly approvals: ApprovalService;
    readonly engine: ExecutionEngine;
    readonly runners: RunnerService;
    readonly secrets: SecretService;
    readonly sealing: SealingService;
    readonly scm: ScmService;
    readonly freeze: FreezeService;
    readonly changes: ChangeService;
    readonly gate: DeploymentGate;
    readonly deployments: DeploymentService;
    readonly evidence: EvidenceService;
    readonly waivers: WaiverService;
    // Signs the provenance, test results and SBOMs of what a job built (issueForJob, in the
    // transaction that completes the job).
    readonly attestations: AttestationService;
    // Policy as code: the decision points' engine and the decision log.
    readonly policyEngine: PolicyEngine;
    readonly policies: PolicyService;
    // Retention periods (the `RetentionReader`), legal holds and the fixity check.
    readonly retention: { periods: RetentionPeriods; holds: HoldService; fixity: FixityCheck };
    readonly dossiers: DossierService;
    // The live control catalog of production environments.
    readonly controls: ControlService;
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
  evidenceMigrations,
  attestationMigrations,
  policyMigrations,
  retentionMigrations,
  dossierMigrations,
  controlMigrations,
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
  const sealer = new Sealer(
    loadSealingKeys({
      secretsKey: config.secretsKey,
      secretsKeyFile: config.secretsKeyFile,
      dataDir: config.dataDir,
    }),
  );

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
  const uow = new UnitOfWork(database, audit, deps.faults, {
    perWindow: config.deniedAttemptsPerWindow,
    windowMs: parseDuration(config.deniedAttemptsWindow)!,
    clock,
    onError: (err) => logger.error({ err }, 'denied-attempt summary not written'),
  });
  const principals = new KyselyPrincipalStore();
  const rbac = new KyselyRbacStore();
  const access = new IdentityAccessControl({ database, uow, principals, rbac, clock });
  const links = new KyselyLinkStore();
  const directory = new IdentityDirectory({ principals, links });
  const identity = new IdentityService({
    database,
    uow,
    principals,
    links,
    throttle: new LoginThrottle({
      database,
      audit,
      store: new KyselyLoginThrottleStore(database.dialect),
      clock,
    }),
    access,
    clock,
    tokenMaxTtlMs: parseDuration(config.tokenMaxTtl)!,
    sessionTtlMs: parseDuration(config.sessionTtl)!,
  });
  const projectStore = new KyselyProjectStore();
  const sockPuppetWindowMs =
    config.sockPuppetWindow === 'off' ? null : parseDuration(config.sockPuppetWindow)!;
  const approvals = new ApprovalService({
    database,
    uow,
    audit,
    store: new KyselyApprovalStore(),
    clock,
    creators: directory,
    sockPuppetWindowMs,
  });
  // Governed kinds (production environments, RBAC, freezes, change templates and connectors,
  // audit streams) keep a new version pending until a second person approves it.
  const resources = new ResourceService({
    database,
    uow,
    store: new KyselyResourceStore(),
    approvals,
    clock,
  });
  const production = (read: GovernanceReader) => ProductionScope.read(read);
  const projects = new ProjectService({ database, store: projectStore });
  const periods = retentionPeriods({
    database,
    uow,
    clock,
    minimumYears: config.retentionMinimumYears,
  });
  for (const handler of [
    ...projectKinds(projectStore, production, periods),
    environmentKind({ store: projectStore }),
    ...identityKinds(rbac, production),
  ])
    resources.register(handler);
  // Policies (Rego) and their decision log; inputs are kept in the evidence store, and a
  // version is evaluated only if the ledger recorded it being applied.
  const evidenceDocuments = new EvidenceDocuments();
  const {
    engine: policyEngine,
    kind: policyKindHandler,
    service: policies,
    gateHook: gatePolicyHook,
  } = assemblePolicies({
    database,
    uow,
    projects,
    clock,
    archive: {
      put: (tx, body, at) => evidenceDocuments.put(tx, { body, mediaType: 'application/json', at }),
      get: async (db, digest) => (await evidenceDocuments.get(db, digest))?.body,
    },
    applied: async (db, p) =>
      (
        await audit.list(
          {
            resourceType: 'Policy',
            resourceId: p.project ? `${p.project}/${p.name}` : p.name,
            limit: 1000,
            order: 'desc',
          },
          db as AnyTx,
        )
      ).some((e) => (e.details as { contentHash?: unknown } | null)?.contentHash === p.hash),
  });
  resources.register(policyKindHandler);
  const freezeStore = new KyselyFreezeStore();
  const freeze = new FreezeService({ database, uow, store: freezeStore, projects, clock });
  for (const handler of freezeKinds(freezeStore, production)) resources.register(handler);
  const changeStore = new KyselyChangeStore();
  const changes = new ChangeService({
    database,
    uow,
    store: changeStore,
    projects,
    clock,
    sealer: new CredentialSealer(sealer),
    creators: directory,
    sockPuppetWindowMs,
  });
  for (const handler of changeKinds(changeStore, production)) resources.register(handler);
  const pipelineStore = new KyselyPipelineStore();
  const pipelines = new PipelineService({ database, store: pipelineStore });
  const governance = new PipelineGovernance({ database, projects, approvals });
  governance.registerAuthorization((project, name, version) =>
    pipelines.version(project, name, version),
  );
  resources.register(
    pipelineKind({
      store: pipelineStore,
      projects,
      governance,
      policy: policyEngine,
      now: () => clock.now(),
    }),
  );
  const secretStore = new KyselySecretStore();
  const secretChangeStore = new KyselySecretChangeStore();
  // Secrets whose scope reaches production wait for a second person (approvals).
  const secrets = new SecretService({
    database,
    uow,
    store: secretStore,
    changeStore: secretChangeStore,
    clock,
    projects,
    sealer,
    approvals,
  });
  // The deployment gate: protection rules of the Environment, evaluated by the engine when a
  // deploy stage starts and right before its job is leased.
  const deploymentStore = new KyselyDeploymentStore();
  const scmStore = new KyselyScmStore();
  const executionStore = new KyselyExecutionStore(database.dialect);
  const executionReads = new ExecutionReads(executionStore);
  const evidenceStore = new KyselyEvidenceStore();
  const waivers = new WaiverService({
    database,
    uow,
    store: evidenceStore,
    clock,
    projects,
    creators: directory,
    sockPuppetWindowMs,
    maxDays: config.waiverMaxDays,
  });
  // The attestation key (`attest.key` in the data dir unless `attestKeyFile` names one).
  const publicUrl = config.publicUrl?.replace(/\/+$/, '');
  const attestationKey = loadOrCreateAttestationKey({
    dataDir: config.dataDir,
    attestKeyFile: config.attestKeyFile,
  });
  const attestations = new AttestationService({
    database,
    store: new KyselyAttestationStore(),
    key: attestationKey,
    clock,
    builderId: publicUrl
      ? `${publicUrl}/runners`
      : `urn:custody:builder:${attestationKey.keyId.slice(0, 16)}`,
    builderVersion: { custody: serverVersion },
    ...(publicUrl ? { runUrl: (run: string) => `${publicUrl}/api/v1/runs/${run}` } : {}),
  });
  const evidence = new EvidenceService({
    database,
    store: evidenceStore,
    executions: executionReads,
    projects,
    waivers,
    clock,
    attestations,
  });
  const gate = new DeploymentGate({
    store: deploymentStore,
    executions: executionReads,
    clock,
    projects,
    freeze,
    changes,
    pipelines,
    governance,
    scm: scmStore,
    rbac,
    directory,
    sockPuppetWindowMs,
    evidence,
    policy: gatePolicyHook,
  });
  const envLeaseTtl = Number(process.env.CUSTODY_LEASE_TTL_MS);
  const envRequeue = Number(process.env.CUSTODY_REQUEUE_TIMEOUT_MS);
  const engine = new ExecutionEngine({
    database,
    uow,
    store: executionStore,
    clock,
    pipelines,
    governance,
    secrets,
    gate,
    evidence: new EvidenceIngest({
      store: evidenceStore,
      limits: { maxBytes: config.fileMaxBytes },
    }),
    attestations,
    policy: {
      enforce: (tx, record, actor, req) => policyEngine.enforce(tx, record, actor, req),
      commitsOf: async (tx, project, shas) =>
        (await scmStore.commitsWithShas(tx, project, shas)).map((c) => ({
          sha: c.sha,
          author: c.author,
          committer: c.committer,
          pushedBy: c.pushed_by,
        })),
    },
    options: {
      ...(envLeaseTtl > 0 ? { leaseTtlMs: envLeaseTtl } : {}),
      ...(envRequeue > 0 ? { requeueTimeoutMs: envRequeue } : {}),
      gateWaitTimeoutMs: parseDuration(config.gateWaitTimeout)!,
      ...deps.engine,
    },
    onError: (err) => logger.error({ err }, 'scheduler tick failed'),
    environmentPool: async (project, environment, tx) =>
      (await projects.environment(project, environment, tx))?.spec.runnerPool,
  });
  const scm = new ScmService({
    database,
    uow,
    store: scmStore,
    clock,
    sealer,
    projects,
    pipelines,
    engine,
    access,
  });
  const deployments = new DeploymentService({
    database,
    uow,
    clock,
    store: deploymentStore,
    gate,
    executions: executionReads,
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
  const streamStore = new KyselyStreamStore();
  const streams = new StreamService({
    database,
    uow,
    store: streamStore,
    audit: {
      list: (filter) => audit.list(filter),
      size: () => audit.size(),
      sizeIn: (tx) => auditStore.count(tx),
    },
    clock,
    logger: logger.child({ component: 'streams' }),
    sealer,
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
  // Every replica proves at start that it holds the deployment's sealing keys and can open
  // what is stored; values in the formats before key ids are sealed again now.
  const sealing = new SealingService({
    database,
    uow,
    clock,
    sealer,
    store: new KyselySealingKeyStore(database.dialect),
    sets: [
      secretSealedValues(secretStore),
      pendingSecretSealedValues(secretChangeStore),
      webhookSecretSealedValues(scmStore),
      connectorCredentialSealedValues(changeStore),
      streamSecretSealedValues(streamStore),
    ],
    // Stream secrets used to be sealed under a key derived from the ledger key.
    legacyKeys: () => {
      const file = ledgerKeyPath({ dataDir: config.dataDir, ledgerKeyFile: config.ledgerKeyFile });
      return existsSync(file) ? [deriveSealingKey(readFileSync(file))] : [];
    },
  });
  try {
    await sealing.prepare();
    await scm.adoptProjectWebhookSecrets({
      has: () => secrets.hasPlatformSecrets(),
      take: (tx, record) => secrets.takePlatformSecrets(tx, record),
    });
  } catch (err) {
    if (ownsDatabase) await database.destroy();
    throw err;
  }
  const secretReleases = new SecretReleases({
    database,
    store: secretStore,
    audit: { list: (filter) => audit.list(filter) },
  });
  resources.register(streams.kind());
  const retention = await assembleRetention({
    database,
    uow,
    clock,
    periods,
    projects,
    executions: executionReads,
    documents: evidenceDocuments,
    changeRuns: async (ctx, id) => {
      const change = await changes.requests.get(ctx, id);
      return { project: change.project, runs: change.uses.map((u) => u.run) };
    },
    creators: directory,
    sockPuppetWindowMs,
    lastFixity: async () =>
      (await audit.list({ action: 'retention.fixity.checked', limit: 1, order: 'desc' }))[0]?.time,
    fixityIntervalMs:
      config.fixityInterval === 'off' ? null : parseDuration(config.fixityInterval)!,
    addDuty: (duty) => ledger.election.addDuty(duty),
  });
  const dossiers = assembleDossiers({
    sources: {
      database,
      clock,
      executions: executionReads,
      deployments,
      changes,
      scm,
      projects,
      resources,
      pipelines,
      policies,
      evidence,
      attestations,
      audit,
      ledger,
    },
    uow,
    election: ledger.election,
    logger,
  });
  ledger.election.addDuty({
    name: 'streams',
    intervalMs: 500,
    tick: () => streams.deliverAll(),
  });
  const controls = assembleControls({
    database,
    uow,
    clock,
    resources,
    streams,
    ledger,
    changes,
    auditSize: (db) => auditStore.count(db as AnyTx),
    retention: { yearsFor: (project, db) => periods.yearsFor(project, db) },
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

  const reports = assembleReports({
    database,
    uow,
    clock,
    audit,
    executions: executionReads,
    projects,
  });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const routes: AnyRoute[] = [];
  routes.push(
    ...systemRoutes({ database, metrics, routes: () => routes }),
    ...identityRoutes(identity),
    ...resourceRoutes(resources),
    ...auditRoutes(audit),
    ...ledgerRoutes(ledger, async (ctx, details) => {
      try {
        await uow.run(ctx, async (_tx, record) =>
          record({
            action: 'ledger.entries.exported',
            resource: { type: 'Ledger', id: ledger.service.signer.name },
            details,
          }),
        );
      } catch (err) {
        logger.error({ err, ...details }, 'could not record a download of ledger entries');
      }
    }),
    ...streamRoutes(streams),
    ...pipelineRoutes(),
    ...approvalRoutes(approvals),
    ...executionRoutes(engine),
    ...runnerRoutes(runners, engine, { fileBytes: config.fileMaxBytes }),
    ...evidenceRoutes(evidence, waivers),
    ...secretRoutes(secrets, secretReleases, sealing),
    ...scmRoutes(scm),
    ...freezeRoutes(freeze),
    ...changeRoutes(changes),
    ...deploymentRoutes(deployments),
    ...attestationRoutes(attestations),
    ...policyRoutes(policies),
    ...reports.routes,
    ...retention.routes,
    ...dossiers.routes,
    ...controls.routes,
  );
  const http = createHttpServer({
    routes,
    accessControl: access,
    logger,
    bodyLimit: config.bodyLimit,
    metrics,
    limits: new RequestLimits({
      perAddress: parseRate(config.rateLimitPerAddress)!,
      perPrincipal: parseRate(config.rateLimitPerPrincipal)!,
      unauthenticated: parseRate(config.rateLimitUnauthenticated)!,
      recordAttempt: (ctx, record) => uow.recordAttempt(ctx, record),
    }),
    trustedProxies: config.trustedProxies
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  });
  await http.ready();

  return {
    http,
    database,
    config,
    clock,
    sealer,
    services: {
      audit,
      identity,
      access,
      directory,
      resources,
      projects,
      ledger,
      streams,
      pipelines,
      governance,
      approvals,
      engine,
      runners,
      secrets,
      sealing,
      scm,
      freeze,
      changes,
      gate,
      deployments,
      evidence,
      waivers,
      attestations,
      policyEngine,
      policies,
      retention: { periods, holds: retention.holds, fixity: retention.fixity },
      dossiers: dossiers.service,
      controls: controls.service,
    },
    background,
    uow,
    routes,
    async close() {
      await background.stop();
      await http.close();
      await uow.close();
      if (ownsDatabase) await database.destroy();
    },
  };
}
