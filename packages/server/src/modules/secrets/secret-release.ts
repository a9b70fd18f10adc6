import type { SecretRow } from './secret-store.ts';

// What a job may hold: a secret its step names, of the job's project, either project-wide or of
// the environment the stage deploys to (which then takes precedence), and only in a pool the
// secret allows. An environment's secrets go only to the environment's own runner pool.

export interface ReleaseRequest {
  project: string;
  environment: string | null;
  pool: string;
  job: string;
  run: string;
  attempt: number;
  runner: string;
  steps: readonly { name: string; secrets: readonly string[] }[];
}

export type ReleaseDecision =
  | { readonly kind: 'released'; readonly name: string; readonly row: SecretRow }
  | {
      readonly kind: 'withheld';
      readonly name: string;
      readonly environment: string;
      readonly code: 'SECRETS_NOT_IN_SCOPE' | 'SECRETS_POOL_NOT_ALLOWED';
    };

export function releasableRows(
  req: ReleaseRequest,
  rows: readonly SecretRow[],
  environmentPool: string | undefined,
): ReleaseDecision[] {
  const names = [...new Set(req.steps.flatMap((s) => s.secrets))];
  return names.map((name): ReleaseDecision => {
    const own = req.environment
      ? rows.find((r) => r.name === name && r.environment === req.environment)
      : undefined;
    const row = own ?? rows.find((r) => r.name === name && r.environment === '');
    if (!row) return { kind: 'withheld', name, environment: '', code: 'SECRETS_NOT_IN_SCOPE' };
    const pools = JSON.parse(row.pools) as string[];
    const allowed =
      (row.environment === '' || req.pool === environmentPool) &&
      (pools.length === 0 || pools.includes(req.pool));
    return allowed
      ? { kind: 'released', name, row }
      : { kind: 'withheld', name, environment: row.environment, code: 'SECRETS_POOL_NOT_ALLOWED' };
  });
}
