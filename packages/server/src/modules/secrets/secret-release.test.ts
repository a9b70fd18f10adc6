import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';
import { callApi, TestRunner } from '../../platform/testing/test-runner.ts';
import { maskedForms } from '@custody/masking';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const NPM = 'npm_tok-9f8e7d6c5b4a3210';
const SIGN = 'sign-key/zyx+wvu=tsr';
const DB = 'db-pass"staging"-42é';
const values = [NPM, SIGN, DB];

const environment = (pool: string) => `apiVersion: custody/v1
kind: Environment
metadata: { name: staging, project: vault }
spec: { type: pre-production, runnerPool: ${pool} }
`;
const manifest = `apiVersion: custody/v1
kind: Project
metadata: { name: vault }
---
${environment('default')}---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: app, project: vault }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - { name: compile, run: make }
        - { name: publish, run: npm publish, secrets: [NPM_TOKEN] }
        - { name: sign, run: ./sign.sh, secrets: [SIGNING_KEY, NPM_TOKEN, NOT_SET] }
    - name: deploy
      type: deploy
      environment: staging
      steps:
        - { name: deploy, run: ./deploy.sh, secrets: [DB_PASSWORD] }
`;

interface Job {
  jobId: string;
  leaseId: string;
  stage: string;
  steps: { name: string; secrets: Record<string, string> }[];
}
interface Entry {
  seq: number;
  action: string;
  outcome: string;
  resource: { id: string };
  actor: { name: string };
  details: Record<string, unknown>;
}

// Every way a step prints a value, each cut in two by a chunk boundary.
const leaks = (v: string) => [
  v,
  Buffer.from(v).toString('base64'),
  Buffer.from(`a${v}`).toString('base64'),
  Buffer.from(`ab${v}`).toString('base64url'),
  Buffer.from(v).toString('hex'),
  Buffer.from(v).toString('hex').toUpperCase(),
  encodeURIComponent(v),
  new URLSearchParams({ v }).toString(),
  JSON.stringify({ v }),
  [...v].reverse().join(''),
  `${v.slice(0, 7)}\n${v.slice(7)}`,
];

