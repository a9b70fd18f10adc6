import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';
import { KyselyExecutionStore } from '../executions/index.ts';
import { KyselyDeploymentStore } from './deployment-store.ts';
import { KyselyScmStore } from '../scm/index.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const commit = 'a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0';

const people = `
apiVersion: custody/v1
kind: Group
metadata: { name: release-managers }
spec: { members: [user:bob, user:carol, user:erin, user:alice] }
---
apiVersion: custody/v1
kind: Group
metadata: { name: qa }
spec: { members: [user:carol, user:dave] }
`;

const pipeline = (project: string, name: string, stages: string, step = 'make') => `
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ${name}, project: ${project} }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - { name: compile, run: ${step}, artifacts: [{ name: app, path: dist/app }] }
${stages}`;
const deployTo = (env: string) => `    - name: deploy-${env}
      type: deploy
      environment: ${env}
      steps:
        - { name: deploy, run: ./deploy.sh ${env} }
`;

const manifest = `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: shop }
spec:
  type: production
  approvals:
    rules: [{ name: release, group: release-managers, required: 1 }]
    expiresAfter: 24h
---
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: pay }
spec:
  type: production
  promotion: { requires: [qa] }
  approvals:
    rules:
      - { name: release, group: release-managers, required: 1 }
      - { name: qa, group: qa, required: 1 }
---
apiVersion: custody/v1
kind: Project
metadata: { name: cal }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: cal }
spec: { type: production }
---
apiVersion: custody/v1
kind: FreezeWindow
metadata: { name: cal-weekends }
spec:
  scope: { projects: [cal] }
  timeZone: America/New_York
  schedule:
    recurring: { rrule: "FREQ=WEEKLY;BYDAY=SA,SU", duration: 24h }
  exceptions: [rollback]
---
${pipeline('shop', 'release', deployTo('production'))}
---
${pipeline('pay', 'release', deployTo('qa') + deployTo('production'))}
---
${pipeline('pay', 'hotfix', deployTo('production'))}
---
${pipeline('cal', 'release', deployTo('production'))}
`;

interface Reason {
  check: string;
  code: string;
  message: string;
  unblock: string | null;
}
interface StageGate {
  decision: { allowed: boolean; status: string; reasons: Reason[] };
  approval: {
    id: string;
    intentHash: string;
    intent: { artifacts: unknown };
    votes: unknown[];
  };
  stage: string;
}

interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
  steps: { name: string }[];
}

