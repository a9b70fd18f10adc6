import type { AnyDb } from '../../platform/db/database.ts';
import type { ProjectService } from '../projects/index.ts';
import type { ResourceDocument } from '../resources/index.ts';
import { policyLabel, type PolicyMessage } from './policy-evaluation.ts';
import { differences, type DecisionReplayer, type Outcome } from './policy-replay.ts';
import type { PolicySpec } from './policy-spec.ts';
import type { DecisionRow, KyselyPolicyStore, PolicyRow } from './policy-store.ts';

export interface ImpactChange {
  readonly decision: string;
  readonly decidedAt: string;
  readonly project: string;
  readonly environment: string | null;
  readonly subject: { type: string; id: string };
  readonly from: Outcome['result'];
  readonly to: Outcome['result'];
  readonly differences: string[];
  readonly deny: PolicyMessage[];
}

export interface Impact {
  readonly candidate: { name: string; project: string | null; hash: string };
  readonly since: string;
  readonly examined: number;
  // Recorded decisions whose policy versions or input are no longer stored.
  readonly skipped: number;
  // It stopped at 10,000 decisions or 20 s; narrow `since` for the rest.
  readonly truncated: boolean;
  readonly changed: ImpactChange[];
}

const maxExamined = 10_000;
// Wall time for one analysis: a reader must not hold the server up for long.
const budgetMs = 20_000;

// What a candidate policy version would have decided on the recorded inputs of past
// decisions at its decision point: it takes the place of the version used then, or joins the
// decisions it would have been bound to. Lists every decision whose outcome would change.
export async function analyseImpact(
  db: AnyDb,
  deps: { store: KyselyPolicyStore; projects: ProjectService; replayer: DecisionReplayer },
  candidate: ResourceDocument<PolicySpec> & { contentHash: string },
  since: Date,
): Promise<Impact> {
  const project = candidate.metadata.project ?? '';
  const row: PolicyRow = {
    project,
    name: candidate.metadata.name,
    version: 0,
    content_hash: candidate.contentHash,
    decision_point: candidate.spec.decisionPoint,
    spec: JSON.stringify(candidate.spec),
    document: JSON.stringify({
      apiVersion: candidate.apiVersion,
      kind: candidate.kind,
      metadata: candidate.metadata,
      spec: candidate.spec,
    }),
  };
  const label = policyLabel({ name: row.name, project: project || null });
  const changed: ImpactChange[] = [];
  let examined = 0;
  let skipped = 0;
  let after: readonly (string | number)[] | undefined;
  const boundHere = new Map<string, boolean>();
  const deadline = Date.now() + budgetMs;
  let outOfTime = false;
  do {
    const page = await deps.store.decisions(
      db,
      {
        point: candidate.spec.decisionPoint,
        since: since.toISOString(),
        ...(project ? { project } : {}),
      },
      { limit: 500, after },
    );
    after = page.next ?? undefined;
    for (const d of page.items) {
      if (examined >= maxExamined || (outOfTime ||= Date.now() > deadline)) break;
      examined++;
      const rows = await versionsWith(db, deps, d, row, boundHere);
      if (!rows) continue;
      let outcome: Outcome;
      try {
        const input = await deps.replayer.input(db, d);
        outcome = deps.replayer.evaluate(d, rows, input);
      } catch {
        skipped++;
        continue;
      }
      const recorded = deps.replayer.recorded(d);
      const diff = differences(recorded, outcome);
      if (diff.length === 0) continue;
      changed.push({
        decision: d.id,
        decidedAt: d.decided_at,
        project: d.project,
        environment: d.environment || null,
        subject: { type: d.subject_type, id: d.subject_id },
        from: recorded.result,
        to: outcome.result,
        differences: diff,
        deny: outcome.deny.filter((m) => m.policy === label),
      });
    }
  } while (after && examined < maxExamined && !outOfTime);
  return {
    candidate: { name: row.name, project: project || null, hash: row.content_hash },
    since: since.toISOString(),
    examined,
    skipped,
    truncated: examined >= maxExamined || outOfTime,
    changed,
  };
}

// The policy versions of a past decision with the candidate in its policy's place; undefined
// when the candidate would not have been bound there.
async function versionsWith(
  db: AnyDb,
  deps: { projects: ProjectService; replayer: DecisionReplayer },
  d: DecisionRow,
  candidate: PolicyRow,
  boundHere: Map<string, boolean>,
): Promise<PolicyRow[] | undefined> {
  let rows: PolicyRow[];
  try {
    rows = await deps.replayer.versionsOf(db, d);
  } catch {
    return undefined;
  }
  const same = (r: PolicyRow) => r.project === candidate.project && r.name === candidate.name;
  if (rows.some(same)) return rows.map((r) => (same(r) ? candidate : r));
  if (candidate.project === '') return [...rows, candidate];
  // A project policy joins where the project or the decision's environment binds it now.
  const key = `${d.project}/${d.environment}`;
  if (!boundHere.has(key)) {
    const names = new Set(await deps.projects.projectPolicies(d.project));
    if (d.environment)
      for (const p of (await deps.projects.environment(d.project, d.environment))?.spec.policies ??
        [])
        names.add(p);
    boundHere.set(key, names.has(candidate.name));
  }
  return boundHere.get(key) ? [...rows, candidate] : undefined;
}
