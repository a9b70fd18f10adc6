import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitRanges, maxRangeCommits, signatureState } from './commit-range.ts';

// The commit range on real git repositories, checked out the way the runner does it: a clone
// over file:// of an origin where people commit, then the range computed in the clone.

const root = mkdtempSync(path.join(tmpdir(), 'custody-range-'));
let counter = 0;

function origin(): { dir: string; git: (...args: string[]) => string } {
  const dir = path.join(root, `origin-${counter++}`);
  mkdirSync(dir);
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env } }).trim();
  git('init', '-q', '-b', 'main');
  return { dir, git };
}

// A commit by `author`, committed by `committer` (default: the author).
function commit(
  repo: { dir: string },
  message: string,
  author: string,
  committer = author,
): string {
  writeFileSync(path.join(repo.dir, `${message}.txt`), `${message}\n`);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: `${author.toLowerCase()}@example.com`,
    GIT_COMMITTER_NAME: committer,
    GIT_COMMITTER_EMAIL: `${committer.toLowerCase()}@example.com`,
  };
  execFileSync('git', ['add', `${message}.txt`], { cwd: repo.dir, env });
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], { cwd: repo.dir, env });
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.dir, encoding: 'utf8' }).trim();
}

function checkout(repo: { dir: string }, ref = 'origin/main'): string {
  const dir = path.join(root, `clone-${counter++}`);
  execFileSync('git', ['clone', '--quiet', '--no-checkout', `file://${repo.dir}`, dir]);
  execFileSync('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', ref], {
    cwd: dir,
  });
  return dir;
}

const shas = (r: { commits: { sha: string }[] }) => r.commits.map((c) => c.sha);