for (const dialect of dialects) {
  describe(`deployment gate [${dialect}]`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let runner: TestRunner;
    const tokens: Record<string, string> = {};
    let frozenRun = '';

    const api = (method: 'GET' | 'POST' | 'PUT', url: string, json?: unknown, token?: string) =>
      callApi(t, method, url, json, token);
    const lease = () => runner.lease<Job>();
    const report = (job: Job, what: string, json: Record<string, unknown> = {}) =>
      runner.report(job, what, json);
    const play = async (job: Job, artifact?: string) => {
      for (const [i] of job.steps.entries()) {
        expect((await report(job, 'steps/start', { step: i })).status).toBe(200);
        if (artifact && i === 0) {
          const up = await report(job, 'files', {
            step: 0,
            kind: 'artifact',
            name: 'app',
            type: 'binary',
            path: 'dist/app',
            sha256: sha(artifact),
            contentBase64: Buffer.from(artifact).toString('base64'),
          });
          expect(up.status).toBe(201);
        }
        await report(job, 'steps/finish', {
          step: i,
          result: 'succeeded',
          exitCode: 0,
          attempts: 1,
        });
      }
      expect((await report(job, 'complete', { result: 'succeeded' })).status).toBe(200);
    };
    const startRun = async (project: string, name: string, who: string) => {
      const res = await api(
        'POST',
        `/api/v1/projects/${project}/pipelines/${name}/runs`,
        { commit },
        tokens[who],
      );
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const stageState = async (id: string, stage: string) =>
      (
        (await api('GET', `/api/v1/runs/${id}`)).body.stages as { name: string; state: string }[]
      ).find((s) => s.name === stage)!.state;
    const gate = async (id: string, stage: string) =>
      ((await api('GET', `/api/v1/runs/${id}/gate`)).body.stages as StageGate[]).find(
        (s) => s.stage === stage,
      )!;
    const approveGoverned = async () => {
      const pending = await api('GET', '/api/v1/approvals?state=pending');
      for (const r of pending.body.items as { id: string }[])
        expect(
          (await api('POST', `/api/v1/approvals/${r.id}/approve`, {}, tokens.rita)).status,
        ).toBe(200);
    };
    // Four eyes on every production deployment: a second person approves the stage's request.
    const approveStage = async (id: string, stage: string, who = 'bob') => {
      const g = await gate(id, stage);
      const res = await api(
        'POST',
        `/api/v1/deployments/approvals/${g.approval.id}/approve`,
        {},
        tokens[who],
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      await t.app.services.engine.tick();
    };
    const audit = async () =>
      (await t.app.services.audit.list({ limit: 5000 })).map(
        (e) => `${e.action}:${e.outcome}:${e.actor.name}`,
      );

    beforeAll(async () => {
      // Friday 11:00 in New York; API tokens live 24 h, so every test stays within a day of it.
      clock = new ManualClock('2026-11-20T16:00:00Z');
      t = await createTestApp(dialect, { clock });
      tokens.alice = await t.user('alice', [
        'developer@project:shop',
        'release-manager@project:shop',
      ]);
      for (const name of ['frank'])
        tokens[name] = await t.user(name, [
          'developer@project:shop',
          'developer@project:pay',
          'developer@project:cal',
        ]);
      for (const name of ['bob', 'carol', 'dave', 'erin', 'rita'])
        tokens[name] = await t.user(name, [
          'release-manager@project:shop',
          'release-manager@project:pay',
          'release-manager@project:cal',
        ]);
      tokens.svc = await t.user('deploy-bot', ['release-manager@project:shop'], 'service_account');
      expect((await t.apply(people)).statusCode).toBe(200);
      const applied = await t.apply(manifest);
      expect(applied.statusCode, applied.body).toBe(200);
      await approveGoverned();
      runner = await TestRunner.register(t);
      // erin's GitHub login is linked to her user (segregation of duties matches exactly on
      // linked identities), and the SCM webhook recorded it as the commit's author.
      const linked = await api('POST', '/api/v1/users/erin/identities', {
        kind: 'github',
        value: 'erin',
      });
      expect(linked.status, JSON.stringify(linked.body)).toBe(201);
      await new KyselyScmStore().addCommit(t.app.database.db, {
        provider: 'github',
        project: 'shop',
        repository: 'acme/shop',
        sha: commit,
        ref: 'refs/heads/main',
        author: 'github:erin',
        committer: 'github:erin',
        pushed_by: 'github:erin',
        received_at: clock.now().toISOString(),
      });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('SoD: the triggerer, the commit author and a service account cannot approve; bob can; a new digest voids his approval', async () => {
      const id = await startRun('shop', 'release', 'alice');
      const build = (await lease())!;
      expect(build.stage).toBe('build');
      await play(build, 'app v1');
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      expect(await lease()).toBeNull();
      const g = await gate(id, 'deploy-production');
      expect(g.decision.allowed).toBe(false);
      expect(g.decision.status).toBe('waiting_for_approval');
      const needed = g.decision.reasons.find((r: Reason) => r.code === 'APPROVAL_REQUIRED');
      expect(needed?.unblock).toContain(`custody approve ${g.approval.id}`);
      const approvalId = g.approval.id as string;
      expect(g.approval.intent.artifacts).toEqual([
        { name: 'app', digest: `sha256:${sha('app v1')}` },
      ]);

      const url = `/api/v1/deployments/approvals/${approvalId}/approve`;
      const byAlice = await api('POST', url, {}, tokens.alice);
      expect(byAlice.status).toBe(403);
      expect(byAlice.body.error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      const byErin = await api('POST', url, {}, tokens.erin);
      expect(byErin.status).toBe(403);
      expect(byErin.body.error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      expect(byErin.body.error.message).toContain('authored commit a1b2c3d4e5f6');
      const bySvc = await api('POST', url, {}, tokens.svc);
      expect(bySvc.status).toBe(403);
      expect(bySvc.body.error.code).toBe('APPROVALS_SERVICE_ACCOUNT_FORBIDDEN');
      const entries = await audit();
      expect(entries).toContain('deployments.approval.approve:denied:alice');
      expect(entries).toContain('deployments.approval.approve:denied:erin');
      expect(entries).toContain('deployments.approval.approve:denied:deploy-bot');
      expect(entries).toContain('executions.stage.waiting-for-approval:succeeded:scheduler');
      expect(entries).toContain('deployments.approval.requested:succeeded:scheduler');
      expect(entries).toContain('deployments.gate.blocked:succeeded:scheduler');

      const byBob = await api('POST', url, { comment: 'looks good' }, tokens.bob);
      expect(byBob.status).toBe(200);
      expect(byBob.body.state).toBe('approved');

      // The artifact is rebuilt with another digest before the deploy starts.
      const files = new KyselyExecutionStore(t.app.database.dialect);
      const other = 'app v1 (patched)';
      await files.putBlob(
        t.app.database.db,
        `sha256:${sha(other)}`,
        other.length,
        Buffer.from(other).toString('base64'),
      );
      await files.insertFile(t.app.database.db, {
        id: 'file_patched',
        run_id: id,
        job_id: build.jobId,
        step_idx: 0,
        kind: 'artifact',
        name: 'app',
        type: 'binary',
        path: 'dist/app',
        digest: `sha256:${sha(other)}`,
        size: other.length,
        created_at: new Date(clock.now().getTime() + 1).toISOString(),
      });
      await t.app.services.engine.tick();
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      expect(await lease()).toBeNull();
      const voided = await api('GET', `/api/v1/deployments/approvals/${approvalId}`);
      expect(voided.body.state).toBe('voided');
      const g2 = await gate(id, 'deploy-production');
      expect(g2.approval.id).not.toBe(approvalId);
      expect(g2.approval.intentHash).not.toBe(voided.body.intentHash);
      expect(await audit()).toContain('deployments.approval.voided:succeeded:scheduler');

      // bob approves what will really be deployed; the stage starts on the next tick.
      const again = await api(
        'POST',
        `/api/v1/deployments/approvals/${g2.approval.id}/approve`,
        {},
        tokens.bob,
      );
      expect(again.status).toBe(200);
      await t.app.services.engine.tick();
      const deploy = (await lease())!;
      expect(deploy.stage).toBe('deploy-production');
      await play(deploy);
      expect((await api('GET', `/api/v1/runs/${id}`)).body.state).toBe('succeeded');
      const allowed = await gate(id, 'deploy-production');
      expect(allowed.decision.allowed).toBe(true);
      expect(allowed.decision.reasons.map((r: Reason) => r.code)).toContain('APPROVALS_MET');
    });

    it('two rules are both required and a person in both groups counts once; promotion passes after QA', async () => {
      const id = await startRun('pay', 'release', 'frank');
      await play((await lease())!, 'pay v1');
      const qa = (await lease())!;
      expect(qa.stage).toBe('deploy-qa');
      await play(qa);
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      const g = await gate(id, 'deploy-production');
      expect(g.decision.reasons.map((r: Reason) => r.code)).not.toContain('PROMOTION_REQUIRED');
      const url = `/api/v1/deployments/approvals/${g.approval.id}/approve`;
      expect((await api('POST', url, {}, tokens.carol)).status).toBe(200);
      await t.app.services.engine.tick();
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      const after = await gate(id, 'deploy-production');
      const missing = after.approval.votes.length;
      expect(missing).toBe(1);
      expect(
        after.decision.reasons.find((r: Reason) => r.code === 'APPROVAL_REQUIRED')?.message,
      ).toMatch(/1 more from rule (release|qa)/);
      // Someone outside both groups is not an approver at all.
      const byRita = await api('POST', url, {}, tokens.rita);
      expect(byRita.status).toBe(403);
      expect(byRita.body.error.code).toBe('DEPLOYMENTS_NOT_AN_APPROVER');
      expect((await api('POST', url, {}, tokens.dave)).body.state).toBe('approved');
      await t.app.services.engine.tick();
      const deploy = (await lease())!;
      expect(deploy.stage).toBe('deploy-production');
      await play(deploy);
    });

    it('promotion: a digest that never succeeded in QA is blocked with PROMOTION_REQUIRED', async () => {
      const id = await startRun('pay', 'hotfix', 'frank');
      await play((await lease())!, 'pay hotfix never in qa');
      expect(await stageState(id, 'deploy-production')).toBe('blocked');
      const g = await gate(id, 'deploy-production');
      const promo = g.decision.reasons.find((r: Reason) => r.code === 'PROMOTION_REQUIRED');
      expect(promo?.check).toBe('promotion');
      expect(promo?.unblock).toContain('qa');
      expect(await lease()).toBeNull();
      expect((await api('POST', `/api/v1/runs/${id}/cancel`, {})).status).toBe(200);
    });

    it("a new pipeline version without any gate does not remove the environment's gate", async () => {
      const applied = await t.apply(
        pipeline('shop', 'release', deployTo('production'), 'make all'),
        tokens.alice,
      );
      expect(applied.statusCode, applied.body).toBe(200);
      await approveGoverned();
      const id = await startRun('shop', 'release', 'frank');
      expect((await api('GET', `/api/v1/runs/${id}`)).body.pipelineVersion).toBe(2);
      await play((await lease())!, 'app v2');
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      // alice authored this pipeline version: she cannot approve the deployment either.
      const g = await gate(id, 'deploy-production');
      const byAlice = await api(
        'POST',
        `/api/v1/deployments/approvals/${g.approval.id}/approve`,
        {},
        tokens.alice,
      );
      expect(byAlice.status).toBe(403);
      expect(byAlice.body.error.message).toContain('authored pipeline release version 2');
      expect((await api('POST', `/api/v1/runs/${id}/cancel`, {})).status).toBe(200);
    });

    it('freeze: a run created Friday reaching production Saturday is blocked; an override needs the permission and a reason', async () => {
      clock.set('2026-11-20T20:00:00Z'); // Friday 15:00 in New York
      const id = await startRun('cal', 'release', 'frank');
      const build = (await lease())!;
      clock.set('2026-11-21T15:00:00Z'); // Saturday 10:00 in New York
      await play(build, 'cal v1');
      expect(await stageState(id, 'deploy-production')).toBe('blocked_by_freeze');
      expect(await lease()).toBeNull();
      // The run itself says why the stage waits.
      const stages = (await api('GET', `/api/v1/runs/${id}`)).body.stages as {
        name: string;
        reason: string | null;
      }[];
      expect(stages.find((s) => s.name === 'deploy-production')?.reason).toMatch(
        /^FREEZE_ACTIVE: freeze window cal-weekends/,
      );
      const g = await gate(id, 'deploy-production');
      const frozen = g.decision.reasons.find((r: Reason) => r.code === 'FREEZE_ACTIVE');
      expect(frozen?.message).toContain('cal-weekends');
      expect(frozen?.unblock).toContain('freeze.window.override');

      frozenRun = id;
      const body = {
        project: 'cal',
        environment: 'production',
        reason: 'hotfix for INC-42',
        duration: '30m',
      };
      const denied = await api('POST', '/api/v1/freeze/overrides', body, tokens.frank);
      expect(denied.status).toBe(403);
      const noReason = await api(
        'POST',
        '/api/v1/freeze/overrides',
        { ...body, reason: ' ' },
        tokens.bob,
      );
      expect(noReason.status).toBe(400);
      const ok = await api('POST', '/api/v1/freeze/overrides', body, tokens.bob);
      expect(ok.status).toBe(201);
      await t.app.services.engine.tick();
      // The override lifts the freeze; the production deployment still needs four eyes.
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      await approveStage(id, 'deploy-production');
      const deploy = (await lease())!;
      expect(deploy.stage).toBe('deploy-production');
      const passed = await gate(id, 'deploy-production');
      expect(passed.decision.allowed).toBe(true);
      expect(passed.decision.reasons.map((r: Reason) => r.message).join('\n')).toContain(
        'hotfix for INC-42',
      );
      await play(deploy);
      const entries = await audit();
      expect(entries).toContain('freeze.override.created:succeeded:bob');
      expect(entries).toContain('deployments.gate.blocked:succeeded:scheduler');
    });

    it('a freeze that begins between queueing and leasing withdraws the deploy job right before it is leased', async () => {
      clock.set('2026-11-21T04:00:00Z'); // Friday 23:00 in New York
      const id = await startRun('cal', 'release', 'frank');
      await play((await lease())!, 'cal late friday');
      await approveStage(id, 'deploy-production');
      expect(await stageState(id, 'deploy-production')).toBe('running'); // its job is queued
      clock.set('2026-11-21T05:30:00Z'); // Saturday 00:30 in New York
      expect(await lease()).toBeNull();
      expect(await stageState(id, 'deploy-production')).toBe('blocked_by_freeze');
      const g = await gate(id, 'deploy-production');
      expect(g.decision.reasons.map((r) => r.code)).toContain('FREEZE_ACTIVE');
      expect(
        (await audit()).some((e) => e.startsWith('executions.stage.blocked-by-freeze:succeeded')),
      ).toBe(true);
      await t.app.services.engine.tick();
      expect(await lease()).toBeNull(); // still frozen: no new job
      expect((await api('POST', `/api/v1/runs/${id}/cancel`, {})).status).toBe(200);
      expect((await api('GET', `/api/v1/runs/${id}`)).body.state).toBe('cancelled');
    });

    it('break-glass: an active emergency change bypasses the freeze and the approval rules, and says so', async () => {
      clock.set('2026-11-21T15:40:00Z'); // Saturday 10:40 in New York; the override has ended
      const open = async (project: string) => {
        const created = await api(
          'POST',
          '/api/v1/changes',
          {
            project,
            environment: 'production',
            riskClass: 'emergency',
            title: 'payment outage',
            reason: 'INC-7: card payments fail',
            commit,
          },
          tokens.frank,
        );
        expect(created.status).toBe(201);
        const id = created.body.id as string;
        // The requester cannot activate it; a second person must.
        expect((await api('POST', `/api/v1/changes/${id}/activate`, {}, tokens.frank)).status).toBe(
          403,
        );
        expect((await api('POST', `/api/v1/changes/${id}/activate`, {}, tokens.bob)).status).toBe(
          200,
        );
        return id;
      };
      const evaluate = (project: string, inputs: Record<string, string>) =>
        t.app.database.db.transaction().execute((tx) =>
          t.app.services.gate.evaluate(tx, () => {}, {
            run: {
              id: `run_breakglass_${project}`,
              project,
              pipeline: 'release',
              pipelineVersion: 1,
              contentHash: 'sha256:00',
              branch: 'main',
              commit,
              inputs,
              trigger: { type: 'manual' },
              createdBy: 'user:frank',
            },
            stage: { name: 'deploy-production' },
            environment: 'production',
            at: clock.now(),
          }),
        );
      expect((await evaluate('cal', {})).status).toBe('blocked_by_freeze');
      const calChange = await open('cal');
      const cal = await evaluate('cal', { change: calChange });
      expect(cal.allowed).toBe(true);
      expect(cal.reasons.map((r) => r.code)).toEqual(
        expect.arrayContaining(['CHANGES_EMERGENCY_ACTIVE', 'FREEZE_BYPASSED']),
      );
      const shopChange = await open('shop');
      const shop = await evaluate('shop', { change: shopChange });
      expect(shop.allowed).toBe(true);
      expect(shop.reasons.map((r) => r.code)).toContain('APPROVALS_BYPASSED');
      // Without the change the same deployment waits for approval.
      expect((await evaluate('shop', {})).status).toBe('waiting_for_approval');
    });

    it('approvals expire after expiresAfter: the request is renewed and must be approved again', async () => {
      const store = new KyselyDeploymentStore();
      const db = t.app.database.db;
      const run = {
        id: 'run_expiry',
        project: 'shop',
        pipeline: 'release',
        pipelineVersion: 1,
        contentHash: 'sha256:00',
        branch: 'main',
        commit,
        inputs: {},
        trigger: { type: 'manual' },
        createdBy: 'user:frank',
      };
      const evaluate = (iso: string) =>
        db.transaction().execute((tx) =>
          t.app.services.gate.evaluate(tx, () => {}, {
            run,
            stage: { name: 'deploy-production' },
            environment: 'production',
            at: new Date(iso),
          }),
        );
      const first = await evaluate('2026-11-21T12:00:00Z');
      expect(first.status).toBe('waiting_for_approval');
      const id = first.approval!.id;
      await store.insertVote(db, {
        request_id: id,
        principal: 'user:bob',
        decision: 'approve',
        comment: null,
        decided_at: '2026-11-21T12:00:00.000Z',
      });
      await store.setRequestState(db, id, 'pending', 'approved', '2026-11-21T12:00:00.000Z');
      expect((await evaluate('2026-11-22T11:59:00Z')).allowed).toBe(true);
      const later = await evaluate('2026-11-22T12:01:00Z'); // 24 h and a minute later
      expect(later.allowed).toBe(false);
      expect(later.status).toBe('waiting_for_approval');
      expect(later.approval!.id).not.toBe(id);
      expect((await store.request(db, id))!.state).toBe('voided');
    });

    it('rollback redeploys a known-good release in the rollback lane, which the weekend freeze lets through', async () => {
      clock.set('2026-11-21T15:45:00Z'); // Saturday, the override has ended
      const url = '/api/v1/projects/cal/environments/production/rollback';
      const none = await api('POST', url, {}, tokens.bob);
      expect(none.status).toBe(409);
      expect(none.body.error.code).toBe('DEPLOYMENTS_NO_RELEASE');
      const res = await api('POST', url, { to: frozenRun, reason: 'bad release' }, tokens.bob);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.from).toBe(frozenRun);
      const id = res.body.run.id as string;
      // A rollback deploys old code to production: it needs a second person too (bob started it).
      expect(await stageState(id, 'deploy-production')).toBe('waiting_for_approval');
      await approveStage(id, 'deploy-production', 'carol');
      // Nothing is rebuilt: the first job is the deploy, with the release's artifact.
      const deploy = (await lease()) as Job & {
        artifacts: { env: string; name: string; digest: string }[];
      };
      expect(deploy.stage).toBe('deploy-production');
      expect(deploy.artifacts.filter((a) => !a.env.includes('PREVIOUS'))).toEqual([
        expect.objectContaining({ name: 'app', digest: `sha256:${sha('cal v1')}` }),
      ]);
      expect(await stageState(id, 'build')).toBe('skipped');
      const g = await gate(id, 'deploy-production');
      expect(g.decision.allowed).toBe(true);
      expect(g.decision.reasons.map((r) => r.message).join('\n')).toContain('rollback lane');
      await play(deploy);
      expect((await api('GET', `/api/v1/runs/${id}`)).body.state).toBe('succeeded');
      // Rolling back to the rollback's release redeploys the run that built the artifact.
      const again = await api('POST', url, { to: id, reason: 'once more' }, tokens.bob);
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      expect(again.body.from).toBe(frozenRun);
      await approveStage(again.body.run.id as string, 'deploy-production', 'carol');
      const redeploy = (await lease())!;
      expect(redeploy.stage).toBe('deploy-production');
      await play(redeploy);
      // An ordinary run at the same time is still held by the freeze.
      const normal = await startRun('cal', 'release', 'frank');
      await play((await lease())!, 'cal v2');
      expect(await stageState(normal, 'deploy-production')).toBe('blocked_by_freeze');
      expect((await api('POST', `/api/v1/runs/${normal}/cancel`, {})).status).toBe(200);
    });

    it('freeze: the gate lets Friday 10:00 pass and blocks Saturday 10:00 in New York, on both sides of the DST change', async () => {
      const run = {
        id: 'run_synthetic',
        project: 'cal',
        pipeline: 'release',
        pipelineVersion: 1,
        contentHash: 'sha256:00',
        branch: 'main',
        commit,
        inputs: {},
        trigger: { type: 'manual' },
        createdBy: 'user:frank',
      };
      const at = async (iso: string) =>
        t.app.database.db.transaction().execute((tx) =>
          t.app.services.gate.evaluate(tx, () => {}, {
            run,
            stage: { name: 'deploy-production' },
            environment: 'production',
            at: new Date(iso),
          }),
        );
      // Whether the freeze check blocks (the approval check blocks on its own: four eyes).
      const frozen = (d: { reasons: { check: string; blocking: boolean }[] }) =>
        d.reasons.some((r) => r.check === 'freeze' && r.blocking);
      // 2026-10-30/31: EDT (UTC-4); 2026-11-06/07: EST (UTC-5).
      expect(frozen(await at('2026-10-30T14:00:00Z'))).toBe(false);
      expect((await at('2026-10-31T14:00:00Z')).status).toBe('blocked_by_freeze');
      expect(frozen(await at('2026-11-06T15:00:00Z'))).toBe(false);
      expect((await at('2026-11-07T15:00:00Z')).status).toBe('blocked_by_freeze');
      // Friday 23:30 EST is still Friday in New York though Saturday in UTC.
      expect(frozen(await at('2026-11-07T04:30:00Z'))).toBe(false);
      // The rollback lane passes the weekend window.
      const rollback = await t.app.database.db.transaction().execute((tx) =>
        t.app.services.gate.evaluate(tx, () => {}, {
          run,
          stage: { name: 'deploy-production' },
          environment: 'production',
          at: new Date('2026-11-07T15:00:00Z'),
          lane: 'rollback',
        }),
      );
      expect(frozen(rollback)).toBe(false);
      expect(rollback.reasons.filter((r) => r.blocking).map((r) => r.code)).toEqual([
        'APPROVAL_REQUIRED',
      ]);
    });
  });
}
