import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { DeployDriver, type DriverJob } from '../../platform/testing/deploy-driver.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { KyselyScmStore } from '../scm/index.ts';

// Segregation of duties on a manual run, with no SCM webhook: the runner reports every commit
// from the release in force to the deployed one, and each of their authors is excluded from
// approving — matched exactly on identities an administrator linked, never by name.

const head = 'a'.repeat(40);
const middle = 'b'.repeat(40);
const released = 'c'.repeat(40);

const manifest = (unlinked: 'allow' | 'block') => `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec:
  type: production
  sod: { unlinkedAuthors: ${unlinked} }
  approvals:
    rules: [{ name: release, group: releasers, required: 1 }]
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ship, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy
      type: deploy
      environment: prod
      steps:
        - { name: first, run: ./one.sh }
        - { name: second, run: ./two.sh }
`;

const person = (name: string, email: string) => ({
  authorName: name,
  authorEmail: email,
  committerName: name,
  committerEmail: email,
  signature: 'none' as const,
});

for (const dialect of dialects) {
  describe(`segregation of duties over the deployed commit range [${dialect}]`, () => {
    let t: TestApp;
    let d: DeployDriver;
    const clock = new ManualClock('2026-11-24T15:00:00Z');
    const tok: Record<string, string> = {};

    // Plays the first step's checkout report: the commit and the range since the release.
    const reportRange = async (job: DriverJob & { history?: unknown }, commits: unknown[]) => {
      const res = await d.runner.report(job, 'commit', {
        commit: head,
        ranges: [{ environment: 'prod', since: null, truncated: false, commits }],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    const link = async (user: string, kind: string, value: string) => {
      const res = await d.api('POST', `/api/v1/users/${user}/identities`, { kind, value });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    };

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      tok.alice = await t.user('alice', ['developer@project:shop']);
      for (const name of ['bob', 'carol', 'erin'])
        tok[name] = await t.user(name, ['release-manager@project:shop']);
      tok.cab = await t.user('cab', ['approver@organization']);
      const people = await t.apply(`
apiVersion: custody/v1
kind: Group
metadata: { name: releasers }
spec: { members: [user:bob, user:carol, user:erin] }
`);
      expect(people.statusCode, people.body).toBe(200);
      expect((await t.apply(manifest('allow'))).statusCode).toBe(200);
      d = await DeployDriver.create(t);
      for (const r of (await d.api('GET', '/api/v1/approvals?state=pending')).body.items as {
        id: string;
      }[])
        expect((await d.api('POST', `/api/v1/approvals/${r.id}/approve`, {}, tok.cab)).status).toBe(
          200,
        );
      await link('erin', 'email', 'Erin.Example@corp.example');
      await link('carol', 'email', 'carol@corp.example');
    });
    afterAll(async () => t?.close());

    it('the payload asks the runner for the range since the release in force', async () => {
      const id = await d.startRun('shop', 'ship', tok.alice);
      const g = await d.gate(id, 'deploy');
      expect(g.decision!.reasons.map((r) => r.code)).toContain('SOD_COMMITS_NOT_RECORDED');
      // Nobody may approve yet (alice triggered); bob approves before the commits are known.
      expect((await d.vote(id, 'deploy', tok.bob)).status).toBe(200);
      await d.tick();
      const job = (await d.lease()) as DriverJob & {
        history: { branch: string; ranges: { environment: string; since: string | null }[] };
      };
      expect(job.history).toEqual({
        branch: 'main',
        ranges: [{ environment: 'prod', since: null }],
      });
      expect((await d.api('POST', `/api/v1/runs/${id}/cancel`, {})).status).toBe(200);
      expect((await d.runner.report(job, 'complete', { result: 'cancelled' })).status).toBe(200);
    });

    it('every author in the range is excluded, not only HEAD, matched on linked e-mails', async () => {
      // Pinned to its commit: an approval binds to what will be deployed.
      const id = await d.startRun('shop', 'ship', tok.alice, { commit: head });
      expect((await d.vote(id, 'deploy', tok.bob)).status).toBe(200);
      await d.tick();
      const job = (await d.lease())!;
      // HEAD by bob's colleague erin (e-mail in other case), the commit before by carol.
      await reportRange(job, [
        { sha: head, ...person('Erin', 'erin.example@CORP.example') },
        { sha: middle, ...person('Carol', 'carol@corp.example') },
      ]);
      for (const who of ['erin', 'carol']) {
        const res = await d.vote(id, 'deploy', tok[who]);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
        expect(res.body.error.message).toMatch(/authored commit (aaaaaaaaaaaa|bbbbbbbbbbbb)/);
      }
      expect(await d.auditActions({ action: 'executions.run.commits-recorded' })).toHaveLength(1);
      await d.play(job);
      expect(await d.runState(id)).toBe('succeeded');
    });

    it('an approval given before the range was known stops counting once its giver is an author', async () => {
      const id = await d.startRun('shop', 'ship', tok.alice, { commit: head });
      // carol approves while the commits are unknown; then the runner reports her commit.
      expect((await d.vote(id, 'deploy', tok.carol)).status).toBe(200);
      await d.tick();
      const job = (await d.lease())!;
      await reportRange(job, [
        { sha: head, ...person('Dana', 'dana@corp.example') },
        { sha: middle, ...person('Carol', 'carol@corp.example') },
        { sha: released, ...person('Dana', 'dana@corp.example') },
      ]);
      const start = await d.runner.report(job, 'steps/start', { step: 0 });
      expect(start.status).toBe(409);
      expect(start.body.error.code).toBe('EXECUTIONS_LEASE_LOST');
      const stage = await d.stage(id, 'deploy');
      expect(stage.state).toBe('waiting_for_approval');
      const g = await d.gate(id, 'deploy');
      expect(g.decision!.reasons.find((r) => r.code === 'SOD_AUTHOR_UNLINKED')?.message).toContain(
        'email:dana@corp.example',
      );
      expect((await d.api('POST', `/api/v1/runs/${id}/cancel`, {})).status).toBe(200);
    });

    it('a login of another system is never the user of the same name; unlinked authors can be required known', async () => {
      // The SCM webhook recorded github:erin as the pusher of the commit; nobody linked it.
      await new KyselyScmStore().addCommit(t.app.database.db, {
        provider: 'github',
        project: 'shop',
        repository: 'acme/shop',
        sha: head,
        ref: 'refs/heads/main',
        author: 'github:erin',
        committer: 'github:erin',
        pushed_by: 'github:erin',
        received_at: clock.now().toISOString(),
      });
      const id = await d.startRun('shop', 'ship', tok.alice, { commit: head });
      const g = await d.gate(id, 'deploy');
      const unlinked = g.decision!.reasons.find((r) => r.code === 'SOD_AUTHOR_UNLINKED');
      expect(unlinked?.blocking).toBe(false);
      expect(unlinked?.message).toContain('github:erin');
      // Linking it makes erin an author of the change.
      await link('erin', 'github', 'erin');
      const refused = await d.vote(id, 'deploy', tok.erin);
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('authored commit aaaaaaaaaaaa');
      // A production environment may require every author to be known.
      const strict = await t.apply(manifest('block'));
      expect(strict.statusCode, strict.body).toBe(200);
      for (const r of (await d.api('GET', '/api/v1/approvals?state=pending')).body.items as {
        id: string;
      }[])
        expect((await d.api('POST', `/api/v1/approvals/${r.id}/approve`, {}, tok.cab)).status).toBe(
          200,
        );
      await t.app.database.db
        .insertInto('scm_commits' as never)
        .values({
          provider: 'github',
          project: 'shop',
          repository: 'acme/shop-mirror',
          sha: head,
          ref: 'refs/heads/main',
          author: 'github:stranger',
          committer: 'github:stranger',
          pushed_by: 'github:stranger',
          received_at: clock.now().toISOString(),
        } as never)
        .execute();
      const other = await d.startRun('shop', 'ship', tok.alice, { commit: head });
      const blocked = await d.gate(other, 'deploy');
      const reason = blocked.decision!.reasons.find((r) => r.code === 'SOD_AUTHOR_UNLINKED');
      expect(reason?.blocking).toBe(true);
      expect(reason?.message).toContain('github:stranger');
      expect(blocked.decision!.status).toBe('blocked');
    });
  });
}
