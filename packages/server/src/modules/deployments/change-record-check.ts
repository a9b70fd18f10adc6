import type { ChangeService } from '../changes/index.ts';
import type { GateEvaluation } from './gate-evaluation.ts';

export interface ChangeRecordOutcome {
  // The change this deployment relies on when it stands in for a freeze or approvals.
  reliedOn?: string | undefined;
  // Why the freeze does not hold this deployment (an active emergency change), if it does not.
  breakGlass?: string | undefined;
  // What stands in for the approval rules (a standard or active emergency change), if anything.
  standsInForApprovals?: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

// The change record the environment requires: a native change (run input or trigger `change`)
// or a ServiceNow/Jira ticket (`ticket`). Emergency changes are bound to their requester,
// environment and commit; a change made for another environment does not apply here.
export async function checkChangeRecord(
  e: GateEvaluation,
  deps: { changes: ChangeService },
): Promise<ChangeRecordOutcome> {
  const { run, env } = e;
  const changeId = str(run.inputs.change) ?? str(run.trigger.change);
  const ticket = str(run.inputs.ticket) ?? str(run.trigger.ticket);
  const change = await deps.changes.records.check(
    {
      changeId,
      ticket,
      project: run.project,
      environment: env.name,
      at: e.at,
      run: { id: run.id, triggeredBy: run.createdBy, commit: run.commit },
    },
    e.tx,
  );
  e.facts.change = change;
  const external = env.spec.changeRecord === 'servicenow' || env.spec.changeRecord === 'jira';
  const unblock = external
    ? `reference an approved ${env.spec.changeRecord} ticket (input "ticket"), or an active emergency change`
    : 'reference a valid change request (custody run --change CHG, or input "change")';
  for (const r of change.reasons)
    if (change.ok) e.note('change', r.code, r.message);
    else e.block('change', r.code, r.message, unblock);
  if (!change.ok || !change.change) return {};
  const c = change.change;
  return {
    reliedOn: change.bypassFreeze || change.bypassApprovals ? c.id : undefined,
    breakGlass: change.bypassFreeze ? `emergency change ${c.id} bypasses the freeze` : undefined,
    standsInForApprovals: change.bypassApprovals
      ? `change ${c.id} (${c.riskClass}) stands in for the approval rules`
      : undefined,
  };
}
