import type { EvidenceService } from '../evidence/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';
import type { GateEvaluation } from './gate-evaluation.ts';
import type { SodAnalysis } from './segregation.ts';

// The input document of `custody.deploy` (docs/reference/policy.md, "custody.deploy"): what
// the gate knows when its other checks have run. Built only when a policy is bound.
export async function deployPolicyInput(
  e: GateEvaluation,
  sod: SodAnalysis,
  deps: { scm: KyselyScmStore; evidence?: EvidenceService | undefined },
): Promise<Record<string, unknown>> {
  const { run, env } = e;
  const shas = [
    ...new Set([...(sod.range?.commits.map((c) => c.sha) ?? []), run.commit ?? '']),
  ].filter(Boolean);
  const prs = await deps.scm.changesForCommits(e.tx, run.project, shas);
  const reviews = prs.length ? await deps.scm.reviewsOf(e.tx, run.project, prs) : [];
  const pullRequests = prs.map((pr) => ({
    provider: pr.provider,
    repository: pr.repository,
    number: pr.number,
    title: pr.title,
    author: pr.author,
    state: pr.state,
    merged: pr.merged === 1,
    headSha: pr.head_sha,
    mergeCommitSha: pr.merge_commit_sha,
    targetBranch: pr.target_branch,
    reviews: reviews
      .filter((r) => r.repository === pr.repository && r.number === pr.number)
      .map((r) => ({
        reviewer: r.reviewer,
        verdict: r.verdict,
        commit: r.commit_sha,
        submittedAt: r.submitted_at,
      })),
  }));
  const change = e.facts.change;
  const freeze = e.facts.freeze;
  const evidence =
    e.facts.evidence ??
    (deps.evidence
      ? await deps.evidence.summaries.summary(e.tx, {
          project: run.project,
          environment: env.name,
          run: run.id,
          artifacts: e.intent.artifacts,
          at: e.at,
        })
      : null);
  return {
    point: 'deploy',
    at: e.at.toISOString(),
    run: {
      id: run.id,
      project: run.project,
      pipeline: run.pipeline,
      pipelineVersion: run.pipelineVersion,
      contentHash: run.contentHash,
      branch: run.branch,
      commit: run.commit,
      inputs: run.inputs,
      trigger: run.trigger,
      triggeredBy: run.createdBy,
      lane: e.lane,
    },
    stage: { name: e.stage.name },
    intent: { ...e.intent, hash: e.intentHash },
    environment: {
      project: env.project,
      name: env.name,
      type: env.type,
      version: env.version,
      rules: env.spec,
    },
    commits: {
      since: sod.range?.since ?? null,
      head: sod.range?.head ?? run.commit,
      truncated: sod.range?.truncated ?? false,
      items: (sod.range?.commits ?? []).map((c) => ({
        sha: c.sha,
        author: { name: c.authorName, email: c.authorEmail },
        committer: { name: c.committerName, email: c.committerEmail },
        signature: c.signature,
        pullRequests: pullRequests
          .filter((p) => p.headSha === c.sha || p.mergeCommitSha === c.sha)
          .map((p) => p.number),
      })),
      pullRequests,
      unlinkedPeople: sod.unlinked,
    },
    change: change
      ? {
          ok: change.ok,
          required: env.spec.changeRecord,
          record: change.change,
          ticket: change.ticket,
          reasons: change.reasons,
        }
      : { ok: true, required: env.spec.changeRecord, record: null, ticket: null, reasons: [] },
    approvals: e.approval,
    freeze: freeze
      ? {
          frozen: freeze.frozen,
          windows: freeze.windows.map((w) => ({ name: w.name, end: w.end, why: w.why })),
          override: freeze.override,
        }
      : { frozen: false, windows: [], override: null },
    evidence,
    // The other checks' findings so far, so a policy can add to them rather than repeat them.
    checks: e.reasons.map((r) => ({ check: r.check, code: r.code, blocking: r.blocking })),
  };
}
