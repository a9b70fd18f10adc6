import type { ChangeView } from '../changes/index.ts';
import type { DeploymentApprovalView, GateReason } from '../deployments/index.ts';
import type { DecisionView } from '../policies/index.ts';
import {
  notCollected,
  type DossierSources,
  type DossierSubject,
  type NotCollected,
} from './dossier-sources.ts';

type GateDecisionView = {
  id: string;
  allowed: boolean;
  status: string;
  point: string;
  intentHash: string;
  reasons: GateReason[];
  decidedAt: string;
};

export interface ChangeSections {
  change: Record<string, unknown>;
  gateDecisions: { collected: true; decisions: GateDecisionView[] } | NotCollected;
  approvals: { collected: true; requests: DeploymentApprovalView[] } | NotCollected;
  policyDecisions: { collected: true; decisions: DecisionView[] } | NotCollected;
  // For the ledger section: the records whose entries belong to the change.
  refs: { change: ChangeView | null; approvals: string[]; policyDecisions: string[] };
}

// change.json, gate-decisions.json, approvals.json and policy-decisions.json.
export async function collectChange(
  src: DossierSources,
  subject: DossierSubject,
): Promise<ChangeSections> {
  const d = subject.deployment;
  const db = src.database.db;
  const record = await src.deployments.stageRecord(db, d.runId, d.stage);
  const change = subject.changeId
    ? ((await src.changes.requests.read(subject.changeId)) ?? null)
    : null;
  const env = await src.projects.environment(d.project, d.environment);
  const required = env?.spec.changeRecord ?? 'none';
  // What the gate last found about the change record before the stage went ahead.
  const allowed = record.decisions.filter((x) => x.allowed).at(-1) ?? record.decisions.at(-1);
  const changeReasons = (allowed?.reasons ?? []).filter((r) => r.check === 'change');
  const ticket = subject.ticket
    ? {
        collected: true,
        id: subject.ticket,
        system: required === 'servicenow' || required === 'jira' ? required : 'unknown',
        // The ticket's state as the gate read it from the ticket system at deploy time.
        stateAtDeploy: changeReasons.map((r) => ({ code: r.code, message: r.message })),
        checkedAt: allowed?.decidedAt ?? null,
      }
    : notCollected(
        required === 'servicenow' || required === 'jira'
          ? `the run named no ${required} ticket (input "ticket")`
          : `the run named no ticket; environment ${d.project}/${d.environment} requires change record "${required}"`,
      );
  const uses = change?.uses.filter((u) => u.run === d.runId && u.stage === d.stage) ?? [];
  const changeJson: Record<string, unknown> = {
    collected: true,
    deployment: d.id,
    class: change?.riskClass ?? 'normal',
    classBasis: change
      ? `change request ${change.id}`
      : 'no change request: the environment’s approval rules applied',
    changeRecordRequired: required,
    request: change
      ? { ...change, uses: undefined, usedByThisDeployment: uses }
      : notCollected(
          subject.changeId
            ? `change request ${subject.changeId} does not exist`
            : 'the run named no change request (input "change")',
        ),
    ticket,
    emergency:
      change?.riskClass === 'emergency'
        ? {
            reason: change.reason,
            requestedBy: change.requestedBy,
            activatedBy: change.activatedBy,
            activatedAt: change.activatedAt,
            expiresAt: change.expiresAt,
            commit: change.commit,
            review: change.review,
          }
        : notCollected('not an emergency change'),
    gateFindings: changeReasons,
  };

  const approvalIds = record.approvals.map((a) => a.id);
  const subjects = [
    { type: 'stage', id: d.id },
    { type: 'run', id: d.runId },
    ...approvalIds.map((id) => ({ type: 'deployment-approval', id })),
  ];
  const policyDecisions: DecisionView[] = [];
  for (const s of subjects) policyDecisions.push(...(await src.policies.decisionsAbout(s)));
  policyDecisions.sort(
    (a, b) => a.decidedAt.localeCompare(b.decidedAt) || a.id.localeCompare(b.id),
  );

  return {
    change: changeJson,
    gateDecisions:
      record.decisions.length > 0
        ? { collected: true, decisions: record.decisions }
        : notCollected(`the deployment gate recorded no decision for ${d.id}`),
    approvals:
      record.approvals.length > 0
        ? { collected: true, requests: record.approvals }
        : notCollected(
            change && change.riskClass !== 'normal'
              ? `no approval was asked: ${change.riskClass} change ${change.id} stood in for the environment's approval rules`
              : `no approval request was opened for ${d.id}`,
          ),
    policyDecisions:
      policyDecisions.length > 0
        ? { collected: true, decisions: policyDecisions }
        : notCollected(
            `no policy made a decision about ${d.id}: no custody.deploy, custody.run or custody.approval policy is bound to ${d.project}/${d.environment}`,
          ),
    refs: {
      change,
      approvals: approvalIds,
      policyDecisions: policyDecisions.map((p) => p.id),
    },
  };
}
