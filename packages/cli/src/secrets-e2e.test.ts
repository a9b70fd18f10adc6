import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAgent } from '@custody/runner';
import {
  bootstrapAdmin,
  configSchema,
  maskedForms,
  startServer,
  type RunningServer,
} from '@custody/server';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './testing/ledger-fixture.ts';

// A secret's value never appears in stored logs, API responses or the audit trail, and it
// reaches only jobs of its scope — searched in all three places, API and database alike.

const secretValue = 'hunter2-s3cr3t-VALUE-7f1c';
const qaValue = 'qa-only-value-5b2e9d';
const webhookValue = 'gh-webhook-9c1e4b77aa';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const manifest = (repo: string, server: string) => `apiVersion: custody/v1
kind: Project
metadata: { name: vault }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: qa, project: vault }
spec: { type: pre-production }
---
apiVersion: custody/v1
kind: Pipeline
metadata: { name: leaky, project: vault }
spec:
  source: { repository: 'file://${repo}', branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - name: print
          secrets: [DEPLOY_TOKEN]
          run: |
            echo "token=$DEPLOY_TOKEN"
            echo "qa=\${QA_ONLY:-absent}"
            printf %s "$DEPLOY_TOKEN" | sha256sum | grep -q ${sha(secretValue)} && echo token-ok
            echo "b64=$(printf %s "$DEPLOY_TOKEN" | base64 -w0)"
            echo "b64-shifted=$(printf 'x:%s' "$DEPLOY_TOKEN" | base64 -w0)"
            echo "b64-wrapped=$(printf '%s%s%s' "$DEPLOY_TOKEN" "$DEPLOY_TOKEN" "$DEPLOY_TOKEN" | base64)"
            echo "hex=$(printf %s "$DEPLOY_TOKEN" | od -An -tx1 | tr -d ' \\n')"
            echo "HEX=$(printf %s "$DEPLOY_TOKEN" | basenc --base16)"
            echo "rev=$(printf %s "$DEPLOY_TOKEN" | rev)"
            node -e 'const v = process.env.DEPLOY_TOKEN; console.log("url=" + encodeURIComponent(v)); console.log("json=" + JSON.stringify({ v }))'
            printf 'split=%s\\n' "\${DEPLOY_TOKEN:0:11}"
            sleep 0.7
            printf '%s\\n' "\${DEPLOY_TOKEN:11}"
        - name: snoop
          run: |
            echo "snoop=\${DEPLOY_TOKEN:-absent}"
            echo "leak-count=$(env | grep -c -e hunter2 -e qa-only)"
        - name: forge
          secrets: [GITHUB_WEBHOOK_SECRET]
          run: |
            node -e '
              const { createHmac } = require("node:crypto");
              const body = JSON.stringify({ action: "submitted", repository: { full_name: "o/r" },
                review: { user: { login: "bob" }, state: "approved", commit_id: null, submitted_at: null },
                pull_request: { number: 1 } });
              const sig = createHmac("sha256", process.env.GITHUB_WEBHOOK_SECRET ?? "").update(body).digest("hex");
              fetch("${server}/api/v1/webhooks/github/vault", { method: "POST", body, headers: {
                "content-type": "application/json", "x-github-event": "pull_request_review",
                "x-github-delivery": "forged-1", "x-hub-signature-256": "sha256=" + sig } })
                .then((r) => console.log("forge=" + r.status));
            '
    - name: deploy-qa
      type: deploy
      environment: qa
      steps:
        - name: deploy
          secrets: [QA_ONLY]
          run: |
            echo "qa=$QA_ONLY and token=\${DEPLOY_TOKEN:-absent}"
            printf %s "$QA_ONLY" | sha256sum | grep -q ${sha(qaValue)} && echo qa-ok
`;

