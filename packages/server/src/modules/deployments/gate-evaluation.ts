import { systemActor, type RequestContext } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import { newId } from '../../platform/ids.ts';
import type { RecordAudit } from '../../platform/db/unit-of-work.ts';
import type { GateBlockedState, GateRun } from '../executions/index.ts';
import type { ChangeCheck } from '../changes/index.ts';
import type { EvidenceSummary } from '../evidence/index.ts';
import type { FreezeDecision, FreezeLane } from '../freeze/index.ts';
import type { EnvironmentView } from '../projects/index.ts';
import type { DeploymentIntent, RuleProgress } from './approval-rules.ts';

// Who writes what the gate itself opens (approval requests) outside the scheduler's records.
export const gateActor = (): Pick<RequestContext, 'actor' | 'requestId'> => ({
  actor: { ...systemActor, name: 'deployment-gate' },
  requestId: newId('gate'),
});

export type GateCheck =
  | 'deployers'
  | 'pipeline'
  | 'promotion'
  | 'quality'
  | 'change'
  | 'freeze'
  | 'sod'
  | 'approvals'
  | 'policy';

export interface GateReason {
  readonly check: GateCheck;
  readonly code: string;
  readonly message: string;
  // What would unblock it; null for reasons that do not block.
  readonly unblock: string | null;
  readonly blocking: boolean;
}

export interface GateDecision {
  readonly allowed: boolean;
  // The stage state while blocked (meaningless when allowed).
  readonly status: GateBlockedState;
  // The deployment was refused by an approver: the stage ends, it never waits again.
  readonly final: boolean;
  readonly reasons: GateReason[];
  readonly intent: DeploymentIntent;
  readonly intentHash: string;
  readonly approval: {
    readonly id: string;
    readonly state: string;
    readonly rules: RuleProgress[];
  } | null;
}

// One evaluation of the gate for one deploy stage: what every check found, in order.
export class GateEvaluation {
  readonly reasons: GateReason[] = [];
  // Something was written (an approval request opened or voided) that must be committed.
  recorded = false;
  final = false;
  approval: GateDecision['approval'] = null;
  // What the checks found, for the policies' input (policy-input.ts).
  readonly facts: {
    change?: ChangeCheck;
    freeze?: FreezeDecision;
    evidence?: EvidenceSummary;
  } = {};

  constructor(
    readonly tx: AnyTx,
    readonly record: RecordAudit,
    readonly run: GateRun,
    readonly stage: { readonly idx?: number | undefined; readonly name: string },
    readonly env: EnvironmentView,
    readonly intent: DeploymentIntent,
    readonly intentHash: string,
    readonly at: Date,
    readonly lane: FreezeLane,
  ) {}

  block(check: GateCheck, code: string, message: string, unblock: string): void {
    this.reasons.push({ check, code, message, unblock, blocking: true });
  }

  note(check: GateCheck, code: string, message: string): void {
    this.reasons.push({ check, code, message, unblock: null, blocking: false });
  }

  blocks(check: GateCheck): boolean {
    return this.reasons.some((r) => r.blocking && r.check === check);
  }

  decision(): GateDecision {
    const blocking = this.reasons.filter((r) => r.blocking);
    // Any hard block wins; then a freeze; otherwise it only waits for approvals.
    const status: GateBlockedState = blocking.some(
      (r) => r.check !== 'freeze' && r.code !== 'APPROVAL_REQUIRED',
    )
      ? 'blocked'
      : blocking.some((r) => r.check === 'freeze')
        ? 'blocked_by_freeze'
        : 'waiting_for_approval';
    return {
      allowed: blocking.length === 0,
      status,
      final: this.final,
      reasons: this.reasons,
      intent: this.intent,
      intentHash: this.intentHash,
      approval: this.approval,
    };
  }
}
