import type { RequestContext } from '../../platform/context.ts';
import type { AnyTx } from '../../platform/db/database.ts';
import type { RecordAudit, UnitOfWork } from '../../platform/db/unit-of-work.ts';

// Thrown inside a unit of work that found nothing to do.
export class NoChange extends Error {}

// A transaction that may find nothing to do: it rolls back quietly instead of committing an
// empty unit of work (which the UnitOfWork refuses).
export async function maybe<T>(
  uow: UnitOfWork,
  ctx: Pick<RequestContext, 'actor' | 'requestId'>,
  work: (tx: AnyTx, record: RecordAudit) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await uow.run(ctx, work);
  } catch (err) {
    if (err instanceof NoChange) return undefined;
    throw err;
  }
}
