import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { GateRun } from '../executions/index.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';

// Identities come from several systems (`user:alice`, `github:alice`, `alice@corp.example`);
// they are compared by their bare, lower-cased name (and an e-mail's local part).
export function identityKeys(who: string): string[] {
  const bare = (who.includes(':') ? who.slice(who.indexOf(':') + 1) : who).trim().toLowerCase();
  if (!bare) return [];
  const at = bare.indexOf('@');
  return at > 0 ? [bare, bare.slice(0, at)] : [bare];
}

// Who may never approve a deployment of this run: its triggerer, the authors and committers
// of the deployed commit (as recorded by the runner/trigger and by the SCM webhooks, including
// the pull request's author) and the author of the pipeline version. Maps identity key → why.
export async function excludedApprovers(
  tx: AnyTx | AnyDb,
  deps: { pipelines: PipelineService; scm: KyselyScmStore },
  run: GateRun,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const add = (who: unknown, why: string) => {
    if (typeof who !== 'string') return;
    for (const key of identityKeys(who)) if (!out.has(key)) out.set(key, why);
  };
  add(run.createdBy, 'triggered the run');
  const t = run.trigger;
  add(t.pushedBy, 'pushed the commit');
  add(t.author, 'authored the commit');
  add(t.committer, 'committed the commit');
  for (const key of ['authors', 'committers'] as const) {
    const list = t[key];
    if (Array.isArray(list))
      for (const who of list)
        add(who, key === 'authors' ? 'authored the commit' : 'committed the commit');
  }
  if (run.commit) {
    const sha = run.commit;
    const matches = (s: string | null) => !!s && (s.startsWith(sha) || sha.startsWith(s));
    for (const c of await deps.scm.commits(tx, run.project))
      if (matches(c.sha)) {
        add(c.author, 'authored the commit');
        add(c.committer, 'committed the commit');
      }
    for (const c of await deps.scm.changes(tx, run.project))
      if (matches(c.merge_commit_sha) || matches(c.head_sha))
        add(c.author, `authored pull request #${c.number}`);
  }
  const pv = await deps.pipelines.version(
    run.project,
    run.pipeline,
    run.pipelineVersion,
    tx as AnyTx,
  );
  add(pv.author, `authored pipeline ${pv.name} version ${pv.version}`);
  return out;
}

export function exclusionOf(excluded: Map<string, string>, principal: string): string | undefined {
  for (const key of identityKeys(principal)) {
    const why = excluded.get(key);
    if (why) return why;
  }
  return undefined;
}