describe('secrets (in-process server, real runner agent)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-secrets-'));
  let server: RunningServer;
  let admin = '';
  const abort = new AbortController();
  let agent: Promise<unknown> | undefined;
  const responses: string[] = [];

  const api = async (
    method: string,
    p: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> => {
    const res = await fetch(server.url + p, {
      method,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(body === undefined
          ? {}
          : typeof body === 'string'
            ? { 'content-type': 'application/yaml' }
            : { 'content-type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    responses.push(text);
    return JSON.parse(text) as Record<string, unknown>;
  };

  beforeAll(async () => {
    const repo = path.join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(path.join(repo, 'README'), 'x\n');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'a',
          GIT_AUTHOR_EMAIL: 'a@x',
          GIT_COMMITTER_NAME: 'a',
          GIT_COMMITTER_EMAIL: 'a@x',
        },
      });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
    server = await startServer({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'custody.db'),
        port: 0,
        dataDir: path.join(dir, 'data'),
        logLevel: 'silent',
      }),
    });
    admin = (await bootstrapAdmin(server.app))!.token;
    expect((await api('POST', '/api/v1/apply', manifest(repo, server.url))).results).toBeDefined();
    process.env.CUSTODY_TEST_WEBHOOK_SECRET = webhookValue;
    const set = await runCli([
      '--server',
      server.url,
      '--token',
      admin,
      'scm',
      'webhook-secret',
      'set',
      '--project',
      'vault',
      '--provider',
      'github',
      '--from-env',
      'CUSTODY_TEST_WEBHOOK_SECRET',
    ]);
    delete process.env.CUSTODY_TEST_WEBHOOK_SECRET;
    expect(set.status, set.stderr).toBe(0);
    const token = await api('PUT', '/api/v1/projects/vault/secrets/DEPLOY_TOKEN', {
      value: secretValue,
    });
    expect(token).toMatchObject({ name: 'DEPLOY_TOKEN', version: 1, environment: null });
    expect(
      await api('PUT', '/api/v1/projects/vault/secrets/QA_ONLY', {
        value: qaValue,
        environment: 'qa',
      }),
    ).toMatchObject({
      environment: 'qa',
    });
    const runnerToken = (
      await api('POST', '/api/v1/runners/tokens', { name: 'vault', pools: ['default'] })
    ).token as string;
    agent = runAgent({
      server: server.url,
      token: runnerToken,
      pools: ['default'],
      workDir: path.join(dir, 'work'),
      signal: abort.signal,
      log: () => {},
    });
  });

  afterAll(async () => {
    abort.abort();
    await agent?.catch(() => {});
    await server?.close();
  });

  it('is injected only into jobs of its scope, masked in logs, and absent from logs, responses and audit', async () => {
    const run = await api('POST', '/api/v1/projects/vault/pipelines/leaky/runs', {});
    const id = run.id as string;
    let state = '';
    for (let i = 0; i < 120 && !['succeeded', 'failed', 'cancelled'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 250));
      state = (await api('GET', `/api/v1/runs/${id}`)).state as string;
    }
    expect(state).toBe('succeeded');
    const logs = (await api('GET', `/api/v1/runs/${id}/logs`)).chunks as {
      step: string;
      content: string;
    }[];
    const text = logs.map((c) => c.content).join('');
    expect(text).toContain('token=***');
    expect(text).toContain('token-ok'); // the step that names it received the real value
    expect(text).toContain('qa=absent'); // environment-scoped: not in the ci job
    expect(text).toContain('snoop=absent'); // the step that names nothing gets nothing
    expect(text).toContain('leak-count=0'); // not under any other name either
    expect(text).toContain('qa-ok'); // the qa deploy names it
    expect(text).toContain('token=absent'); // and only it
    expect(text).toContain('forge=401'); // no webhook secret to forge a review with
    for (const label of ['b64', 'b64-shifted', 'hex', 'HEX', 'rev', 'url', 'json', 'split'])
      expect(text).toMatch(new RegExp(`${label}=.*\\*\\*\\*`));
    // No 8 characters in a row of any form the masker knows survive in the stored logs.
    const flat = text.replace(/\n/g, '').replace(/\*\*\*/g, '|');
    for (const form of maskedForms(secretValue))
      for (let i = 0; i + 8 <= form.length; i++) expect(flat).not.toContain(form.slice(i, i + 8));
    const forged = await api('GET', '/api/v1/projects/vault/scm/changes');
    expect(JSON.stringify(forged)).not.toContain('github:bob');
    // Who received what, from the ledger.
    const releases = await runCli([
      '--server',
      server.url,
      '--token',
      admin,
      '-o',
      'json',
      'secret',
      'releases',
      '--project',
      'vault',
    ]);
    expect(releases.status, releases.stderr).toBe(0);
    const items = (JSON.parse(releases.stdout) as { items: { secret: string; steps: string[] }[] })
      .items;
    expect(items.map((r) => `${r.secret}:${r.steps.join(',')}`).sort()).toEqual([
      'vault/DEPLOY_TOKEN:print',
      'vault/qa/QA_ONLY:deploy',
    ]);
    await api('GET', '/api/v1/projects/vault/secrets');
    await api('GET', '/api/v1/audit/entries?limit=1000');
    await api('GET', `/api/v1/runs?project=vault`);
    await api('GET', '/api/v1/resources/Pipeline?project=vault');
    const db = server.app.database.db;
    const stored = {
      logs: JSON.stringify(await sql`select * from log_chunks`.execute(db)),
      audit: JSON.stringify(await sql`select * from audit_entries`.execute(db)),
      secrets: JSON.stringify(await sql`select * from secrets`.execute(db)),
      responses: responses.join('\n'),
    };
    for (const [where, content] of Object.entries(stored)) {
      expect(content.length, where).toBeGreaterThan(10);
      for (const value of [secretValue, qaValue, webhookValue]) {
        expect(content.includes(value), `${where} holds a secret`).toBe(false);
        expect(
          content.includes(Buffer.from(value).toString('base64')),
          `${where} holds a secret (base64)`,
        ).toBe(false);
      }
    }
    // Sealed at rest with a key that lives in the data directory, not in the database.
    expect(readdirSync(path.join(dir, 'data'))).toContain('secrets.key');
    expect(readFileSync(path.join(dir, 'custody.db')).includes(secretValue)).toBe(false);
  });

  it('bad secret input gets a stable code and writes nothing', async () => {
    const before = ((await api('GET', '/api/v1/projects/vault/secrets')).items as unknown[]).length;
    expect(
      (
        (await api('PUT', '/api/v1/projects/vault/secrets/lower-case', { value: 'x' })).error as {
          code: string;
        }
      ).code,
    ).toBe('SECRETS_NAME_INVALID');
    expect(
      (
        (await api('PUT', '/api/v1/projects/nope/secrets/TOKEN', { value: 'xyz' })).error as {
          code: string;
        }
      ).code,
    ).toBe('SECRETS_PROJECT_NOT_FOUND');
    expect(
      (
        (await api('PUT', '/api/v1/projects/vault/secrets/TOKEN', { value: '' })).error as {
          code: string;
        }
      ).code,
    ).toBe('REQUEST_INVALID');
    expect(((await api('GET', '/api/v1/projects/vault/secrets')).items as unknown[]).length).toBe(
      before,
    );
  });
});
