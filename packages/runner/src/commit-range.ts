import { execFile } from 'node:child_process';
import type { CommitRange, JobHistory, RangeCommit, SignatureState } from './protocol.ts';

// The commits a deploy ships, per target environment, read from the fresh checkout before any
// step has run (a step could rewrite .git/config and make later git calls run its code).

export const maxRangeCommits = 1000;
// The server takes names and e-mails up to this length; a longer one (no real address is) is
// cut, so it can only ever fail to match a person, never make the report unacceptable.
export const maxPersonLength = 320;
const person = (s: string) => s.slice(0, maxPersonLength);

// `%G?`: G good; B bad; X, Y good but with an expired signature or key, R revoked key: all three
// unacceptable; U good of unknown validity, E not checkable (no key): unknown; N unsigned.
export function signatureState(code: string): SignatureState {
  switch (code) {
    case 'G':
      return 'good';
    case 'B':
    case 'X':
    case 'Y':
    case 'R':
      return 'bad';
    case 'E':
    case 'U':
      return 'unknown';
    default:
      return 'none';
  }
}

const fields = ['%H', '%an', '%ae', '%cn', '%ce', '%G?'];
const format = fields.join('%x00');

type Git = (args: string[]) => Promise<{ code: number; stdout: string }>;

export function gitIn(cwd: string, env: NodeJS.ProcessEnv = process.env): Git {
  return (args) =>
    new Promise((resolve) => {
      execFile(
        'git',
        ['-c', 'log.showSignature=false', ...args],
        { cwd, env: { ...env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout: String(stdout) });
        },
      );
    });
}

async function resolveCommit(git: Git, rev: string): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

async function mergeBase(git: Git, a: string, b: string): Promise<string | null> {
  const r = await git(['merge-base', '--end-of-options', a, b]);
  return r.code === 0 ? r.stdout.trim() : null;
}

// A `since` the clone lacks (force-pushed away, so no ref reaches it) may still be fetchable.
async function findSince(git: Git, since: string): Promise<string | null> {
  if (!/^[0-9a-f]{4,64}$/i.test(since)) return null;
  const local = await resolveCommit(git, since);
  if (local || !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(since)) return local;
  await git(['fetch', '--quiet', '--no-tags', 'origin', since]);
  return resolveCommit(git, since);
}

// Where the range starts; null when nothing bounds it (an unknown `since`, no branch to
// measure a first release against): then the whole history of HEAD counts, capped.
async function rangeBase(
  git: Git,
  head: string,
  since: string | null,
  branch: string,
): Promise<string | null> {
  if (since === null) return mergeBase(git, head, `refs/remotes/origin/${branch}`);
  const known = await findSince(git, since);
  if (!known) return null;
  const ancestor = await git(['merge-base', '--is-ancestor', '--end-of-options', known, head]);
  return ancestor.code === 0 ? known : mergeBase(git, known, head);
}

function parseLog(stdout: string): RangeCommit[] {
  const parts = stdout.split('\0');
  const commits: RangeCommit[] = [];
  for (let i = 0; i + fields.length <= parts.length; i += fields.length) {
    const [sha, authorName, authorEmail, committerName, committerEmail, sig] = parts.slice(
      i,
      i + fields.length,
    ) as [string, string, string, string, string, string];
    commits.push({
      sha: sha.trim(),
      authorName: person(authorName),
      authorEmail: person(authorEmail),
      committerName: person(committerName),
      committerEmail: person(committerEmail),
      signature: signatureState(sig),
    });
  }
  return commits;
}

async function log(git: Git, revs: string[], max: number): Promise<RangeCommit[]> {
  const r = await git(['log', '-z', `--max-count=${max}`, `--format=${format}`, ...revs, '--']);
  if (r.code !== 0) throw new Error(`git log ${revs.join(' ')} failed`);
  return parseLog(r.stdout);
}

export async function commitRange(
  git: Git,
  head: string,
  range: { environment: string; since: string | null },
  branch: string,
): Promise<CommitRange> {
  const base = await rangeBase(git, head, range.since, branch);
  const revs = base ? [head, `^${base}`] : [head];
  let commits = await log(git, revs, maxRangeCommits + 1);
  if (!commits.some((c) => c.sha === head)) commits = [...(await log(git, [head], 1)), ...commits];
  const truncated = commits.length > maxRangeCommits;
  return {
    environment: range.environment,
    since: range.since,
    truncated,
    commits: commits.slice(0, maxRangeCommits),
  };
}

// One range per environment the job deploys to, computed in the checkout at `cwd`.
export async function commitRanges(options: {
  cwd: string;
  history: JobHistory;
  env?: NodeJS.ProcessEnv;
}): Promise<CommitRange[]> {
  const git = gitIn(options.cwd, options.env);
  const head = await resolveCommit(git, 'HEAD');
  if (!head) throw new Error('no HEAD in the checkout');
  const out: CommitRange[] = [];
  for (const range of options.history.ranges)
    out.push(await commitRange(git, head, range, options.history.branch));
  return out;
}
