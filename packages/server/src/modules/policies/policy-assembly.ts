import type { Clock } from '../../platform/clock.ts';
import { systemActor } from '../../platform/context.ts';
import type { AnyTx, Database } from '../../platform/db/database.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';
import type { ProjectService } from '../projects/index.ts';
import type { KindHandler } from '../resources/index.ts';
import { DecisionLog, type InputArchive } from './decision-log.ts';
import { PolicyEngine, policyLine } from './policy-engine.ts';
import type { AppliedInLedger } from './policy-integrity.ts';
import { policyKind } from './policy-kind.ts';
import { DecisionReplayer } from './policy-replay.ts';
import { PolicyService } from './policy-service.ts';
import { KyselyPolicyStore } from './policy-store.ts';

// Policy decisions the gate makes are the gate's own (as its approval requests are).
const gateDecider = { ...systemActor, name: 'deployment-gate' };

// The policies module, assembled: its kind, the engine the decision points call, the read
// service, and the gate's hook (the deployment gate's `DeploymentPolicyHook`).
export function assemblePolicies(deps: {
  database: Database;
  uow: UnitOfWork;
  projects: ProjectService;
  clock: Clock;
  archive: InputArchive;
  applied: AppliedInLedger;
}) {
  const store = new KyselyPolicyStore();
  const engine = new PolicyEngine({
    store,
    projects: deps.projects,
    log: new DecisionLog({ store, archive: deps.archive }),
    applied: deps.applied,
  });
  const kind: KindHandler = policyKind({
    store,
    projects: deps.projects,
    clock: deps.clock,
    materialized: (hash) => engine.trust(hash),
  }) as KindHandler;
  const service = new PolicyService({
    database: deps.database,
    uow: deps.uow,
    store,
    projects: deps.projects,
    replayer: new DecisionReplayer({ store, archive: deps.archive }),
    clock: deps.clock,
  });
  const gateHook = {
    decide: async (
      tx: AnyTx,
      record: RecordAudit,
      req: {
        project: string;
        environment: string;
        subject: { type: string; id: string };
        at: Date;
        input: () => Promise<Record<string, unknown>>;
      },
    ) => {
      const v = await engine.decide(tx, record, gateDecider, {
        point: 'deploy',
        environments: [req.environment],
        ...req,
      });
      return {
        deny: v.deny.map(policyLine),
        warn: v.warn.map(policyLine),
        errors: v.errors.map(policyLine),
        missing: v.missing,
        decision: v.decision,
        recorded: v.recorded,
      };
    },
    enforceApproval: async (
      tx: AnyTx,
      record: RecordAudit,
      actor: typeof gateDecider,
      req: {
        project: string;
        environment: string;
        subject: { type: string; id: string };
        at: Date;
        input: unknown;
      },
    ) => {
      await engine.enforce(tx, record, actor, {
        point: 'approval',
        environments: [req.environment],
        ...req,
      });
    },
  };
  return { engine, kind, service, gateHook };
}
