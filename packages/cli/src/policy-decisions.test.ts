import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { main } from './main.ts';

const examples = path.resolve(import.meta.dirname, '..', '..', '..', 'examples', 'policies');

// Policies from files next to the YAML, the decision log, replay and impact, from the command
// line against an in-process server over real HTTP.
describe('custody apply (Policy files), policy decisions, replay and impact', () => {
  let app: App;
  let dir: string;
  let server: string;
  let admin: string;

  async function custody(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const out = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((s) => ((stdout += String(s)), true));
    const err = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((s) => ((stderr += String(s)), true));
    try {
      const status = await main(['node', 'custody', '--server', server, '--token', admin, ...args]);
      return { status, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  // One gate evaluation of a deploy to payments/prod with these run inputs.
  const evaluate = (run: string, inputs: Record<string, string>) =>
    app.uow.run(systemContext(app, 'test'), async (tx, record) => {
      await app.services.gate.evaluate(tx, record, {
        run: {
          id: run,
          project: 'payments',
          pipeline: 'release',
          pipelineVersion: 1,
          contentHash: 'sha256:00',
          branch: 'main',
          commit: null,
          inputs,
          trigger: { type: 'manual' },
          createdBy: 'user:dev',
        },
        stage: { name: 'deploy' },
        environment: 'prod',
        at: new Date(),
      });
      record({ action: 'test.gate.evaluated', resource: { type: 'test', id: run } });
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-policy-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    admin = (await bootstrapAdmin(app))!.token;
    await app.services.resources.applyManifest(
      systemContext(app, 'test'),
      `apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec: { type: production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: payments }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  inputs: [{ name: ticket, default: "" }]
  stages:
    - { name: deploy, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh }] }
`,
    );
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies an example policy whose modules and tests are files next to the YAML', async () => {
    const r = await custody('apply', '-f', path.join(examples, 'ticket-required', 'policy.yaml'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('policy/ticket-required created (version 1');
    const view = await custody('-o', 'json', 'get', 'Policy', 'ticket-required');
    expect(view.status, view.stderr).toBe(0);
    const doc = JSON.parse(view.stdout).inForce.document;
    expect(doc.spec.modules[0].source).toContain('package custody.deploy');
    expect(doc.spec.modules[0].file).toBeUndefined();
  });

  it('a policy whose test fails is refused with file, line and column', async () => {
    writeFileSync(
      path.join(dir, 'p.rego'),
      'package custody.deploy\n\ndeny contains "always" if true\n',
    );
    writeFileSync(
      path.join(dir, 'p_test.rego'),
      'package custody.deploy_test\n\nimport data.custody.deploy\n\ntest_nothing_denied if count(deploy.deny) == 0\n',
    );
    writeFileSync(
      path.join(dir, 'p.yaml'),
      `apiVersion: custody/v1
kind: Policy
metadata: { name: always }
spec:
  decisionPoint: deploy
  modules: [{ name: p.rego, file: ./p.rego }]
  tests: [{ name: p_test.rego, file: p_test.rego }]
`,
    );
    const r = await custody('apply', '-f', path.join(dir, 'p.yaml'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('POLICIES_TESTS_FAILED');
    expect(r.stderr).toContain('p_test.rego:5:1');
    const missing = await custody('apply', '-f', path.join(dir, 'nope.yaml'));
    expect(missing.status).toBe(2);
    writeFileSync(
      path.join(dir, 'q.yaml'),
      `apiVersion: custody/v1\nkind: Policy\nmetadata: { name: q }\nspec:\n  decisionPoint: deploy\n  modules: [{ name: q.rego, file: ./q.rego }]\n`,
    );
    const unreadable = await custody('apply', '-f', path.join(dir, 'q.yaml'));
    expect(unreadable.status).toBe(2);
    expect(unreadable.stderr).toContain('q.rego, which does not exist');
  });

  it('lists decisions for an environment, replays one, and shows the impact of a stricter candidate', async () => {
    await evaluate('run_a', { ticket: '' });
    await evaluate('run_b', {});
    const listed = await custody('-o', 'json', 'policy', 'decisions', '--environment', 'prod');
    expect(listed.status, listed.stderr).toBe(0);
    const items = JSON.parse(listed.stdout) as {
      id: string;
      result: string;
      subject: { id: string };
    }[];
    expect(items.map((d) => d.subject.id).sort()).toEqual(['run_a/deploy', 'run_b/deploy']);
    expect(items.every((d) => d.result === 'denied')).toBe(true);
    const text = await custody('policy', 'decisions', '--environment', 'prod', '--point', 'deploy');
    expect(text.stdout).toMatch(/ID\s+DECIDED\s+POINT/);
    expect(text.stdout).toContain('ticket-required@v1');

    const replay = await custody('policy', 'replay', items[0]!.id);
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('reproduced (same result)');
    const unknown = await custody('policy', 'replay', 'pd_nope');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('POLICIES_DECISION_NOT_FOUND');

    // A candidate that allows everything flips both recorded denials.
    writeFileSync(path.join(dir, 'lenient.rego'), 'package custody.deploy\n\ndeny := set()\n');
    writeFileSync(
      path.join(dir, 'lenient.yaml'),
      `apiVersion: custody/v1
kind: Policy
metadata: { name: ticket-required }
spec:
  decisionPoint: deploy
  modules: [{ name: lenient.rego, file: ./lenient.rego }]
`,
    );
    const impact = await custody(
      '-o',
      'json',
      'policy',
      'impact',
      '-f',
      path.join(dir, 'lenient.yaml'),
      '--since',
      '90d',
    );
    expect(impact.status, impact.stderr).toBe(0);
    const result = JSON.parse(impact.stdout) as {
      examined: number;
      changed: { decision: string; to: string }[];
    };
    expect(result.examined).toBe(2);
    expect(result.changed.map((c) => [c.decision, c.to]).sort()).toEqual(
      items.map((d) => [d.id, 'allowed']).sort(),
    );
    // Nothing was applied: the policy in force is still version 1.
    const view = await custody('-o', 'json', 'get', 'Policy', 'ticket-required');
    expect(JSON.parse(view.stdout).inForce.version).toBe(1);
  });

  it('eval and test accept --v0-compatible', async () => {
    writeFileSync(path.join(dir, 'v0.rego'), 'package legacy\n\nallow { input.x == 1 }\n');
    writeFileSync(path.join(dir, 'in.json'), '{"x": 1}');
    const r = await custody(
      '-o',
      'json',
      'policy',
      'eval',
      '--v0-compatible',
      '--data',
      path.join(dir, 'v0.rego'),
      '--input',
      path.join(dir, 'in.json'),
      'data.legacy.allow',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results[0].value).toBe(true);
    const v1 = await custody(
      'policy',
      'eval',
      '--data',
      path.join(dir, 'v0.rego'),
      'data.legacy.allow',
    );
    expect(v1.status).not.toBe(0);
  });
});

// examples/policies: every one applies through `custody apply -f` (its files read, its tests run
// by the server) and the deploy ones judge a real gate input.
describe('examples/policies', () => {
  let app: App;
  let dir: string;
  let server: string;
  let admin: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-examples-'));
    app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    admin = (await bootstrapAdmin(app))!.token;
    await app.services.resources.applyManifest(
      systemContext(app, 'test'),
      `apiVersion: custody/v1
kind: Project
metadata: { name: payments }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: payments }
spec: { type: production, runnerPool: prod }
`,
    );
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies all seven and denies an unticketed, unreviewed, untested production deploy', async () => {
    const names = [
      'ticket-required',
      'no-new-critical-findings',
      'minimum-coverage',
      'reviewed-commits',
      'deploy-hours',
      'production-runner-pools',
      'test-before-deploy',
    ];
    const files = names.flatMap((n) => ['-f', path.join(examples, n, 'policy.yaml')]);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let status: number;
    try {
      status = await main([
        'node',
        'custody',
        '--server',
        server,
        '--token',
        admin,
        'apply',
        ...files,
      ]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(status).toBe(0);
    const applyPipeline = (build: string) =>
      app.http.inject({
        method: 'POST',
        url: '/api/v1/apply',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' },
        payload: `apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: payments }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - ${build}
    - { name: ship, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh }] }
`,
      });
    // A build in the production pool, and no test step before the deploy.
    const refused = await applyPipeline(
      '{ name: build, type: ci, runnerPool: prod, steps: [{ name: compile, run: make }] }',
    );
    expect(refused.statusCode).toBe(403);
    const messages = (
      refused.json() as { error: { details: { deny: { message: string }[] } } }
    ).error.details.deny
      .map((m) => m.message)
      .sort();
    expect(messages).toEqual([
      'stage build asks for production pool prod but does not deploy to production',
      'stage ship deploys before any test step has run',
    ]);
    const ok = await applyPipeline(
      '{ name: build, type: ci, steps: [{ name: compile, run: make && make test }] }',
    );
    expect(ok.statusCode, ok.body).toBe(200);
    const decision = await app.uow.run(systemContext(app, 'test'), async (tx, record) => {
      const d = await app.services.gate.evaluate(tx, record, {
        run: {
          id: 'run_example',
          project: 'payments',
          pipeline: 'release',
          pipelineVersion: 1,
          contentHash: 'sha256:00',
          branch: 'main',
          commit: null,
          inputs: {},
          trigger: { type: 'manual' },
          createdBy: 'user:dev',
        },
        stage: { name: 'ship' },
        environment: 'prod',
        at: new Date('2026-12-02T15:00:00Z'), // a Wednesday, 10:00 in New York
      });
      record({ action: 'test.gate.evaluated', resource: { type: 'test', id: 'example' } });
      return d;
    });
    expect(
      decision.reasons
        .filter((r) => r.check === 'policy')
        .map((r) => r.message)
        .sort(),
    ).toEqual([
      'policy minimum-coverage v1: no coverage report reaches production',
      'policy ticket-required v1: deploying to prod needs an approved change ticket (input "ticket")',
    ]);
  });
});
