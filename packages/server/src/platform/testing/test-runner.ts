import type { TestApp } from './test-app.ts';

// A JSON API call as tests write it: the status and the parsed body.
export interface ApiResult {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: Record<string, any>;
}

export async function callApi(
  t: TestApp,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  json?: unknown,
  token?: string,
): Promise<ApiResult> {
  const res = await t.request({ method, url, json, token });
  return { status: res.statusCode, body: res.json() as ApiResult['body'] };
}

export interface LeasedJob {
  readonly jobId: string;
  readonly leaseId: string;
}

// A runner that tests drive by hand through the runner protocol: registered with a token
// of its pools, leasing without waiting, reporting under the job's lease.
export class TestRunner {
  private constructor(
    private readonly t: TestApp,
    readonly id: string,
    readonly token: string,
  ) {}

  static async register(t: TestApp, name = 'r1', pools = ['default']): Promise<TestRunner> {
    const created = await callApi(t, 'POST', '/api/v1/runners/tokens', { name, pools });
    if (created.status !== 201)
      throw new Error(`runner token: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    const token = created.body.token as string;
    const reg = await callApi(t, 'POST', '/api/v1/runner/register', { name, pools }, token);
    if (reg.status !== 201)
      throw new Error(`runner registration: HTTP ${reg.status} ${JSON.stringify(reg.body)}`);
    return new TestRunner(t, reg.body.id as string, token);
  }

  async lease<J extends LeasedJob>(): Promise<J | null> {
    const res = await callApi(
      this.t,
      'POST',
      '/api/v1/runner/lease',
      { runnerId: this.id, waitMs: 0 },
      this.token,
    );
    return res.body.job as J | null;
  }

  report(job: LeasedJob, what: string, json: Record<string, unknown> = {}): Promise<ApiResult> {
    return callApi(
      this.t,
      'POST',
      `/api/v1/runner/jobs/${job.jobId}/${what}`,
      { leaseId: job.leaseId, ...json },
      this.token,
    );
  }
}
