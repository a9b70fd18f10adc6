import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const base = `apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production }
`;

const pipeline = (deployTo: string, script = 'make') => `apiVersion: custody/v1
kind: Pipeline
metadata: { name: rel, project: pay }
spec:
  source: { repository: file:///x.git }
  stages:
    - name: build
      type: ci
      steps:
        - { name: make, run: ${script} }
    - name: deploy
      type: deploy
      environment: ${deployTo}
      steps:
        - { name: ship, run: ./ship.sh }
`;

for (const dialect of dialects) {
  describe(`pipelines [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, {
        config: { dataDir: mkdtempSync(path.join(tmpdir(), 'custody-pl-')) },
      });
      expect((await t.apply(base)).statusCode).toBe(200);
    });
    afterAll(async () => {
      await t?.close();
    });

    const counts = async () => ({
      versions: (
        await t.request({ method: 'GET', url: '/api/v1/resources/Pipeline?project=pay' })
      ).json().items.length,
      audit: await t.app.services.audit.size(),
    });

    it('invalid pipeline YAML: each error names its path, line and column; nothing is stored', async () => {
      const before = await counts();
      const res = await t.apply(`apiVersion: custody/v1
kind: Pipeline
metadata: { name: bad, project: pay }
spec:
  source: { repository: file:///x.git }
  stages:
    - name: build
      type: ci
      steps:
        - name: make
          run: make
          timeout: forever
    - name: deploy
      type: deploy
      needs: [nowhere]
      steps:
        - { name: ship, run: ./ship.sh, retry: 3 }
`);
      expect(res.statusCode).toBe(400);
      const err = res.json().error;
      expect(err.code).toBe('RESOURCES_VALIDATION_FAILED');
      const byPath = Object.fromEntries(
        (err.details.errors as { path: string; line: number; column: number }[]).map((e) => [
          e.path,
          e,
        ]),
      );
      expect(byPath['spec.stages[0].steps[0].timeout']).toMatchObject({ line: 12, column: 20 });
      expect(byPath['spec.stages[1].steps[0]']).toMatchObject({ line: 17 });
      expect(byPath['spec.stages[1].environment']).toBeDefined();
      expect(byPath['spec.stages[1].needs[0]']).toMatchObject({ line: 15, column: 15 });
      expect(err.message).toContain('line 12, column 20');
      expect(await counts()).toEqual(before);
    });

    it('a deploy stage naming an unknown environment is refused and stores nothing', async () => {
      const before = await counts();
      const res = await t.apply(pipeline('staging'));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('PIPELINES_ENVIRONMENT_NOT_FOUND');
      expect(await counts()).toEqual(before);
    });

    it('publishes a JSON Schema for editors', async () => {
      const res = await t.request({ method: 'GET', url: '/api/v1/schemas/pipeline.json' });
      expect(res.statusCode).toBe(200);
      const schema = res.json();
      expect(schema.properties.kind.const).toBe('Pipeline');
      expect(
        schema.properties.spec.properties.stages.items.properties.failureStrategy.enum,
      ).toEqual(['abort', 'retry', 'ignore', 'rollback']);
      expect(schema.properties.spec.additionalProperties).toBe(false);
    });

    it('a pipeline deploying to production is governed: a second person approves each new version', async () => {
      const alice = await t.user('alice', ['developer@project:pay']);
      const bob = await t.user('bob', ['release-manager@project:pay']);
      const bot = await t.user('deploy-bot', ['release-manager@project:pay'], 'service_account');
      expect((await t.apply(pipeline('prod'), alice)).statusCode).toBe(200);
      const runs = '/api/v1/projects/pay/pipelines/rel/runs';
      const refused = await t.request({ method: 'POST', url: runs, json: {}, token: alice });
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('EXECUTIONS_VERSION_NOT_APPROVED');
      const list = await t.request({
        method: 'GET',
        url: '/api/v1/approvals?state=pending&project=pay',
        token: bob,
      });
      expect(list.json()).toHaveProperty('items');
      const request = list.json().items[0];
      expect(request).toMatchObject({
        author: 'user:alice',
        subject: { type: 'pipeline-version', id: 'pay/rel@1' },
      });
      // Alice cannot approve her own version, even with the permission (a binding at a
      // production scope: a second person approves it).
      await t.applyApproved(`apiVersion: custody/v1
kind: RoleBinding
metadata: { name: alice-approver }
spec: { principal: user:alice, role: approver, scope: project:pay }
`);
      const self = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
        token: alice,
      });
      expect(self.statusCode).toBe(403);
      expect(self.json().error.code).toBe('APPROVALS_SELF_APPROVAL_FORBIDDEN');
      const machine = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: {},
        token: bot,
      });
      expect(machine.json().error.code).toBe('APPROVALS_SERVICE_ACCOUNT_FORBIDDEN');
      const ok = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/approve`,
        json: { comment: 'looks right' },
        token: bob,
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ state: 'approved', decidedBy: 'user:bob' });
      const again = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${request.id}/reject`,
        json: { reason: 'late' },
        token: bob,
      });
      expect(again.json().error.code).toBe('APPROVALS_NOT_PENDING');
      const started = await t.request({ method: 'POST', url: runs, json: {}, token: alice });
      expect(started.statusCode).toBe(201);
      expect(started.json().pipelineVersion).toBe(1);

      // A new version needs a new approval; a refusal is final and recorded.
      expect((await t.apply(pipeline('prod', 'make all'), alice)).statusCode).toBe(200);
      expect(
        (await t.request({ method: 'POST', url: runs, json: {}, token: alice })).statusCode,
      ).toBe(409);
      const v2 = (
        await t.request({
          method: 'GET',
          url: '/api/v1/approvals?state=pending&project=pay',
          token: bob,
        })
      ).json().items[0];
      expect(v2.subject.id).toBe('pay/rel@2');
      const rejected = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${v2.id}/reject`,
        json: { reason: 'untested' },
        token: bob,
      });
      expect(rejected.json()).toMatchObject({ state: 'rejected', reason: 'untested' });
      expect(
        (await t.request({ method: 'POST', url: runs, json: {}, token: alice })).statusCode,
      ).toBe(409);

      const audit = await t.app.services.audit.list({ limit: 1000 });
      const actions = audit.map((e) => `${e.action}:${e.outcome}`);
      expect(actions).toContain('approvals.request.created:succeeded');
      expect(actions).toContain('approvals.request.approved:succeeded');
      expect(actions).toContain('approvals.request.rejected:succeeded');
      expect(actions).toContain('approvals.request.approve:denied');
      expect(actions).toContain('executions.run.create:denied');
    });

    it('history and diff of pipeline versions', async () => {
      const versions = await t.request({
        method: 'GET',
        url: '/api/v1/resources/Pipeline/rel/versions?project=pay',
      });
      expect(versions.json().items.map((v: { version: number }) => v.version)).toEqual(
        expect.arrayContaining([1, 2]),
      );
      const diff = await t.request({
        method: 'GET',
        url: '/api/v1/resources/Pipeline/rel/diff?project=pay&from=1&to=2',
      });
      const lines = diff.json().lines.map((l: { op: string; text: string }) => `${l.op}${l.text}`);
      expect(lines.some((l: string) => l.startsWith('-') && l.includes('make'))).toBe(true);
      expect(lines.some((l: string) => l.startsWith('+') && l.includes('make all'))).toBe(true);
    });
  });
}
