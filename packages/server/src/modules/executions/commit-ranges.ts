import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import { DomainError } from '../../platform/errors.ts';
import type { PipelineSpec } from '../pipelines/index.ts';
import { executionErrors } from './errors.ts';
import type { CommitRow, KyselyExecutionStore, RunRow } from './execution-store.ts';
import { rollbackTargetOf } from './rollback-plan.ts';

// What a runner reports after checkout, per environment the run deploys to: the commits from
// the release in force there (`since`; null for a first release: the branch's merge base) to
// the deployed commit, HEAD included. Segregation of duties excludes all their authors.
export interface CommitRangeReport {
  environment: string;
  since: string | null;
  truncated: boolean;
  commits: {
    sha: string;
    authorName: string;
    authorEmail: string;
    committerName: string;
    committerEmail: string;
    signature: 'good' | 'bad' | 'unknown' | 'none';
  }[];
}

// The ranges a job asks its runner for: every environment the run deploys to, each from the
// commit released there now.
export async function rangesToReport(
  db: AnyDb | AnyTx,
  store: KyselyExecutionStore,
  run: RunRow,
  spec: PipelineSpec,
): Promise<{ environment: string; since: string | null }[]> {
  const rollback = rollbackTargetOf(JSON.parse(run.trigger));
  const environments = new Set<string>();
  for (const s of spec.stages)
    if (s.environment && (!rollback || s.environment === rollback.environment))
      environments.add(s.environment);
  const out: { environment: string; since: string | null }[] = [];
  for (const environment of environments) {
    const [current] = await store.releases(db, run.project, environment);
    out.push({ environment, since: current?.commit_sha ?? null });
  }
  return out;
}

// Checks a report against the run (an environment it deploys to, the deployed commit in the
// range) and turns it into rows. `since` is kept as the runner used it: the gate compares it
// with the release in force when it decides.
export function commitRows(
  run: RunRow,
  asked: readonly { environment: string; since: string | null }[],
  report: CommitRangeReport,
  head: string,
): CommitRow[] {
  const wanted = asked.find((a) => a.environment === report.environment);
  const refuse = (why: string): never => {
    throw new DomainError(executionErrors.EXECUTIONS_REPORT_INVALID, why, {
      environment: report.environment,
    });
  };
  if (!wanted) refuse(`run ${run.id} does not deploy to ${report.environment}`);
  if (!report.commits.some((c) => c.sha === head))
    refuse(`the range to ${report.environment} does not include the deployed commit ${head}`);
  return report.commits.map((c, idx) => ({
    run_id: run.id,
    environment: report.environment,
    idx,
    sha: c.sha,
    author_name: c.authorName,
    author_email: c.authorEmail.toLowerCase(),
    committer_name: c.committerName,
    committer_email: c.committerEmail.toLowerCase(),
    signature: c.signature,
  }));
}
