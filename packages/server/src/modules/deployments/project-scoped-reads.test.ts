import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployDriver } from '../../platform/testing/deploy-driver.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

// A user bound at one project lists what that project holds — runs, approval requests,
// deployment approvals, change requests, freeze overrides — and nothing of another project;
// before, each list was refused with "denied at organization".

const project = (name: string) => `
apiVersion: custody/v1
kind: Project
metadata: { name: ${name} }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: ${name} }
spec: { type: production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: ship, project: ${name} }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: deploy
      type: deploy
      environment: prod
      steps: [{ name: deploy, run: ./deploy.sh }]
`;

for (const dialect of dialects) {
  describe(`lists return what the caller may read [${dialect}]`, () => {
    let t: TestApp;
    let d: DeployDriver;
    const tok: Record<string, string> = {};

    beforeAll(async () => {
      t = await createTestApp(dialect);
      tok.ana = await t.user('ana', ['release-manager@project:north']);
      tok.cab = await t.user('cab', ['approver@organization']);
      for (const p of ['north', 'south']) expect((await t.apply(project(p))).statusCode).toBe(200);
      d = await DeployDriver.create(t);
      // ana sees her project's pending pipeline-version request before anyone approves it.
      const mine = await d.api('GET', '/api/v1/approvals?state=pending', undefined, tok.ana);
      expect(mine.status, JSON.stringify(mine.body)).toBe(200);
      expect(mine.body.items.map((a: { project: string }) => a.project)).toEqual(['north']);
      for (const r of (await d.api('GET', '/api/v1/approvals?state=pending')).body.items as {
        id: string;
      }[])
        expect((await d.api('POST', `/api/v1/approvals/${r.id}/approve`, {}, tok.cab)).status).toBe(
          200,
        );
      for (const p of ['north', 'south']) await d.startRun(p, 'ship', undefined);
      for (const p of ['north', 'south'])
        expect(
          (
            await d.api('POST', '/api/v1/changes', {
              project: p,
              environment: 'prod',
              riskClass: 'normal',
              title: `release ${p}`,
            })
          ).status,
        ).toBe(201);
      for (const p of ['north', 'south'])
        expect(
          (
            await d.api('POST', '/api/v1/freeze/overrides', {
              project: p,
              environment: 'prod',
              reason: 'hotfix',
              duration: '10m',
            })
          ).status,
        ).toBe(201);
    });
    afterAll(async () => t?.close());

    it('each list holds the caller project only, with no denial', async () => {
      const projects = async (url: string) => {
        const res = await d.api('GET', url, undefined, tok.ana);
        expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(200);
        return [...new Set((res.body.items as { project: string }[]).map((i) => i.project))];
      };
      expect(await projects('/api/v1/runs')).toEqual(['north']);
      expect(await projects('/api/v1/approvals')).toEqual(['north']);
      expect(await projects('/api/v1/deployments/approvals')).toEqual(['north']);
      expect(await projects('/api/v1/changes')).toEqual(['north']);
      expect(await projects('/api/v1/freeze/overrides')).toEqual(['north']);
      expect(await projects('/api/v1/runs?project=south')).toEqual([]);
      const denied = await t.app.services.audit.list({
        outcome: 'denied',
        actor: 'ana',
        limit: 10,
      });
      expect(denied).toEqual([]);
    });

    it('a read of one object of another project is refused at that object', async () => {
      const [south] = (await d.api('GET', '/api/v1/runs?project=south')).body.items as {
        id: string;
      }[];
      const res = await d.api('GET', `/api/v1/runs/${south!.id}`, undefined, tok.ana);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('project:south');
    });
  });
}