for (const dialect of dialects) {
  describe(`a job receives only the secrets its steps name [${dialect}]`, () => {
    let t: TestApp;
    let runner: TestRunner;
    let secure: TestRunner;
    const payloads: string[] = [];
    const api = (method: 'GET' | 'POST' | 'PUT', url: string, json?: unknown, token?: string) =>
      callApi(t, method, url, json, token);
    const lease = async (r: TestRunner = runner) => {
      const job = await r.lease<Job>();
      payloads.push(JSON.stringify(job));
      return job;
    };
    const play = async (r: TestRunner, job: Job, logs: (i: number) => string[] = () => []) => {
      for (const [i] of job.steps.entries()) {
        expect((await r.report(job, 'steps/start', { step: i })).status).toBe(200);
        for (const [seq, content] of logs(i).entries())
          expect(
            (await r.report(job, 'logs', { step: i, seq, content, sha256: sha(content) })).status,
          ).toBe(200);
        await r.report(job, 'steps/finish', {
          step: i,
          result: 'succeeded',
          exitCode: 0,
          attempts: 1,
        });
      }
      expect((await r.report(job, 'complete', { result: 'succeeded' })).status).toBe(200);
    };
    const entries = async (action: string) =>
      (await t.app.services.audit.list({ action, limit: 1000 })) as unknown as Entry[];

    beforeAll(async () => {
      t = await createTestApp(dialect);
      expect((await t.apply(manifest)).statusCode).toBe(200);
      for (const [name, value, extra] of [
        ['NPM_TOKEN', NPM, {}],
        ['SIGNING_KEY', SIGN, { pools: ['default'] }],
        ['DB_PASSWORD', DB, { environment: 'staging' }],
      ] as const)
        expect(
          (await api('PUT', `/api/v1/projects/vault/secrets/${name}`, { value, ...extra })).status,
        ).toBe(200);
      runner = await TestRunner.register(t, 'r1', ['default']);
      secure = await TestRunner.register(t, 'r2', ['secure']);
    });
    afterAll(async () => {
      await t.close();
    });

    it('a step that names no secret gets none; another step of the job gets only its own', async () => {
      const run = await api('POST', '/api/v1/projects/vault/pipelines/app/runs', {});
      expect(run.status).toBe(201);
      const job = (await lease())!;
      expect(job.stage).toBe('build');
      expect(job.steps.map((s) => s.secrets)).toEqual([
        {},
        { NPM_TOKEN: NPM },
        { SIGNING_KEY: SIGN, NPM_TOKEN: NPM },
      ]);
      // Nothing else of the project travels with the job: not the environment's secret.
      expect(JSON.stringify(job)).not.toContain(DB);
      expect(Object.keys(job)).not.toContain('secrets');

      // Each encoding of each secret the job holds, printed split across two log chunks.
      const chunks = (i: number) =>
        i === 0
          ? ['compiling\n']
          : [NPM, ...(i === 2 ? [SIGN] : [])].flatMap((v) =>
              leaks(v).flatMap((form) => {
                const line = `out=${form} end\n`;
                const cut = Math.floor(line.length / 2);
                return [line.slice(0, cut), line.slice(cut)];
              }),
            );
      await play(runner, job, chunks);
      const logs = await api('GET', `/api/v1/runs/${run.body.id}/logs`);
      const stored = JSON.stringify(
        (await sql`select content from log_chunks`.execute(t.app.database.db)).rows,
      );
      const shown = (logs.body.chunks as { content: string }[]).map((c) => c.content).join('|');
      expect(shown).toContain('compiling');
      expect(shown).toContain('out=***');
      for (const text of [shown, stored]) {
        const flat = text.replace(/\\n|\n/g, '').replace(/\*\*\*/g, '|');
        for (const v of [NPM, SIGN])
          for (const form of maskedForms(v))
            for (let i = 0; i + 8 <= form.length; i++)
              expect(flat, `${form} leaked`).not.toContain(form.slice(i, i + 8));
      }
    });

    it('every release is a ledger entry in the lease transaction: secret, version, job, runner, pool — never the value', async () => {
      const released = await entries('secrets.secret.released');
      expect(released.map((e) => e.resource.id).sort()).toEqual([
        'vault/NPM_TOKEN',
        'vault/SIGNING_KEY',
      ]);
      const [leased] = await entries('executions.job.leased');
      const npm = released.find((e) => e.resource.id === 'vault/NPM_TOKEN')!;
      expect(npm.details).toMatchObject({
        version: 1,
        scope: 'project',
        job: leased!.resource.id,
        runner: runner.id,
        pool: 'default',
        attempt: 1,
        steps: ['publish', 'sign'],
      });
      expect(npm.actor.name).toBe('runner-r1');
      // Same transaction as the lease: consecutive entries, one request.
      expect(Math.abs(npm.seq - leased!.seq)).toBeLessThanOrEqual(3);
      const [missing] = await entries('secrets.secret.withheld');
      expect(missing).toMatchObject({
        outcome: 'denied',
        resource: { id: 'vault/NOT_SET' },
        details: { code: 'SECRETS_NOT_IN_SCOPE', steps: ['sign'] },
      });
      const everything = JSON.stringify(await t.app.services.audit.list({ limit: 5000 }));
      for (const v of values)
        for (const form of maskedForms(v)) expect(everything).not.toContain(form);
    });

    it('an environment secret goes to a job of its environment in its pool', async () => {
      const job = (await lease())!;
      expect(job.stage).toBe('deploy');
      expect(job.steps[0]!.secrets).toEqual({ DB_PASSWORD: DB });
      await play(runner, job);
    });

    it("an environment's secret never reaches a job in another pool", async () => {
      // A run planned while staging ran in `default`; then staging moves to its own pool.
      const from = payloads.length;
      const run = await api('POST', '/api/v1/projects/vault/pipelines/app/runs', {});
      await play(runner, (await lease())!);
      expect((await t.apply(environment('secure'))).statusCode).toBe(200);
      const stale = await lease();
      if (stale) {
        expect(stale.stage).toBe('deploy');
        expect(stale.steps[0]!.secrets).toEqual({});
        const withheld = (await entries('secrets.secret.withheld')).find(
          (e) => e.resource.id === 'vault/staging/DB_PASSWORD',
        );
        expect(withheld?.details).toMatchObject({
          code: 'SECRETS_POOL_NOT_ALLOWED',
          pool: 'default',
        });
        await play(runner, stale);
      }
      // A job that does run in staging's pool gets it.
      const next = await api('POST', '/api/v1/projects/vault/pipelines/app/runs', {});
      expect(next.status).toBe(201);
      await play(runner, (await lease())!);
      const deploy = await lease(secure);
      expect(deploy?.steps[0]!.secrets).toEqual({ DB_PASSWORD: DB });
      for (const p of payloads.slice(from, -1)) expect(p).not.toContain('db-pass');
      expect(run.status).toBe(201);
    });

    it('a value a DBA copied into another row is withheld, not opened', async () => {
      // The staging secret's sealed value pasted over a project-wide one, which any pool gets.
      const db = t.app.database.db;
      const rows = (
        await sql<{
          name: string;
          environment: string;
          sealed: string;
        }>`select name, environment, sealed from secrets`.execute(db)
      ).rows;
      const staging = rows.find((r) => r.name === 'DB_PASSWORD')!;
      await sql`update secrets set sealed = ${staging.sealed} where name = 'NPM_TOKEN'`.execute(db);
      await api('POST', '/api/v1/projects/vault/pipelines/app/runs', {});
      const job = (await lease())!;
      expect(job.steps[1]!.secrets).toEqual({});
      expect(JSON.stringify(job)).not.toContain('db-pass');
      const withheld = (await entries('secrets.secret.withheld')).find(
        (e) => e.resource.id === 'vault/NPM_TOKEN',
      );
      expect(withheld?.details.code).toBe('SEALING_VALUE_UNREADABLE');
    });

    it('the releases can be listed per project and environment (auditor), never with values', async () => {
      const auditor = await t.user('ann', ['auditor']);
      const all = await api('GET', '/api/v1/projects/vault/secret-releases', undefined, auditor);
      expect(all.status).toBe(200);
      const items = all.body.items as { secret: string; environment: string | null }[];
      expect(items.length).toBeGreaterThanOrEqual(5);
      const staging = await api(
        'GET',
        '/api/v1/projects/vault/secret-releases?environment=staging',
        undefined,
        auditor,
      );
      expect(staging.body.items).toEqual([
        expect.objectContaining({
          secret: 'vault/staging/DB_PASSWORD',
          environment: 'staging',
          pool: 'secure',
          runner: secure.id,
          receivedBy: 'serviceaccount:runner-r2',
          version: 1,
        }),
        expect.objectContaining({ secret: 'vault/staging/DB_PASSWORD', pool: 'default' }),
      ]);
      const page = await api('GET', '/api/v1/projects/vault/secret-releases?limit=2', undefined);
      expect(page.body.items).toHaveLength(2);
      expect(page.body.next).toBe((page.body.items as { seq: number }[])[1]!.seq);
      for (const v of values) expect(JSON.stringify([all.body, staging.body])).not.toContain(v);
      const dev = await t.user('dev', ['developer@project:other']);
      expect(
        (await api('GET', '/api/v1/projects/vault/secret-releases', undefined, dev)).status,
      ).toBe(403);
    });

    it('platform and runner names cannot be job secrets; bad step secrets fail validation', async () => {
      for (const name of ['GITHUB_WEBHOOK_SECRET', 'GITLAB_WEBHOOK_TOKEN', 'CUSTODY_TOKEN']) {
        const res = await api('PUT', `/api/v1/projects/vault/secrets/${name}`, { value: 'x1234' });
        expect(res.body.error.code).toBe('SECRETS_NAME_RESERVED');
      }
      const pool = await api('PUT', '/api/v1/projects/vault/secrets/OTHER', {
        value: 'x1234',
        environment: 'staging',
        pools: ['default'],
      });
      expect(pool.body.error.code).toBe('SECRETS_POOL_OUTSIDE_ENVIRONMENT');
      for (const bad of ['[lower]', '[CUSTODY_RUN_ID]', '[A, A]']) {
        const res = await t.apply(`apiVersion: custody/v1
kind: Pipeline
metadata: { name: bad, project: vault }
spec:
  source: { repository: file:///tmp/none.git }
  stages:
    - name: b
      type: ci
      steps: [ { name: s, run: 'true', secrets: ${bad} } ]
`);
        expect(res.statusCode, bad).toBe(400);
        expect(res.json().error.code).toBe('RESOURCES_VALIDATION_FAILED');
      }
      const both = await t.apply(`apiVersion: custody/v1
kind: Pipeline
metadata: { name: bad, project: vault }
spec:
  source: { repository: file:///tmp/none.git }
  stages:
    - name: b
      type: ci
      steps: [ { name: s, run: 'true', env: { A: x }, secrets: [A] } ]
`);
      expect(both.statusCode).toBe(400);
    });
  });
}
