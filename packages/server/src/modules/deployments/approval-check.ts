import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import { parseDuration } from '../../platform/duration.ts';
import { newId } from '../../platform/ids.ts';
import type { GateRun } from '../executions/index.ts';
import type { KyselyRbacStore } from '../identity/index.ts';
import type { EnvironmentView } from '../projects/index.ts';
import {
  evaluateRules,
  rulesInForce,
  type ApprovalRule,
  type RuleProgress,
} from './approval-rules.ts';
import type { ApprovalRequestRow, KyselyDeploymentStore } from './deployment-store.ts';
import type { GateEvaluation } from './gate-evaluation.ts';
import { analyseSod, exclusionOf, type SodAnalysis, type SodDeps } from './segregation.ts';

export interface ApprovalProgress {
  met: boolean;
  rules: RuleProgress[];
  rejectedBy: string[];
}

export interface ApprovalCheckDeps extends SodDeps {
  store: KyselyDeploymentStore;
  rbac: KyselyRbacStore;
}

const describeRule = (r: ApprovalRule) =>
  r.anyone
    ? 'anyone allowed to approve here'
    : r.group
      ? `a member of group ${r.group}`
      : `one of ${(r.users ?? []).join(', ')}`;

// Approvals bound to the deployment intent: one live request per run and deploy stage; a new
// intent voids it; a rejection ends the stage for good; expired or excluded votes do not count.
export class ApprovalCheck {
  constructor(private readonly deps: ApprovalCheckDeps) {}

  async run(e: GateEvaluation, sod: SodAnalysis, bypassedBy: string | undefined): Promise<void> {
    const rules = rulesInForce(e.env);
    if (rules.length === 0) return;
    const rejected = await this.deps.store.rejectedRequest(e.tx, e.run.id, e.stage.name);
    if (rejected) {
      e.final = true;
      const by = (await this.deps.store.votes(e.tx, rejected.id))
        .filter((v) => v.decision === 'reject')
        .map((v) => v.principal);
      e.approval = { id: rejected.id, state: rejected.state, rules: [] };
      e.block(
        'approvals',
        'APPROVAL_REJECTED',
        `deployment request ${rejected.id} was rejected by ${by.join(', ') || 'an approver'}`,
        'fix what the reviewers asked for and start a new run',
      );
      return;
    }
    if (bypassedBy) {
      e.note('approvals', 'APPROVALS_BYPASSED', bypassedBy);
      return;
    }
    let req = await this.deps.store.latestRequest(e.tx, e.run.id, e.stage.name);
    // A new intent voids the request: approvals never carry over to something else.
    if (req && req.intent_hash !== e.intentHash) {
      await this.retire(e, req, 'voided');
      req = undefined;
    }
    req ??= await this.open(e, rules);
    let progress = await this.progress(e.tx, req, e.run, e.env, e.at, sod);
    // Approved, but the approvals have since expired (or an approver became excluded): a
    // fresh request, so that approvers can decide again.
    if (req.state === 'approved' && !progress.met) {
      await this.retire(e, req, 'expired');
      req = await this.open(e, rules);
      progress = await this.progress(e.tx, req, e.run, e.env, e.at, sod);
    }
    e.approval = { id: req.id, state: req.state, rules: progress.rules };
    if (progress.met) {
      e.note(
        'approvals',
        'APPROVALS_MET',
        `approved by ${progress.rules.flatMap((r) => r.counted).join(', ')}`,
      );
      return;
    }
    const missing = progress.rules
      .filter((r) => r.missing > 0)
      .map((r) => `${r.missing} more from rule ${r.name}`)
      .join(', ');
    e.block(
      'approvals',
      'APPROVAL_REQUIRED',
      `approval ${req.id} needs ${missing}`,
      `custody approve ${req.id} by ${rules.map(describeRule).join(' and ')} (never the run's triggerer, the commit's authors or the pipeline's author)`,
    );
  }

  // Valid votes: not expired, by users who are not excluded by segregation of duties (as it
  // stands now: an author learnt later voids the vote of that person).
  async progress(
    tx: AnyTx | AnyDb,
    req: ApprovalRequestRow,
    run: GateRun,
    env: EnvironmentView,
    at: Date,
    sod?: SodAnalysis,
  ): Promise<ApprovalProgress> {
    const rules = rulesInForce(env);
    const ttl = parseDuration(env.spec.approvals?.expiresAfter ?? '24h') ?? 86_400_000;
    const analysis = sod ?? (await analyseSod(tx, this.deps, run, env.name));
    const votes = [];
    for (const v of await this.deps.store.votes(tx, req.id))
      if (
        v.principal.startsWith('user:') &&
        at.getTime() - Date.parse(v.decided_at) <= ttl &&
        !(await exclusionOf(tx, this.deps, analysis, v.principal, req.created_at))
      )
        votes.push(v);
    const approvers = await Promise.all(
      votes
        .filter((v) => v.decision === 'approve')
        .map(async (v) => ({
          principal: v.principal,
          groups: await this.deps.rbac.groupsOf(tx, { type: 'user', name: v.principal.slice(5) }),
        })),
    );
    return {
      ...evaluateRules(rules, approvers),
      rejectedBy: votes.filter((v) => v.decision === 'reject').map((v) => v.principal),
    };
  }

  private async retire(
    e: GateEvaluation,
    old: ApprovalRequestRow,
    why: 'voided' | 'expired',
  ): Promise<void> {
    const now = e.at.toISOString();
    if (await this.deps.store.setRequestState(e.tx, old.id, old.state, 'voided', now))
      e.record({
        action: `deployments.approval.${why}`,
        resource: { type: 'deployment-approval', id: old.id },
        details: { run: e.run.id, stage: e.stage.name, was: old.intent_hash, now: e.intentHash },
      });
    e.recorded = true;
  }

  private async open(
    e: GateEvaluation,
    rules: readonly ApprovalRule[],
  ): Promise<ApprovalRequestRow> {
    const now = e.at.toISOString();
    const row: ApprovalRequestRow = {
      id: newId('dap'),
      run_id: e.run.id,
      stage: e.stage.name,
      project: e.run.project,
      environment: e.env.name,
      intent_hash: e.intentHash,
      intent: JSON.stringify(e.intent),
      state: 'pending',
      created_at: now,
      updated_at: now,
    };
    await this.deps.store.insertRequest(e.tx, row);
    e.record({
      action: 'deployments.approval.requested',
      resource: { type: 'deployment-approval', id: row.id },
      details: {
        run: e.run.id,
        stage: e.stage.name,
        environment: `${e.run.project}/${e.env.name}`,
        intentHash: e.intentHash,
        rules: rules.map((r) => ({
          name: r.name,
          group: r.group,
          users: r.users,
          anyone: r.anyone,
          required: r.required,
        })),
      },
    });
    e.recorded = true;
    return row;
  }
}
