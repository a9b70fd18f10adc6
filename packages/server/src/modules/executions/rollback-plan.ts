// A rollback run redeploys an earlier release: only the stages that deploy to the rolled-back
// environment run, with the release's artifacts (same digests, nothing rebuilt). The other
// stages are skipped at creation and count as satisfied, not as failures.

export interface RollbackTarget {
  readonly environment: string;
  readonly release: string;
}

/** The environment and release a run's trigger rolls back to, if it is a rollback. */
export function rollbackTargetOf(trigger: unknown): RollbackTarget | undefined {
  if (!trigger || typeof trigger !== 'object') return undefined;
  const t = trigger as Record<string, unknown>;
  return t.type === 'rollback' && typeof t.environment === 'string' && typeof t.release === 'string'
    ? { environment: t.environment, release: t.release }
    : undefined;
}

export const outsideRollbackReason = (environment: string) =>
  `not part of the rollback of ${environment}`;

/** True for a stage that a rollback run skipped because it does not deploy there. */
export function skippedByRollback(
  stage: { state: string; environment: string | null },
  target: RollbackTarget | undefined,
): boolean {
  return (
    target !== undefined && stage.state === 'skipped' && stage.environment !== target.environment
  );
}
