// The runner's view of the server protocol (HTTP + JSON under /api/v1/runner). Duplicated on
// purpose: the runner imports nothing from the server.

export interface JobStep {
  name: string;
  run: string;
  env: Record<string, string>;
  timeoutMs: number | null;
  retries: number;
  evidence: { type: string; path: string; optional?: boolean }[];
  artifacts: { name: string; path: string }[];
  // Only the secrets this step names: exposed to this step alone, masked in every step's logs.
  secrets: Record<string, string>;
}

export interface Job {
  jobId: string;
  leaseId: string;
  leaseTtlMs: number;
  attempt: number;
  runId: string;
  project: string;
  pipeline: string;
  pipelineVersion: number;
  stage: string;
  kind: 'main' | 'rollback';
  environment: string | null;
  repository: string;
  branch: string;
  commit: string | null;
  inputs: Record<string, string>;
  steps: JobStep[];
  artifacts: { env: string; name: string; digest: string; path: string }[];
  // Where each target environment stands, so the runner can report the commits being deployed
  // (absent from servers that do not ask for a commit range).
  history?: JobHistory;
}

export interface JobHistory {
  // `since`: the commit now released in the environment; null for its first release.
  ranges: { environment: string; since: string | null }[];
  branch: string;
}

// git's `%G?` reduced to what the server decides on.
export type SignatureState = 'good' | 'bad' | 'unknown' | 'none';

export interface RangeCommit {
  sha: string;
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
  signature: SignatureState;
}

// The body of `POST /api/v1/runner/jobs/:id/commit` beside `leaseId` and `commit`.
export interface CommitRange {
  environment: string;
  since: string | null;
  truncated: boolean;
  commits: RangeCommit[];
}

export type StepResult = 'succeeded' | 'failed' | 'cancelled';

export function artifactEnvName(name: string): string {
  return `CUSTODY_ARTIFACT_${name.toUpperCase().replace(/-/g, '_')}`;
}

export class LeaseLostError extends Error {}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Calls the server; retries through network errors and 5xx (a restarting control plane) for up
// to `patienceMs`, never through 4xx. A lost lease surfaces as LeaseLostError.
export class RunnerClient {
  constructor(
    private readonly server: string,
    private readonly token: string,
    private readonly patienceMs = 180_000,
  ) {}

  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const until = Date.now() + this.patienceMs;
    let delay = 200;
    for (;;) {
      let res: Response | undefined;
      try {
        res = await fetch(this.server.replace(/\/+$/, '') + path, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        if (signal?.aborted) throw err;
        res = undefined;
      }
      if (res && res.status < 500) {
        const text = await res.text();
        const json = (text ? JSON.parse(text) : {}) as {
          error?: { code?: string; message?: string };
        };
        if (res.ok) return json as T;
        const code = json.error?.code ?? `HTTP_${res.status}`;
        if (code === 'EXECUTIONS_LEASE_LOST') throw new LeaseLostError(json.error?.message ?? code);
        throw new HttpError(res.status, code, `${code}: ${json.error?.message ?? ''}`);
      }
      if (Date.now() > until)
        throw new Error(
          `server unreachable at ${this.server} (${res ? `HTTP ${res.status}` : 'no answer'})`,
        );
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}
