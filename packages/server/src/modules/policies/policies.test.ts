import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../bootstrap.ts';
import { ManualClock } from '../../platform/clock.ts';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const indent = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

// A Policy document with inline modules and tests.
const policyYaml = (o: {
  name: string;
  project?: string;
  point: string;
  rego: string;
  test?: string;
  timeoutMs?: number;
}) => `apiVersion: custody/v1
kind: Policy
metadata: { name: ${o.name}${o.project ? `, project: ${o.project}` : ''} }
spec:
  decisionPoint: ${o.point}
${o.timeoutMs ? `  timeoutMs: ${o.timeoutMs}\n` : ''}  modules:
    - name: ${o.name}.rego
      source: |
${indent(o.rego, 8)}
  tests:${
    o.test
      ? `
    - name: ${o.name}_test.rego
      source: |
${indent(o.test, 8)}`
      : ' []'
  }
`;

const ticketRego = (pattern: string) => `
package custody.deploy

deny contains msg if {
  input.environment.type == "production"
  not regex.match(\`${pattern}\`, object.get(input.run.inputs, "ticket", ""))
  msg := sprintf("deploying to %s needs an approved change ticket", [input.environment.name])
}

warn contains "no release note given" if not input.run.inputs.note
`;

const ticketTest = `
package custody.deploy_test

import data.custody.deploy

test_no_ticket_denied if {
  count(deploy.deny) == 1 with input as {"environment": {"type": "production", "name": "prod"}, "run": {"inputs": {}}}
}

test_ticket_allowed if {
  count(deploy.deny) == 0 with input as {"environment": {"type": "production", "name": "prod"}, "run": {"inputs": {"ticket": "CHG0040001"}}}
}
`;

const sha256 = (s: string) => 'sha256:' + createHash('sha256').update(s).digest('hex');

