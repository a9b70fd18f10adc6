import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../platform/clock.ts';
import { DeployDriver } from '../../platform/testing/deploy-driver.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';

const doc = readFileSync(
  path.resolve(import.meta.dirname, '..', '..', '..', '..', '..', 'docs', 'reference', 'policy.md'),
  'utf8',
);

// The schemas are the ones docs/reference/policy.md publishes, read from it.
function schemaOf(point: string): object {
  const m = new RegExp(
    `<!-- schema: custody\\.${point} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``,
  ).exec(doc);
  if (!m) throw new Error(`docs/reference/policy.md has no schema for custody.${point}`);
  return JSON.parse(m[1]!) as object;
}

const allow = (name: string, point: string) => `
apiVersion: custody/v1
kind: Policy
metadata: { name: ${name} }
spec:
  decisionPoint: ${point}
  modules:
    - name: ${name}.rego
      source: |
        package custody.${point}

        deny contains "never" if input.never_set_by_custody
`;

// Real inputs, as the server builds them at each decision point, against the published schemas.
describe('policy input documents match docs/reference/policy.md', () => {
  let t: TestApp;
  let d: DeployDriver;
  const clock = new ManualClock('2026-12-02T15:00:00Z');
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);

  beforeAll(async () => {
    t = await createTestApp('sqlite', { clock });
    d = await DeployDriver.create(t);
    const res = await t.applyApproved(
      [
        allow('p', 'pipeline'),
        allow('r', 'run'),
        allow('d', 'deploy'),
        allow('a', 'approval'),
        `
apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: shop }
spec: { type: production, changeRecord: none, qualityGates: { tests: { maxFailures: 0 } } }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  inputs: [{ name: note, default: "" }]
  stages:
    - name: build
      type: ci
      steps: [{ name: b, run: make test, artifacts: [{ name: app, path: dist/app }] }]
    - { name: deploy, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh }] }
`,
      ].join('---\n'),
    );
    expect(res.statusCode, res.body).toBe(200);
    for (const r of res.json().results as { state: string; approval?: string }[])
      if (r.state === 'in-force' && r.approval) await t.approve(r.approval);
  });
  afterAll(async () => t?.close());

  it('pipeline, run, deploy and approval inputs validate', async () => {
    const dev = await t.user('dev', ['developer@project:shop']);
    const rita = await t.user('rita', ['approver']);
    const run = await d.startRun('shop', 'release', dev, { inputs: { note: 'x' } });
    await d.playNext('build', 'app-v1');
    await d.tick();
    expect((await d.vote(run, 'deploy', rita)).status).toBe(200);
    const list = await t.request({ method: 'GET', url: '/api/v1/policy-decisions?limit=100' });
    const items = list.json().items as { id: string; point: string }[];
    expect(new Set(items.map((i) => i.point))).toEqual(
      new Set(['pipeline', 'run', 'deploy', 'approval']),
    );
    for (const item of items) {
      const full = (
        await t.request({ method: 'GET', url: `/api/v1/policy-decisions/${item.id}` })
      ).json() as { input: unknown };
      const validate = ajv.compile(schemaOf(item.point));
      expect(validate(full.input), `${item.point}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });
});
