import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { bootstrapAdmin, configSchema, createApp, systemContext, type App } from '@custody/server';
import { CliProcess } from './cli-process.ts';

// An in-process server (SQLite, real HTTP, no background scheduler: tests call `tick`) with a
// project `shop` whose pipeline `release` builds (stage `build`: steps compile, test) and
// deploys to the production environment `production`, which needs one approval from the
// group release-managers (alice, bob). Its first version is approved by bob. Runs are played
// by a runner the test drives by hand over the runner protocol.

export const releaseManifest = (extraStep = '') => `apiVersion: custody/v1
kind: Pipeline
metadata: { name: release, project: shop }
spec:
  source: { repository: file:///tmp/none.git, branch: main }
  stages:
    - name: build
      type: ci
      steps:
        - { name: compile, run: make }
        - { name: test, run: make test }${extraStep}
    - name: deploy
      type: deploy
      needs: [build]
      environment: production
      steps: [{ name: ship, run: ./deploy.sh }]
`;

const setup = `apiVersion: custody/v1
kind: Project
metadata: { name: shop }
---
apiVersion: custody/v1
kind: Environment
metadata: { name: production, project: shop }
spec:
  type: production
  approvals: { rules: [{ name: release, group: release-managers, required: 1 }] }
---
apiVersion: custody/v1
kind: Group
metadata: { name: release-managers }
spec: { members: [user:alice, user:bob] }
---
apiVersion: custody/v1
kind: RoleBinding
metadata: { name: release-managers-shop }
spec: { principal: group:release-managers, role: release-manager, scope: project:shop, effect: allow }
---
`;

export interface LeasedJob {
  jobId: string;
  runId: string;
  leaseId: string;
  stage: string;
  steps: { name: string }[];
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class ReleaseFixture {
  private runnerId = '';
  private runnerToken = '';

  private constructor(
    readonly app: App,
    readonly dir: string,
    readonly server: string,
    readonly tokens: Record<'admin' | 'alice' | 'bob', string>,
  ) {}

  static async start(): Promise<ReleaseFixture> {
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-cli-release-'));
    const app = await createApp({
      config: configSchema.parse({
        databaseUrl: path.join(dir, 'c.db'),
        dataDir: dir,
        logLevel: 'silent',
      }),
    });
    const admin = (await bootstrapAdmin(app))!.token;
    const ctx = systemContext(app, 'test');
    const tokens: Record<string, string> = { admin };
    for (const name of ['alice', 'bob']) {
      await app.services.identity.createPrincipal(ctx, { kind: 'user', name });
      tokens[name] = (
        await app.services.identity.createToken(ctx, {
          principal: { kind: 'user', name },
          ttlMs: 3_600_000,
        })
      ).token;
    }
    await app.services.resources.applyManifest(ctx, setup + releaseManifest());
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    const server = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
    const f = new ReleaseFixture(app, dir, server, tokens as ReleaseFixture['tokens']);
    await f.approvePendingVersions();
    const created = await f.api('POST', '/api/v1/runners/tokens', {
      name: 'hand',
      pools: ['default'],
    });
    f.runnerToken = created.token as string;
    const reg = await f.api(
      'POST',
      '/api/v1/runner/register',
      { name: 'hand', pools: ['default'] },
      f.runnerToken,
    );
    f.runnerId = reg.id as string;
    return f;
  }

  async close(): Promise<void> {
    await this.app.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async api(method: string, url: string, json?: unknown, token = this.tokens.admin): Promise<any> {
    const res = await fetch(this.server + url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  // A governed pipeline version runs once someone other than its author approved it.
  async approvePendingVersions(): Promise<void> {
    const { items } = await this.api('GET', '/api/v1/approvals?state=pending');
    for (const a of items as { id: string }[])
      await this.api('POST', `/api/v1/approvals/${a.id}/approve`, {}, this.tokens.bob);
  }

  async applyAsSystem(manifest: string): Promise<void> {
    await this.app.services.resources.applyManifest(systemContext(this.app, 'test'), manifest);
  }

  tick(): Promise<void> {
    return this.app.services.engine.tick();
  }

  async lease(): Promise<LeasedJob | null> {
    const res = await this.api(
      'POST',
      '/api/v1/runner/lease',
      { runnerId: this.runnerId, waitMs: 0 },
      this.runnerToken,
    );
    return res.job as LeasedJob | null;
  }

  private report(job: LeasedJob, what: string, json: Record<string, unknown>) {
    return this.api(
      'POST',
      `/api/v1/runner/jobs/${job.jobId}/${what}`,
      { leaseId: job.leaseId, ...json },
      this.runnerToken,
    );
  }

  // Plays one step: starts it, writes `output` as one log chunk, finishes it.
  async step(job: LeasedJob, index: number, output: string, exitCode = 0): Promise<void> {
    await this.report(job, 'steps/start', { step: index });
    if (output)
      await this.report(job, 'logs', {
        step: index,
        seq: 0,
        content: output,
        sha256: sha256(output),
      });
    await this.report(job, 'steps/finish', {
      step: index,
      result: exitCode === 0 ? 'succeeded' : 'failed',
      exitCode,
      attempts: 1,
    });
  }

  complete(job: LeasedJob, result: 'succeeded' | 'failed' = 'succeeded') {
    return this.report(job, 'complete', { result });
  }

  // Leases the next job and plays each step with `output(step)`.
  async playNext(stage: string, output: (step: string) => string): Promise<LeasedJob> {
    const job = await this.lease();
    if (job?.stage !== stage) throw new Error(`expected a job of ${stage}, got ${job?.stage}`);
    for (const [i, s] of job.steps.entries()) await this.step(job, i, output(s.name));
    await this.complete(job);
    return job;
  }

  async gate(run: string, stage: string) {
    const g = await this.api('GET', `/api/v1/runs/${run}/gate`);
    return (g.stages as { stage: string; state: string; approval: { id: string } | null }[]).find(
      (s) => s.stage === stage,
    )!;
  }

  // `custody` (the real binary) as `user`, run in the background: the test drives the run
  // while the command follows it.
  spawn(user: keyof ReleaseFixture['tokens'], args: readonly string[]): CliProcess {
    return new CliProcess(['--server', this.server, '--token', this.tokens[user], ...args]);
  }
}