for (const dialect of dialects) {
  describe(`policy as code [${dialect}]`, () => {
    let t: TestApp;
    const clock = new ManualClock('2026-12-01T10:00:00Z');
    let runSeq = 0;

    beforeAll(async () => {
      t = await createTestApp(dialect, { clock });
      const setup = await t.applyApproved(`
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production, policies: [ticket-required, slow, broken] }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: pay }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: pay }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - { name: qa, type: deploy, environment: qa, steps: [{ name: d, run: ./deploy.sh }] }
    - { name: deploy, type: deploy, environment: prod, steps: [{ name: d, run: ./deploy.sh }] }
---
${policyYaml({ name: 'ticket-required', project: 'pay', point: 'deploy', rego: ticketRego('^CHG[0-9]+$'), test: ticketTest })}
---
${policyYaml({
  name: 'slow',
  project: 'pay',
  point: 'deploy',
  timeoutMs: 5,
  rego: `
package custody.deploy

deny contains "too many" if {
  input.run.inputs.slow == "yes"
  count([x | some x in numbers.range(1, 5000000); x % 7 == 0]) > 0
}
`,
})}
---
${policyYaml({
  name: 'broken',
  project: 'pay',
  point: 'deploy',
  rego: `
package custody.deploy

mode := "a" if input.run.inputs.broken == "yes"
mode := "b" if input.run.inputs.broken == "yes"

deny contains "broken mode" if mode == "c"
`,
})}
`);
      expect(setup.statusCode, setup.body).toBe(200);
    });
    afterAll(async () => {
      await t?.close();
    });

    // One gate evaluation of a deploy stage to `environment`, in a transaction of its own with
    // its ledger entries, as the scheduler runs it.
    const evaluate = (environment: string, inputs: Record<string, string>, runId?: string) =>
      t.app.uow.run(systemContext(t.app, 'test'), async (tx, record) => {
        const d = await t.app.services.gate.evaluate(tx, record, {
          run: {
            id: runId ?? `run_policy_${++runSeq}`,
            project: 'pay',
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
          environment,
          at: clock.now(),
        });
        // A decision that repeats the last one writes nothing: keep the unit of work honest.
        record({ action: 'test.gate.evaluated', resource: { type: 'test', id: 'gate' } });
        return d;
      });
    const policyReasons = (d: {
      reasons: { check: string; code: string; message: string; blocking: boolean }[];
    }) => d.reasons.filter((r) => r.check === 'policy');

    it('refuses a policy whose tests fail, or that does not compile, with file, line and column', async () => {
      const failing = await t.apply(
        policyYaml({
          name: 'strict',
          point: 'deploy',
          rego: ticketRego('^CHG[0-9]+$'),
          test: `
package custody.deploy_test

import data.custody.deploy

test_everything_denied if {
  count(deploy.deny) == 1 with input as {"environment": {"type": "pre-production"}, "run": {"inputs": {}}}
}
`,
        }),
      );
      expect(failing.statusCode, failing.body).toBe(400);
      const body = (
        failing.json() as {
          error: {
            code: string;
            details: { failures: { test: string; file: string; line: number; column: number }[] };
          };
        }
      ).error;
      expect(body.code).toBe('POLICIES_TESTS_FAILED');
      expect(body.details.failures).toEqual([
        expect.objectContaining({
          test: 'data.custody.deploy_test.test_everything_denied',
          file: 'strict_test.rego',
          line: 5,
          column: 1,
        }),
      ]);

      const bad = await t.apply(
        policyYaml({
          name: 'typo',
          point: 'deploy',
          rego: `
package custody.deploy

deny contains msg if {
  msg := sprintf("x %s", [unknown_var])
}
`,
        }),
      );
      expect(bad.statusCode).toBe(400);
      const err = (
        bad.json() as {
          error: {
            code: string;
            details: { errors: { file: string; line: number; column: number; message: string }[] };
          };
        }
      ).error;
      expect(err.code).toBe('POLICIES_COMPILE_FAILED');
      expect(err.details.errors[0]).toMatchObject({ file: 'typo.rego', line: 4 });
      expect(err.details.errors[0]!.column).toBeGreaterThan(0);

      const wrongPackage = await t.apply(
        policyYaml({
          name: 'wrong',
          point: 'run',
          rego: 'package custody.deploy\n\ndeny := set()',
        }),
      );
      expect(wrongPackage.json()).toMatchObject({ error: { code: 'POLICIES_PACKAGE_MISMATCH' } });

      const network = await t.apply(
        policyYaml({
          name: 'phones-home',
          point: 'deploy',
          rego: `
package custody.deploy

deny contains "blocked" if {
  r := http.send({"method": "GET", "url": "https://example.com"})
  r.status_code != 200
}
`,
        }),
      );
      expect(network.statusCode).toBe(400);
      expect(network.json()).toMatchObject({
        error: {
          code: 'POLICIES_BUILTIN_FORBIDDEN',
          details: { file: 'phones-home.rego', line: 4, builtin: 'http.send' },
        },
      });

      const unresolved = await t.apply(`
apiVersion: custody/v1
kind: Policy
metadata: { name: from-file }
spec:
  decisionPoint: deploy
  modules: [{ name: a.rego, file: ./a.rego }]
`);
      expect(unresolved.json()).toMatchObject({ error: { code: 'POLICIES_FILE_UNRESOLVED' } });
      // Nothing of a refused policy is stored.
      const list = await t.request({ method: 'GET', url: '/api/v1/resources/Policy' });
      const names = (list.json() as { items: { name: string }[] }).items.map((i) => i.name);
      expect(names.sort()).toEqual(['broken', 'slow', 'ticket-required']);
    });

    it('a policy bound to prod denies a deploy with its name, version and message; warn does not block', async () => {
      const denied = await evaluate('prod', { note: 'x' });
      expect(denied.allowed).toBe(false);
      expect(policyReasons(denied)).toEqual([
        expect.objectContaining({
          code: 'POLICIES_DENIED',
          blocking: true,
          message:
            'policy pay/ticket-required v1: deploying to prod needs an approved change ticket',
        }),
      ]);
      const warned = await evaluate('prod', { ticket: 'CHG0040001' });
      expect(policyReasons(warned)).toEqual([
        expect.objectContaining({
          code: 'POLICIES_WARNING',
          blocking: false,
          message: 'policy pay/ticket-required v1: no release note given',
        }),
      ]);
      // qa binds nothing of the project's: no policy decides there.
      expect(policyReasons(await evaluate('qa', {}))).toEqual([]);
    });

    it('a policy that errors or runs past its time limit blocks (fail closed)', async () => {
      const slow = await evaluate('prod', { ticket: 'CHG1', note: 'n', slow: 'yes' });
      const slowReasons = policyReasons(slow);
      expect(slowReasons.map((r) => [r.code, r.blocking])).toEqual([
        ['POLICIES_EVALUATION_FAILED', true],
      ]);
      expect(slowReasons[0]!.message).toContain('pay/slow v1');
      expect(slowReasons[0]!.message).toMatch(/time|limit/i);
      const broken = await evaluate('prod', { ticket: 'CHG1', note: 'n', broken: 'yes' });
      expect(policyReasons(broken).map((r) => [r.code, r.blocking])).toEqual([
        ['POLICIES_EVALUATION_FAILED', true],
      ]);
      expect(policyReasons(broken)[0]!.message).toContain('conflict');
    });

    it('a policy an environment names that does not exist blocks (fail closed)', async () => {
      const env = await t.applyApproved(`
apiVersion: custody/v1
kind: Environment
metadata: { name: staging, project: pay }
spec: { type: pre-production, policies: [not-applied-yet] }
`);
      expect(env.statusCode, env.body).toBe(200);
      const d = await evaluate('staging', {});
      expect(policyReasons(d)).toEqual([
        expect.objectContaining({ code: 'POLICIES_MISSING', blocking: true }),
      ]);
    });

    it('records each decision in the ledger with the policy and input hashes; replay reproduces it', async () => {
      const runId = `run_ledger_${dialect}`;
      await evaluate('prod', { note: 'x' }, runId);
      const entries = await t.app.services.audit.list({
        limit: 10_000,
        action: 'policies.decision.recorded',
      });
      const entry = entries.find(
        (e) => (e.details as { subject: { id: string } }).subject.id === `${runId}/deploy`,
      )!;
      expect(entry.outcome).toBe('denied');
      const details = entry.details as {
        policies: { name: string; version: number; hash: string }[];
        inputHash: string;
        result: string;
        durationUs: number;
      };
      expect(details.result).toBe('denied');
      const resource = await t.request({
        method: 'GET',
        url: '/api/v1/resources/Policy/ticket-required?project=pay',
      });
      const inForceHash = (resource.json() as { inForce: { contentHash: string } }).inForce
        .contentHash;
      expect(details.policies.find((p) => p.name === 'ticket-required')).toEqual({
        name: 'ticket-required',
        project: 'pay',
        version: 1,
        hash: inForceHash,
      });
      const decision = await t.request({
        method: 'GET',
        url: `/api/v1/policy-decisions/${entry.resource.id}`,
      });
      expect(decision.statusCode, decision.body).toBe(200);
      const view = decision.json() as { inputHash: string; input: { run: { id: string } } };
      expect(view.inputHash).toBe(details.inputHash);
      expect(view.input.run.id).toBe(runId);
      // The stored input is exactly what was hashed (canonical JSON).
      const stored = await t.app.database.db
        .selectFrom('evidence_documents' as never)
        .select(['body' as never])
        .where('digest' as never, '=', details.inputHash as never)
        .executeTakeFirst();
      expect(sha256((stored as { body: string }).body)).toBe(details.inputHash);

      const replay = await t.request({
        method: 'POST',
        url: `/api/v1/policy-decisions/${entry.resource.id}/replay`,
        json: {},
      });
      expect(replay.statusCode, replay.body).toBe(200);
      expect(replay.json()).toMatchObject({
        same: true,
        differences: [],
        recorded: { result: 'denied' },
        replayed: { result: 'denied' },
      });
      const replays = await t.app.services.audit.list({
        limit: 1000,
        action: 'policies.decision.replayed',
      });
      expect(replays.length).toBeGreaterThan(0);

      // A DBA who rewrites the recorded input breaks the replay loudly. The retention guard
      // refuses the rewrite (ADR 12), so this DBA switches it off first, as an owner can.
      const rewrite = () =>
        t.app.database.db
          .updateTable('evidence_documents' as never)
          .set({ body: '{"tampered":true}' } as never)
          .where('digest' as never, '=', details.inputHash as never)
          .execute();
      await expect(rewrite()).rejects.toThrow(/cannot be changed/);
      await (
        dialect === 'postgres'
          ? sql`ALTER TABLE evidence_documents DISABLE TRIGGER retention_evidence_documents_guard`
          : sql`DROP TRIGGER retention_evidence_documents_immutable`
      ).execute(t.app.database.db);
      await rewrite();
      const tampered = await t.request({
        method: 'POST',
        url: `/api/v1/policy-decisions/${entry.resource.id}/replay`,
        json: {},
      });
      expect(tampered.json()).toMatchObject({ error: { code: 'POLICIES_INPUT_MISSING' } });
    });

    it('a repeated evaluation with the same outcome is recorded once', async () => {
      const runId = `run_repeat_${dialect}`;
      const count = async () =>
        (
          await t.request({
            method: 'GET',
            url: `/api/v1/policy-decisions?subjectType=stage&subjectId=${runId}/deploy`,
          })
        ).json().items.length as number;
      await evaluate('prod', {}, runId);
      await evaluate('prod', {}, runId);
      expect(await count()).toBe(1);
      await evaluate('prod', { ticket: 'CHG9' }, runId);
      expect(await count()).toBe(2);
    });

    it('impact lists exactly the decisions a stricter candidate would flip', async () => {
      clock.advance(60_000);
      const since = clock.now().toISOString();
      const ids: Record<string, string> = {};
      for (const [key, ticket] of [
        ['ok', 'CHG0040001'],
        ['short', 'CHG12'],
        ['none', ''],
        ['other', 'CHG0040777'],
      ] as const) {
        const runId = `run_impact_${key}_${dialect}`;
        await evaluate('prod', ticket ? { ticket, note: 'n' } : { note: 'n' }, runId);
        const page = await t.request({
          method: 'GET',
          url: `/api/v1/policy-decisions?subjectType=stage&subjectId=${runId}/deploy`,
        });
        ids[key] = (page.json() as { items: { id: string }[] }).items[0]!.id;
      }
      clock.advance(1000);
      const doc = {
        apiVersion: 'custody/v1',
        kind: 'Policy',
        metadata: { name: 'ticket-required', project: 'pay' },
        spec: {
          decisionPoint: 'deploy',
          modules: [{ name: 'ticket.rego', source: ticketRego('^CHG00400[0-9]{2}$') }],
          tests: [{ name: 'ticket_test.rego', source: ticketTest }],
        },
      };
      const impact = await t.request({
        method: 'POST',
        url: '/api/v1/policies/impact',
        json: { document: doc, since },
      });
      expect(impact.statusCode, impact.body).toBe(200);
      const result = impact.json() as {
        examined: number;
        changed: { decision: string; from: string; to: string }[];
      };
      expect(result.examined).toBe(4);
      expect(result.changed.map((c) => [c.decision, c.from, c.to]).sort()).toEqual(
        [
          [ids.short, 'allowed', 'denied'],
          [ids.other, 'allowed', 'denied'],
        ].sort(),
      );
    });

    it('a policy row rewritten in the database is not evaluated: the gate fails closed', async () => {
      const setup = await t.applyApproved(`
apiVersion: custody/v1
kind: Project
metadata: { name: side }
spec: { policies: [side-guard] }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: live, project: side }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: side }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - { name: deploy, type: deploy, environment: live, steps: [{ name: d, run: ./deploy.sh }] }
---
${policyYaml({ name: 'side-guard', project: 'side', point: 'deploy', rego: 'package custody.deploy\n\ndeny contains "side deploys are closed" if true' })}
`);
      expect(setup.statusCode, setup.body).toBe(200);
      const db = t.app.database.db;
      const row = (await db
        .selectFrom('policies' as never)
        .selectAll()
        .where('name' as never, '=', 'side-guard' as never)
        .executeTakeFirst()) as unknown as { document: string; content_hash: string };
      const forged = JSON.parse(row.document) as { spec: { modules: { source: string }[] } };
      forged.spec.modules[0]!.source = 'package custody.deploy\n\ndeny := set()\n';
      const gate = (run: string) =>
        t.app.uow.run(systemContext(t.app, 'test'), async (tx, record) => {
          const d = await t.app.services.gate.evaluate(tx, record, {
            run: {
              id: run,
              project: 'side',
              pipeline: 'release',
              pipelineVersion: 1,
              contentHash: 'sha256:00',
              branch: 'main',
              commit: null,
              inputs: {},
              trigger: { type: 'manual' },
              createdBy: 'user:dev',
            },
            stage: { name: 'deploy' },
            environment: 'live',
            at: clock.now(),
          });
          record({ action: 'test.gate.evaluated', resource: { type: 'test', id: run } });
          return d;
        });
      // A careless edit (the document no longer matches its hash).
      await db
        .updateTable('policies' as never)
        .set({ document: JSON.stringify(forged) } as never)
        .where('name' as never, '=', 'side-guard' as never)
        .execute();
      const careless = policyReasons(await gate('run_forged_1'));
      expect(careless.map((r) => [r.code, r.blocking])).toEqual([
        ['POLICIES_EVALUATION_FAILED', true],
      ]);
      expect(careless[0]!.message).toContain('does not match its content hash');
      // A careful one (hash recomputed): no ledger entry ever applied that version.
      const { canonicalJson } = await import('@custody/ledger');
      await db
        .updateTable('policies' as never)
        .set({ content_hash: sha256(canonicalJson(forged)) } as never)
        .where('name' as never, '=', 'side-guard' as never)
        .execute();
      const careful = policyReasons(await gate('run_forged_2'));
      expect(careful.map((r) => [r.code, r.blocking])).toEqual([
        ['POLICIES_EVALUATION_FAILED', true],
      ]);
      expect(careful[0]!.message).toContain('has no ledger entry of being applied');
    });

    it('a new version of a prod-bound policy takes effect only when a second person approves', async () => {
      const alice = await t.user('alice', ['admin']);
      const bob = await t.user('bob', ['admin']);
      const bot = await t.user('bot', ['admin'], 'service_account');
      const applied = await t.apply(
        policyYaml({
          name: 'ticket-required',
          project: 'pay',
          point: 'deploy',
          rego: ticketRego('^CHG[0-9]{7}$'),
          test: ticketTest,
        }),
        alice,
      );
      expect(applied.statusCode, applied.body).toBe(200);
      const [result] = (
        applied.json() as { results: { state: string; approval: string; version: number }[] }
      ).results;
      expect(result!.state).toBe('pending');
      // v1 still decides: a short ticket passes.
      expect(policyReasons(await evaluate('prod', { ticket: 'CHG1', note: 'n' }))).toEqual([]);
      for (const [token, code] of [
        [alice, 'APPROVALS_SELF_APPROVAL_FORBIDDEN'],
        [bot, 'APPROVALS_SERVICE_ACCOUNT_FORBIDDEN'],
      ] as const) {
        const refused = await t.request({
          method: 'POST',
          url: `/api/v1/approvals/${result!.approval}/approve`,
          token,
          json: {},
        });
        expect(refused.statusCode).toBe(403);
        expect(refused.json()).toMatchObject({ error: { code } });
      }
      const ok = await t.request({
        method: 'POST',
        url: `/api/v1/approvals/${result!.approval}/approve`,
        token: bob,
        json: {},
      });
      expect(ok.statusCode, ok.body).toBe(200);
      const after = policyReasons(await evaluate('prod', { ticket: 'CHG1', note: 'n' }));
      expect(after).toEqual([
        expect.objectContaining({
          code: 'POLICIES_DENIED',
          message: `policy pay/ticket-required v${result!.version}: deploying to prod needs an approved change ticket`,
        }),
      ]);
      // Unbinding it from the production environment's project needs a second person too.
      const unbindEnv = await t.apply(
        `
apiVersion: custody/v1
kind: Environment
metadata: { name: prod, project: pay }
spec: { type: production, policies: [] }
`,
        alice,
      );
      expect((unbindEnv.json() as { results: { state: string }[] }).results[0]!.state).toBe(
        'pending',
      );
      const bindProject = await t.applyApproved(`
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
spec: { policies: [ticket-required] }
`);
      expect(bindProject.json().results[0].state).toBe('in-force');
      const unbindProject = await t.apply(
        `
apiVersion: custody/v1
kind: Project
metadata: { name: pay }
spec: { policies: [] }
`,
        alice,
      );
      expect(unbindProject.json().results[0].state).toBe('pending');
    });
  });
}
