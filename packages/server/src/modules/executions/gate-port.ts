import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import type { GateBlockedState } from './execution-state.ts';
import type { RunRow } from './execution-store.ts';

// What the deployment gate sees of a run.
export interface GateRun {
  id: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  contentHash: string;
  branch: string;
  commit: string | null;
  inputs: Record<string, string>;
  trigger: Record<string, unknown>;
  createdBy: string;
}

export interface GateStage {
  idx: number;
  name: string;
  environment: string;
}

export interface GateVerdict {
  allowed: boolean;
  status: GateBlockedState;
  // The stage can never pass (a rejection): it ends instead of waiting.
  final: boolean;
  // The gate wrote something (a decision, an approval request) that must be committed.
  recorded: boolean;
  // One line for the stage's reason, e.g. `FREEZE_ACTIVE: freeze window … is in force`.
  summary?: string;
}

// The deployment gate (the deployments module implements it) is asked when a deploy stage is
// about to start, right before its job is leased and before each of its steps. A refusal
// holds the stage in an explicit blocked state that the scheduler re-evaluates on every tick.
export interface DeploymentGatePort {
  check(
    tx: AnyTx,
    record: RecordAudit,
    input: { run: GateRun; stage: GateStage; point: 'stage' | 'lease' | 'step'; at: Date },
  ): Promise<GateVerdict>;
  // The run ended (finished or cancelled): whatever still waits on it is withdrawn.
  runEnded?(tx: AnyTx, record: RecordAudit, input: { run: GateRun; reason: string }): Promise<void>;
  // After the transaction that ended a deploy stage (e.g. to update a change ticket).
  finished?(input: {
    run: GateRun;
    stage: GateStage;
    result: 'succeeded' | 'failed' | 'rolled_back';
  }): Promise<void>;
}

export function gateRun(run: RunRow): GateRun {
  return {
    id: run.id,
    project: run.project,
    pipeline: run.pipeline,
    pipelineVersion: run.pipeline_version,
    contentHash: run.content_hash,
    branch: run.branch,
    commit: run.commit_sha,
    inputs: JSON.parse(run.inputs) as Record<string, string>,
    trigger: JSON.parse(run.trigger) as Record<string, unknown>,
    createdBy: run.created_by,
  };
}
