import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './test-app.ts';
import { callApi, TestRunner, type ApiResult, type LeasedJob } from './test-runner.ts';

export interface DriverJob extends LeasedJob {
  readonly stage: string;
  readonly steps: { name: string }[];
  readonly environment: string | null;
}

export interface StageGateView {
  readonly stage: string;
  readonly state: string;
  readonly decision: {
    allowed: boolean;
    status: string;
    reasons: { check: string; code: string; message: string; blocking: boolean }[];
  } | null;
  readonly approval: { id: string; state: string; intentHash: string } | null;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

// Drives runs end to end through the public API and a hand-held runner: start a run, play
// its jobs step by step, read stage states and the gate, approve. For tests of the controls.
export class DeployDriver {
  private constructor(
    readonly t: TestApp,
    readonly runner: TestRunner,
  ) {}

  static async create(t: TestApp, pools = ['default']): Promise<DeployDriver> {
    return new DeployDriver(t, await TestRunner.register(t, 'driver', pools));
  }

  api(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    json?: unknown,
    token?: string,
  ): Promise<ApiResult> {
    return callApi(this.t, method, url, json, token);
  }

  async startRun(
    project: string,
    pipeline: string,
    token: string | undefined,
    body: Record<string, unknown> = {},
  ): Promise<string> {
    const res = await this.api(
      'POST',
      `/api/v1/projects/${project}/pipelines/${pipeline}/runs`,
      body,
      token,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  lease(): Promise<DriverJob | null> {
    return this.runner.lease<DriverJob>();
  }

  // Runs every step of the job successfully (uploading `artifact` as `app` in the first one).
  async play(job: DriverJob, artifact?: string): Promise<void> {
    for (const [i] of job.steps.entries()) {
      expect((await this.runner.report(job, 'steps/start', { step: i })).status).toBe(200);
      if (artifact && i === 0) {
        const up = await this.runner.report(job, 'files', {
          step: 0,
          kind: 'artifact',
          name: 'app',
          type: 'binary',
          path: 'dist/app',
          sha256: sha(artifact),
          contentBase64: Buffer.from(artifact).toString('base64'),
        });
        expect(up.status, JSON.stringify(up.body)).toBe(201);
      }
      const done = await this.runner.report(job, 'steps/finish', {
        step: i,
        result: 'succeeded',
        exitCode: 0,
        attempts: 1,
      });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
    }
    expect((await this.runner.report(job, 'complete', { result: 'succeeded' })).status).toBe(200);
  }

  // Leases the next job, checks it is of `stage`, and plays it.
  async playNext(stage: string, artifact?: string): Promise<DriverJob> {
    const job = await this.lease();
    expect(job?.stage).toBe(stage);
    await this.play(job!, artifact);
    return job!;
  }

  async runState(id: string): Promise<string> {
    return (await this.api('GET', `/api/v1/runs/${id}`)).body.state as string;
  }

  async stage(
    id: string,
    name: string,
  ): Promise<{
    state: string;
    reason: string | null;
    pool: string;
    waitingSince: string | null;
    waitExpiresAt: string | null;
  }> {
    const stages = (await this.api('GET', `/api/v1/runs/${id}`)).body.stages as {
      name: string;
      state: string;
      reason: string | null;
      pool: string;
      waitingSince: string | null;
      waitExpiresAt: string | null;
    }[];
    return stages.find((s) => s.name === name)!;
  }

  async gate(id: string, stage: string): Promise<StageGateView> {
    const stages = (await this.api('GET', `/api/v1/runs/${id}/gate`)).body
      .stages as StageGateView[];
    return stages.find((s) => s.stage === stage)!;
  }

  // Votes on the stage's live deployment approval request.
  async vote(
    id: string,
    stage: string,
    token: string | undefined,
    decision: 'approve' | 'reject' = 'approve',
  ): Promise<ApiResult> {
    const g = await this.gate(id, stage);
    expect(g.approval, `no approval request for ${id}/${stage}`).not.toBeNull();
    return this.api(
      'POST',
      `/api/v1/deployments/approvals/${g.approval!.id}/${decision}`,
      decision === 'approve' ? {} : { reason: 'not this one' },
      token,
    );
  }

  tick(): Promise<void> {
    return this.t.app.services.engine.tick();
  }

  async auditActions(filter: { action?: string; outcome?: string } = {}): Promise<string[]> {
    return (await this.t.app.services.audit.list({ limit: 10_000, ...filter })).map(
      (e) => `${e.action}:${e.outcome}:${e.actor.name}`,
    );
  }
}