describe('commit range at checkout (real git)', () => {
  it('linear history: since..HEAD, with author, committer and their e-mails', async () => {
    const repo = origin();
    const a = commit(repo, 'a', 'Alice');
    const b = commit(repo, 'b', 'Bob', 'Carol');
    const c = commit(repo, 'c', 'Dave');
    const [range] = await commitRanges({
      cwd: checkout(repo),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: a }] },
    });
    expect(range).toMatchObject({ environment: 'prod', since: a, truncated: false });
    expect(shas(range!)).toEqual([c, b]);
    expect(range!.commits[1]).toEqual({
      sha: b,
      authorName: 'Bob',
      authorEmail: 'bob@example.com',
      committerName: 'Carol',
      committerEmail: 'carol@example.com',
      signature: 'none',
    });
  });

  it('a merge brings in every commit of the merged branch, all parents included', async () => {
    const repo = origin();
    const base = commit(repo, 'base', 'Alice');
    repo.git('checkout', '-q', '-b', 'feature');
    const f1 = commit(repo, 'f1', 'Erin');
    const f2 = commit(repo, 'f2', 'Frank');
    repo.git('checkout', '-q', 'main');
    const m1 = commit(repo, 'm1', 'Bob');
    execFileSync('git', ['merge', '-q', '--no-ff', '-m', 'merge feature', 'feature'], {
      cwd: repo.dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Grace',
        GIT_AUTHOR_EMAIL: 'grace@example.com',
        GIT_COMMITTER_NAME: 'Grace',
        GIT_COMMITTER_EMAIL: 'grace@example.com',
      },
    });
    const merge = repo.git('rev-parse', 'HEAD');
    const [fromBase, fromM1] = await commitRanges({
      cwd: checkout(repo),
      history: {
        branch: 'main',
        ranges: [
          { environment: 'qa', since: base },
          { environment: 'prod', since: m1 },
        ],
      },
    });
    expect(new Set(shas(fromBase!))).toEqual(new Set([merge, m1, f1, f2]));
    expect(shas(fromBase!)[0]).toBe(merge);
    expect(new Set(shas(fromM1!))).toEqual(new Set([merge, f1, f2]));
    expect(fromM1!.commits.map((c) => c.authorName).sort()).toEqual(['Erin', 'Frank', 'Grace']);
  });

  it('a force-pushed since (not an ancestor of HEAD): merge-base(since, HEAD)..HEAD', async () => {
    const repo = origin();
    commit(repo, 'a', 'Alice');
    const b = commit(repo, 'b', 'Bob');
    const gone = commit(repo, 'c', 'Carol'); // released to prod, then force-pushed away
    repo.git('reset', '-q', '--hard', b);
    const d = commit(repo, 'd', 'Dave');
    const e = commit(repo, 'e', 'Erin');
    const cwd = checkout(repo);
    // The clone has no ref reaching the released commit; the runner fetches it by id.
    expect(() => execFileSync('git', ['cat-file', '-e', gone], { cwd, stdio: 'ignore' })).toThrow();
    const [range] = await commitRanges({
      cwd,
      history: { branch: 'main', ranges: [{ environment: 'prod', since: gone }] },
    });
    expect(shas(range!)).toEqual([e, d]);
    expect(range!.since).toBe(gone);
  });

  it('a since no repository knows bounds nothing: the whole history of HEAD counts', async () => {
    const repo = origin();
    const a = commit(repo, 'a', 'Alice');
    const b = commit(repo, 'b', 'Bob');
    const unknown = 'f'.repeat(40);
    const [range, garbage] = await commitRanges({
      cwd: checkout(repo),
      history: {
        branch: 'main',
        ranges: [
          { environment: 'prod', since: unknown },
          { environment: 'qa', since: '--output=/tmp/x' },
        ],
      },
    });
    expect(shas(range!)).toEqual([b, a]);
    expect(shas(garbage!)).toEqual([b, a]);
  });

  it('first release: merge-base(HEAD, origin/<branch>)..HEAD, and HEAD itself always', async () => {
    const repo = origin();
    commit(repo, 'a', 'Alice');
    const main = commit(repo, 'b', 'Bob');
    repo.git('checkout', '-q', '-b', 'topic');
    const t1 = commit(repo, 't1', 'Tess');
    const t2 = commit(repo, 't2', 'Uma');
    repo.git('checkout', '-q', 'main');
    const [onMain] = await commitRanges({
      cwd: checkout(repo),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: null }] },
    });
    expect(shas(onMain!)).toEqual([main]);
    const [onTopic] = await commitRanges({
      cwd: checkout(repo, t2),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: null }] },
    });
    expect(shas(onTopic!)).toEqual([t2, t1]);
    // Redeploying what is already released: the range is empty but HEAD is still reported.
    const [same] = await commitRanges({
      cwd: checkout(repo),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: main }] },
    });
    expect(shas(same!)).toEqual([main]);
  });

  it(`caps a range at ${maxRangeCommits} commits and says so`, async () => {
    const repo = origin();
    const first = commit(repo, 'first', 'Alice');
    // Many commits quickly: fast-import instead of one process per commit.
    const lines: string[] = [];
    const when = Math.floor(Date.now() / 1000);
    for (let i = 0; i < maxRangeCommits + 5; i++) {
      lines.push(
        'commit refs/heads/main',
        `author Bulk <bulk@example.com> ${when + i} +0000`,
        `committer Bulk <bulk@example.com> ${when + i} +0000`,
        `data ${`c${i}`.length}`,
        `c${i}`,
        ...(i === 0 ? [`from ${first}`] : []),
        '',
      );
    }
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo.dir, input: lines.join('\n') });
    const head = repo.git('rev-parse', 'main');
    const [range] = await commitRanges({
      cwd: checkout(repo),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: first }] },
    });
    expect(range!.truncated).toBe(true);
    expect(range!.commits).toHaveLength(maxRangeCommits);
    expect(range!.commits[0]!.sha).toBe(head);
  });

  it('names, e-mails and messages with separators and newlines do not break the parse', async () => {
    const repo = origin();
    const a = commit(repo, 'a', 'Alice');
    writeFileSync(path.join(repo.dir, 'a.txt'), 'long\n');
    execFileSync('git', ['commit', '-q', '-am', 'a name longer than any the server takes'], {
      cwd: repo.dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'x'.repeat(5000),
        GIT_AUTHOR_EMAIL: 'long@example.com',
        GIT_COMMITTER_NAME: 'CI Bot',
        GIT_COMMITTER_EMAIL: 'ci@example.com',
      },
    });
    writeFileSync(path.join(repo.dir, 'a.txt'), 'x\n');
    execFileSync('git', ['commit', '-q', '-am', 'line one\n\nG?|%x00 tricky\n'], {
      cwd: repo.dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Zoë | O\'Brien, "Z" Jr',
        GIT_AUTHOR_EMAIL: 'zoe+tag@example.com',
        GIT_COMMITTER_NAME: 'CI Bot',
        GIT_COMMITTER_EMAIL: 'ci@example.com',
      },
    });
    const [range] = await commitRanges({
      cwd: checkout(repo),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: a }] },
    });
    expect(range!.commits).toHaveLength(2);
    expect(range!.commits[1]).toMatchObject({
      authorName: 'x'.repeat(320),
      authorEmail: 'long@example.com',
    });
    expect(range!.commits[0]).toMatchObject({
      authorName: 'Zoë | O\'Brien, "Z" Jr',
      authorEmail: 'zoe+tag@example.com',
      committerName: 'CI Bot',
      signature: 'none',
    });
  });

  it('a commit signed with an SSH key the runner trusts is good; unsigned ones are none', async () => {
    const repo = origin();
    const a = commit(repo, 'a', 'Alice');
    const key = path.join(root, `key-${counter++}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    writeFileSync(path.join(repo.dir, 'a.txt'), 'signed\n');
    const signer = ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}.pub`];
    execFileSync('git', [...signer, 'commit', '-q', '-S', '-am', 'signed'], {
      cwd: repo.dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Sam',
        GIT_AUTHOR_EMAIL: 'sam@example.com',
        GIT_COMMITTER_NAME: 'Sam',
        GIT_COMMITTER_EMAIL: 'sam@example.com',
      },
    });
    const signed = repo.git('rev-parse', 'HEAD');
    const unsigned = commit(repo, 'after', 'Bob');
    const allowed = path.join(root, `allowed-${counter++}`);
    writeFileSync(allowed, `sam@example.com ${readFileSync(`${key}.pub`, 'utf8')}`);
    const [range] = await commitRanges({
      cwd: checkout(repo),
      history: { branch: 'main', ranges: [{ environment: 'prod', since: a }] },
      env: {
        ...process.env,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'gpg.ssh.allowedSignersFile',
        GIT_CONFIG_VALUE_0: allowed,
      },
    });
    expect(range!.commits.map((c) => [c.sha, c.signature])).toEqual([
      [unsigned, 'none'],
      [signed, 'good'],
    ]);
  });

  it("maps every %G? code to the server's four states", () => {
    expect(['G', 'B', 'X', 'Y', 'R', 'E', 'U', 'N'].map(signatureState)).toEqual([
      'good',
      'bad',
      'bad',
      'bad',
      'bad',
      'unknown',
      'unknown',
      'none',
    ]);
  });
});
