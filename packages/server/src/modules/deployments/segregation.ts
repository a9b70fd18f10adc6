import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import { sockPuppetChain, type CreatorLookup } from '../../platform/four-eyes.ts';
import type { CommitRangeRecord, ExecutionReads, GateRun } from '../executions/index.ts';
import type { PipelineService } from '../pipelines/index.ts';
import type { KyselyScmStore } from '../scm/index.ts';

// Maps identity references (`user:`, `email:`, `github:`, `gitlab:`) to the users they are
// linked to; the identity module's IdentityDirectory implements it.
export interface IdentityResolver {
  resolve(db: AnyDb | AnyTx, refs: readonly string[]): Promise<Map<string, string>>;
}

export interface SodDeps {
  pipelines: PipelineService;
  scm: KyselyScmStore;
  executions: ExecutionReads;
  directory: IdentityResolver & CreatorLookup;
  sockPuppetWindowMs: number | null;
}

// Who took part in the change a deployment ships, and so may never approve it.
export interface SodAnalysis {
  // user:NAME → why (the first reason found).
  readonly excluded: ReadonlyMap<string, string>;
  // People seen in the change (commit authors and committers, pushers, pull request authors)
  // whom no user is linked to.
  readonly unlinked: readonly { ref: string; why: string }[];
  // The commits from the release in force to the deployed commit, as the runner reported them.
  readonly range: CommitRangeRecord | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const short = (sha: string) => sha.slice(0, 12);

// Everyone who changed or released what the run deploys to `environment`: its triggerer, the
// pipeline version's author, every author and committer of every commit in the range (from
// the runner's report at checkout, and from the SCM webhooks), whoever pushed them and the
// authors of their pull requests. Matching is exact on identities linked to users.
export async function analyseSod(
  tx: AnyDb | AnyTx,
  deps: SodDeps,
  run: GateRun,
  environment: string,
): Promise<SodAnalysis> {
  const people: { ref: string; why: string }[] = [];
  const add = (ref: string | undefined, why: string) => {
    if (ref) people.push({ ref, why });
  };
  add(run.createdBy, 'triggered the run');
  add(str(run.trigger.via), 'triggered the run (through a token issued for someone else)');
  const pv = await deps.pipelines.version(
    run.project,
    run.pipeline,
    run.pipelineVersion,
    tx as AnyTx,
  );
  add(pv.author, `authored pipeline ${pv.name} version ${pv.version}`);
  const t = run.trigger;
  add(str(t.pushedBy), 'pushed the commit');
  add(str(t.author), 'authored the commit');
  add(str(t.committer), 'committed the commit');
  for (const key of ['authors', 'committers'] as const)
    for (const who of Array.isArray(t[key]) ? t[key] : [])
      add(str(who), key === 'authors' ? 'authored the commit' : 'committed the commit');

  const range = await deps.executions.commitRange(tx, run.id, environment);
  const shas = new Set(range?.commits.map((c) => c.sha) ?? []);
  if (run.commit) shas.add(run.commit);
  for (const c of range?.commits ?? []) {
    add(`email:${c.authorEmail}`, `authored commit ${short(c.sha)}`);
    add(`email:${c.committerEmail}`, `committed commit ${short(c.sha)}`);
  }
  for (const c of await deps.scm.commitsWithShas(tx, run.project, [...shas])) {
    add(c.author, `authored commit ${short(c.sha)}`);
    add(c.committer, `committed commit ${short(c.sha)}`);
    add(c.pushed_by, `pushed commit ${short(c.sha)}`);
  }
  for (const pr of await deps.scm.changesForCommits(tx, run.project, [...shas]))
    add(pr.author, `authored pull request #${pr.number}`);

  const resolved = await deps.directory.resolve(
    tx,
    people.map((p) => p.ref),
  );
  const excluded = new Map<string, string>();
  const unlinked = new Map<string, string>();
  for (const p of people) {
    const user = resolved.get(p.ref) ?? (p.ref.startsWith('user:') ? p.ref : undefined);
    if (user) {
      if (!excluded.has(user)) excluded.set(user, p.why);
    } else if (!/^(serviceaccount|system|runner|anonymous):/.test(p.ref) && !unlinked.has(p.ref))
      unlinked.set(p.ref, p.why);
  }
  return {
    excluded,
    unlinked: [...unlinked.entries()].map(([ref, why]) => ({ ref, why })),
    range,
  };
}

// Why `principal` may not approve, if it may not: it took part, or an account that took part
// created it for the occasion (within the sock-puppet window before `since`).
export async function exclusionOf(
  tx: AnyDb | AnyTx,
  deps: Pick<SodDeps, 'directory' | 'sockPuppetWindowMs'>,
  analysis: SodAnalysis,
  principal: string,
  since: string,
): Promise<string | undefined> {
  const direct = analysis.excluded.get(principal);
  if (direct) return direct;
  for (const [author, why] of analysis.excluded) {
    const chain = await sockPuppetChain(deps.directory, tx, {
      approver: principal,
      author,
      since,
      windowMs: deps.sockPuppetWindowMs,
    });
    if (chain) return `was created by ${chain.slice(1).join(' ← ')}, who ${why}`;
  }
  return undefined;
}
