import { CliError, exitCodes } from './exit-codes.ts';
import { readFileSync } from 'node:fs';
import { readCliConfig, type CliConfig } from './cli-config.ts';

export interface ClientOptions {
  server?: string | undefined;
  token?: string | undefined;
}

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown; requestId?: string };
}

// The server's schema refused a value the CLI passed on from the command line: a usage error.
const usageCodes = new Set(['REQUEST_INVALID']);

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    const code = body.error?.code ?? `HTTP_${status}`;
    const details = body.error?.details;
    super(
      `${code}: ${body.error?.message ?? `the server answered HTTP ${status}`}`,
      status === 403
        ? exitCodes.permissionDenied
        : usageCodes.has(code)
          ? exitCodes.usage
          : exitCodes.failure,
      code,
      typeof details === 'object' && details !== null && !Array.isArray(details)
        ? (details as Record<string, unknown>)
        : undefined,
    );
  }
}

// Resolution order for connection settings: flag, environment, saved CLI config.
// Last resort: a `custody up` data directory in the current directory.
function localDataDir(): CliConfig {
  try {
    return {
      server: readFileSync('.custody/server.url', 'utf8').trim(),
      token: readFileSync('.custody/admin.token', 'utf8').trim(),
    };
  } catch {
    return {};
  }
}

export function resolveConnection(
  opts: ClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): { server: string; token: string | undefined } {
  let saved = readCliConfig(env);
  if (!saved.server && !env.CUSTODY_SERVER && !opts.server) saved = localDataDir();
  // Empty environment variables count as unset.
  const server = opts.server || env.CUSTODY_SERVER || saved.server;
  if (!server)
    throw new CliError(
      'no server: pass --server URL, set CUSTODY_SERVER, or run `custody login`',
      exitCodes.usage,
      'CLI_NO_SERVER',
    );
  return {
    server: server.replace(/\/+$/, ''),
    token: opts.token || env.CUSTODY_TOKEN || saved.token,
  };
}

export class ApiClient {
  constructor(
    readonly server: string,
    private readonly token: string | undefined,
  ) {}

  static from(opts: ClientOptions): ApiClient {
    const { server, token } = resolveConnection(opts);
    return new ApiClient(server, token);
  }

  async request<T>(
    method: string,
    path: string,
    options: {
      json?: unknown;
      yaml?: string;
      query?: Record<string, string | number | boolean | undefined>;
      auth?: boolean;
    } = {},
  ): Promise<T> {
    const res = await this.raw(method, path, options);
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (!res.ok)
      throw new ApiError(
        res.status,
        (typeof body === 'object' && body ? body : {}) as ApiErrorBody,
      );
    return body as T;
  }

  async raw(
    method: string,
    path: string,
    options: {
      json?: unknown;
      yaml?: string;
      query?: Record<string, string | number | boolean | undefined>;
      auth?: boolean;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    if (options.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.yaml !== undefined) {
      headers['content-type'] = 'application/yaml';
      body = options.yaml;
    }
    try {
      return await fetch(url, {
        method,
        headers,
        body,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw new CliError(
        `cannot reach ${this.server}: ${(err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message}`,
        exitCodes.failure,
        'CLI_SERVER_UNREACHABLE',
      );
    }
  }
}
