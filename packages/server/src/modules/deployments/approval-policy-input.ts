import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { GateRun } from '../executions/index.ts';
import type { EnvironmentView } from '../projects/index.ts';
import type { ApprovalRequestRow, KyselyDeploymentStore } from './deployment-store.ts';

// The input document of `custody.approval` (docs/reference/policy.md): who approves, their
// groups, the request with the votes so far, and the intent it is bound to.
export async function approvalPolicyInput(
  tx: AnyTx,
  deps: { store: KyselyDeploymentStore },
  c: {
    row: ApprovalRequestRow;
    run: GateRun & { state?: string };
    env: EnvironmentView;
    groups: readonly string[];
    at: Date;
    ctx: RequestContext;
  },
): Promise<Record<string, unknown>> {
  const votes = await deps.store.votes(tx, c.row.id);
  return {
    point: 'approval',
    at: c.at.toISOString(),
    approver: {
      principal: principalOf(c.ctx.actor),
      type: c.ctx.actor.type,
      name: c.ctx.actor.name,
      groups: [...c.groups].sort(),
    },
    request: {
      id: c.row.id,
      run: c.row.run_id,
      stage: c.row.stage,
      project: c.row.project,
      environment: c.row.environment,
      intentHash: c.row.intent_hash,
      createdAt: c.row.created_at,
      votes: votes.map((v) => ({
        principal: v.principal,
        decision: v.decision,
        decidedAt: v.decided_at,
      })),
    },
    intent: JSON.parse(c.row.intent) as unknown,
    run: {
      id: c.run.id,
      pipeline: c.run.pipeline,
      pipelineVersion: c.run.pipelineVersion,
      commit: c.run.commit,
      triggeredBy: c.run.createdBy,
      inputs: c.run.inputs,
    },
    environment: {
      project: c.env.project,
      name: c.env.name,
      type: c.env.type,
      rules: c.env.spec,
    },
  };
}
