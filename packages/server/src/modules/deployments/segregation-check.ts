import type { ExecutionReads } from '../executions/index.ts';
import type { GateEvaluation } from './gate-evaluation.ts';
import type { SodAnalysis } from './segregation.ts';

// What segregation of duties knows about the change, shown in the gate's output: people in it
// who are linked to no user (a production environment can require that every author be known,
// `sod: { unlinkedAuthors: block }`), and whether the runner has reported the commit range.
export async function checkSegregation(
  e: GateEvaluation,
  sod: SodAnalysis,
  deps: { executions: ExecutionReads },
): Promise<void> {
  if (sod.unlinked.length > 0) {
    const who = sod.unlinked.map((u) => `${u.ref} (${u.why})`).join(', ');
    if (e.env.spec.sod?.unlinkedAuthors === 'block')
      e.block(
        'sod',
        'SOD_AUTHOR_UNLINKED',
        `linked to no user: ${who}`,
        'an administrator links each identity to its user (custody user identity add USER email:ADDRESS), or the commits are made by known people',
      );
    else e.note('sod', 'SOD_AUTHOR_UNLINKED', `linked to no user: ${who}`);
  }
  if (!sod.range) {
    e.note(
      'sod',
      'SOD_COMMITS_NOT_RECORDED',
      `the commits deployed to ${e.env.name} are not known yet (the runner reports them at checkout; the gate checks again before each step)`,
    );
    return;
  }
  const [current] = await deps.executions.releases(e.tx, e.run.project, e.env.name);
  const since = current?.commit ?? null;
  const covered =
    since === sod.range.since || (since !== null && sod.range.commits.some((c) => c.sha === since));
  if (!covered)
    e.note(
      'sod',
      'SOD_RANGE_STALE',
      `the commits were recorded from ${sod.range.since ?? 'the merge base'}, but ${e.env.name} now runs ${since ?? 'nothing'}; the deploy job records them again at checkout`,
    );
  if (sod.range.truncated)
    e.note(
      'sod',
      'SOD_RANGE_TRUNCATED',
      `only the newest ${sod.range.commits.length} commits were recorded`,
    );
}
