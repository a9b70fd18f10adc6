import { principalOf, type RequestContext } from '../../platform/context.ts';
import type { AnyDb, AnyTx } from '../../platform/db/database.ts';
import type { UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { DomainError } from '../../platform/errors.ts';
import { executionErrors } from './errors.ts';
import { IllegalTransitionError } from './execution-state.ts';
import type { JobRow, KyselyExecutionStore } from './execution-store.ts';

// Every runner report names a job and its lease. Only the runner that took the lease may
// report under it: another runner's token with a leaked lease id is refused and audited.
// `held` checks before a report's transaction (it records the denial in its own); `current`
// checks again inside it (a lease id is never reused, so its holder cannot change meanwhile).
export class LeaseGuard {
  constructor(private readonly deps: { store: KyselyExecutionStore; uow: UnitOfWork }) {}

  async current(db: AnyDb | AnyTx, jobId: string, leaseId: string): Promise<JobRow> {
    const job = await this.deps.store.job(db, jobId);
    if (!job) throw new DomainError(executionErrors.EXECUTIONS_JOB_NOT_FOUND);
    if (job.state !== 'leased' || job.lease_id !== leaseId)
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_LOST);
    return job;
  }

  async held(
    db: AnyDb,
    ctx: Pick<RequestContext, 'actor' | 'requestId'>,
    jobId: string,
    leaseId: string,
  ): Promise<JobRow> {
    const job = await this.current(db, jobId, leaseId);
    const caller = principalOf(ctx.actor);
    if (job.lease_holder !== caller) {
      await this.deps.uow.recordAttempt(ctx, {
        action: 'executions.job.report',
        resource: { type: 'job', id: jobId },
        outcome: 'denied',
        details: {
          code: executionErrors.EXECUTIONS_LEASE_NOT_YOURS.code,
          holder: job.lease_holder,
        },
      });
      throw new DomainError(executionErrors.EXECUTIONS_LEASE_NOT_YOURS);
    }
    return job;
  }
}

// A report asking for a transition its job or step cannot make is a conflict with a code,
// never an internal error.
export function transition<T>(make: () => T, what: string): T {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    throw new DomainError(executionErrors.EXECUTIONS_TRANSITION_ILLEGAL, `${what}: ${err.message}`);
  }
}
