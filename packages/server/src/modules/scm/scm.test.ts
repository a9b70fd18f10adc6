import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { TestRunner, type LeasedJob } from '../../platform/testing/test-runner.ts';

interface LeasedSteps extends LeasedJob {
  steps: { secrets: Record<string, string> }[];
}

interface Example {
  name: string;
  examples: Record<string, unknown>[];
}
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Example[];
const github = (name: string) => examples.find((e) => e.name === name)!.examples;
const fixture = (file: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', file), 'utf8')) as Record<
    string,
    unknown
  >;

const ghSecret = 'gh-webhook-secret-0123';
const glToken = 'gl-webhook-token-4567';

const manifest = `apiVersion: custody/v1
kind: Project
metadata: { name: hello }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ci, project: hello }
spec:
  source: { repository: 'https://github.com/Codertocat/Hello-World.git', branch: master }
  triggers: [ { push: { branch: master } } ]
  stages:
    - name: build
      type: ci
      steps: [ { name: make, run: make } ]
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: manual-only, project: hello }
spec:
  source: { repository: 'https://github.com/Codertocat/Hello-World.git', branch: master }
  triggers: [ { manual: {} } ]
  stages:
    - name: build
      type: ci
      steps: [ { name: make, run: make } ]
---
apiVersion: custody/v1
kind: Project
metadata: { name: diaspora }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ci, project: diaspora }
spec:
  source: { repository: 'git@example.com:mike/diaspora.git', branch: master }
  triggers: [ { push: { branch: master } } ]
  stages:
    - name: build
      type: ci
      steps: [ { name: make, run: make } ]
`;

for (const dialect of dialects) {
  describe(`SCM webhooks [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, {
        config: { dataDir: mkdtempSync(path.join(tmpdir(), 'custody-scm-')) },
      });
      expect((await t.apply(manifest)).statusCode).toBe(200);
      for (const [project, provider, value] of [
        ['hello', 'github', ghSecret],
        ['diaspora', 'gitlab', glToken],
      ] as const)
        expect(
          (
            await t.request({
              method: 'PUT',
              url: `/api/v1/projects/${project}/scm/webhook-secrets/${provider}`,
              json: { value },
            })
          ).statusCode,
        ).toBe(200);
    });
    afterAll(async () => {
      await t?.close();
    });

    const postGithub = (
      event: string,
      payload: unknown,
      secret = ghSecret,
      project = 'hello',
      delivery = `d-${Math.random()}`,
    ) => {
      const body = JSON.stringify(payload);
      return t.request({
        method: 'POST',
        url: `/api/v1/webhooks/github/${project}`,
        token: '',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': delivery,
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
      });
    };
    const postGitlab = (
      event: string,
      payload: unknown,
      token = glToken,
      ids: Record<string, string> = { 'x-gitlab-event-uuid': `e-${Math.random()}` },
    ) =>
      t.request({
        method: 'POST',
        url: '/api/v1/webhooks/gitlab/diaspora',
        token: '',
        body: JSON.stringify(payload),
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': event,
          ...ids,
          'x-gitlab-token': token,
        },
      });
    // Pull requests and pushed commits are two paginated listings.
    const changes = async (project: string) =>
      ({
        changes: (
          await t.request({ method: 'GET', url: `/api/v1/projects/${project}/scm/changes` })
        ).json().changes,
        commits: (
          await t.request({ method: 'GET', url: `/api/v1/projects/${project}/scm/commits` })
        ).json().items,
      }) as {
        changes: {
          number: number;
          author: string;
          state: string;
          mergeCommitSha: string | null;
          reviews: { reviewer: string; verdict: string }[];
        }[];
        commits: { sha: string; author: string; committer: string }[];
      };

    it('GitHub: a bad or missing signature is refused with 401, an audit entry, and nothing recorded', async () => {
      const push = github('push').find((p) => p.ref === 'refs/heads/master')!;
      const before = await t.app.services.audit.size();
      const bad = await postGithub('push', push, 'wrong-secret');
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error.code).toBe('SCM_WEBHOOK_SIGNATURE_INVALID');
      const unsigned = await t.request({
        method: 'POST',
        url: '/api/v1/webhooks/github/hello',
        token: '',
        json: push,
        headers: { 'x-github-event': 'push' },
      });
      expect(unsigned.statusCode).toBe(401);
      const entries = await t.app.services.audit.list({
        afterSeq: before - 1,
        limit: 10,
        order: 'asc',
      });
      expect(entries).toHaveLength(2);
      expect(entries[0]).toMatchObject({
        action: 'scm.webhook.received',
        outcome: 'denied',
        details: { code: 'SCM_WEBHOOK_SIGNATURE_INVALID' },
      });
      expect((await changes('hello')).commits).toHaveLength(0);
      expect(
        (await t.request({ method: 'GET', url: '/api/v1/runs?project=hello' })).json().items,
      ).toHaveLength(0);
      const unconfigured = await postGithub('push', push, ghSecret, 'diaspora');
      expect(unconfigured.json().error.code).toBe('SCM_WEBHOOK_NOT_CONFIGURED');
    });

    it('GitHub: every example payload is accepted; a push to the branch starts the push-triggered pipeline', async () => {
      for (const name of ['ping', 'push', 'pull_request', 'pull_request_review'])
        for (const payload of github(name)) {
          const res = await postGithub(name, payload);
          expect(res.statusCode, `${name} ${String(payload.action ?? '')}`).toBe(200);
        }
      const runs = (await t.request({ method: 'GET', url: '/api/v1/runs?project=hello' })).json()
        .items as {
        pipeline: string;
        commit: string;
        trigger: { type: string; ref: string };
      }[];
      const masterPushes = github('push').filter((p) => p.ref === 'refs/heads/master').length;
      expect(runs).toHaveLength(masterPushes);
      expect(runs[0]).toMatchObject({
        pipeline: 'ci',
        commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        trigger: { type: 'push', ref: 'refs/heads/master' },
      });
      const recorded = await changes('hello');
      expect(recorded.commits[0]).toMatchObject({
        author: 'github:Codertocat',
        committer: expect.stringMatching(/^(github|email):/),
      });
      const pr = recorded.changes.find((c) => c.number === 2)!;
      expect(pr.author).toBe('github:Codertocat');
      expect(pr.reviews.map((r) => r.verdict)).toEqual(
        expect.arrayContaining(['commented', 'dismissed']),
      );
      expect(pr.reviews[0]!.reviewer).toBe('github:Codertocat');
    });

    it('a push-only pipeline refuses manual runs', async () => {
      const res = await t.request({
        method: 'POST',
        url: '/api/v1/projects/hello/pipelines/ci/runs',
        json: {},
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('EXECUTIONS_MANUAL_TRIGGER_DISABLED');
      expect(
        (
          await t.request({
            method: 'POST',
            url: '/api/v1/projects/hello/pipelines/manual-only/runs',
            json: {},
          })
        ).statusCode,
      ).toBe(201);
    });

    it('GitLab: X-Gitlab-Token is checked; pushes start runs, merge requests and approvals are recorded', async () => {
      const push = fixture('gitlab-push.json');
      const bad = await postGitlab('Push Hook', push, 'nope');
      expect(bad.statusCode).toBe(401);
      const ok = await postGitlab('Push Hook', push);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().runs).toHaveLength(1);
      const run = (
        await t.request({ method: 'GET', url: `/api/v1/runs/${ok.json().runs[0]}` })
      ).json();
      expect(run.commit).toBe('da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
      const mr = fixture('gitlab-merge-request.json');
      expect((await postGitlab('Merge Request Hook', mr)).statusCode).toBe(200);
      const approved = structuredClone(mr) as {
        user: { username: string };
        object_attributes: { action: string };
      };
      approved.user.username = 'user1';
      approved.object_attributes.action = 'approved';
      expect((await postGitlab('Merge Request Hook', approved)).statusCode).toBe(200);
      const recorded = await changes('diaspora');
      expect(recorded.commits.map((c) => c.author)).toEqual([
        'email:jordi@softcatala.org',
        'email:gitlabdev@dv6700.(none)',
      ]);
      expect(recorded.changes[0]).toMatchObject({
        number: 1,
        author: 'gitlab:root',
        state: 'opened',
      });
      expect(recorded.changes[0]!.reviews).toEqual([
        expect.objectContaining({ reviewer: 'gitlab:user1', verdict: 'approved' }),
      ]);
    });

    it('a replayed delivery is refused with a code and audited as denied; nothing is recorded twice', async () => {
      const review = structuredClone(github('pull_request_review')[0]!) as {
        review: { user: { login: string }; state: string };
      };
      review.review.user.login = 'mallory-approver';
      review.review.state = 'approved';
      const first = await postGithub('pull_request_review', review, ghSecret, 'hello', 'dup-1');
      expect(first.statusCode).toBe(200);
      // The same signed delivery sent again, once and then twice at the same time.
      const again = await postGithub('pull_request_review', review, ghSecret, 'hello', 'dup-1');
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('SCM_WEBHOOK_REPLAYED');
      const twice = await Promise.all(
        [1, 2].map(() => postGithub('pull_request_review', review, ghSecret, 'hello', 'dup-2')),
      );
      expect(twice.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const reviews = (await changes('hello')).changes.flatMap((c) =>
        c.reviews.filter((r) => r.reviewer === 'github:mallory-approver'),
      );
      expect(reviews).toHaveLength(2);
      const denied = await t.app.services.audit.list({
        action: 'scm.webhook.received',
        outcome: 'denied',
        limit: 100,
      });
      expect(
        denied
          .filter((e) => e.details.code === 'SCM_WEBHOOK_REPLAYED')
          .map((e) => e.details.delivery),
      ).toEqual(['dup-1', 'dup-2']);
      // GitLab: the Idempotency-Key (or X-Gitlab-Event-UUID) is the delivery id.
      const mr = fixture('gitlab-merge-request.json');
      const ids = { 'idempotency-key': 'gl-1' };
      expect((await postGitlab('Merge Request Hook', mr, glToken, ids)).statusCode).toBe(200);
      const glAgain = await postGitlab('Merge Request Hook', mr, glToken, ids);
      expect(glAgain.json().error.code).toBe('SCM_WEBHOOK_REPLAYED');
      // Without a delivery id a replay cannot be told apart: refused.
      const none = await postGitlab('Merge Request Hook', mr, glToken, {});
      expect(none.statusCode).toBe(400);
      expect(none.json().error.code).toBe('SCM_WEBHOOK_DELIVERY_MISSING');
    });

    it('the webhook secret is a platform secret: not a job secret, never returned, set by its own API', async () => {
      const listed = await t.request({
        method: 'GET',
        url: '/api/v1/projects/hello/scm/webhook-secrets',
      });
      expect(listed.json().items).toEqual([
        expect.objectContaining({ provider: 'github', version: 1, updatedBy: 'user:admin' }),
      ]);
      expect(listed.body).not.toContain(ghSecret);
      const asJobSecret = await t.request({
        method: 'PUT',
        url: '/api/v1/projects/hello/secrets/GITHUB_WEBHOOK_SECRET',
        json: { value: ghSecret },
      });
      expect(asJobSecret.json().error.code).toBe('SECRETS_NAME_RESERVED');
      // A pipeline step naming it gets nothing: the secret is not in the job secrets at all.
      expect(
        (
          await t.apply(`apiVersion: custody/v1
kind: Pipeline
metadata: { name: forge, project: hello }
spec:
  source: { repository: 'https://github.com/Codertocat/Hello-World.git', branch: master }
  stages:
    - name: b
      type: ci
      runnerPool: forgers
      steps: [ { name: s, run: 'true', secrets: [GITHUB_WEBHOOK_SECRET] } ]
`)
        ).statusCode,
      ).toBe(200);
      const run = await t.request({
        method: 'POST',
        url: '/api/v1/projects/hello/pipelines/forge/runs',
        json: {},
      });
      expect(run.statusCode).toBe(201);
      const runner = await TestRunner.register(t, 'forger', ['forgers']);
      const job = (await runner.lease<LeasedSteps>())!;
      expect(job.steps[0]!.secrets).toEqual({});
      expect(JSON.stringify(job)).not.toContain(ghSecret);
      // What a step could sign with (nothing) does not make a valid delivery.
      const forged = await postGithub('pull_request_review', github('pull_request_review')[0], '');
      expect(forged.statusCode).toBe(401);
      const writer = await t.user('dev', ['developer@project:hello']);
      const denied = await t.request({
        method: 'PUT',
        url: '/api/v1/projects/hello/scm/webhook-secrets/github',
        token: writer,
        json: { value: 'attacker-chosen-secret' },
      });
      expect(denied.statusCode).toBe(403);
      expect(JSON.stringify(await t.app.services.audit.list({ limit: 5000 }))).not.toContain(
        ghSecret,
      );
    });
  });
}
