import type { Clock } from '../../platform/clock.ts';
import type { AnyDb, Database } from '../../platform/db/database.ts';
import { firstPage, type PageOf, type PageRequest } from '../../platform/db/keyset.ts';
import type { ChangeRequestRow, KyselyChangeStore } from './change-store.ts';

export interface ControlFailure {
  // overdue: still not reviewed after the deadline; late: reviewed, but after the deadline.
  kind: 'emergency_review_overdue' | 'emergency_review_late';
  changeId: string;
  project: string;
  environment: string;
  requestedBy: string;
  activatedBy: string | null;
  activatedAt: string | null;
  dueAt: string;
  reviewedAt: string | null;
  overdueByMs: number;
}

// The control-failures report: emergency changes whose review is overdue or came late, by deadline.
export class ControlFailures {
  constructor(
    private readonly deps: { database: Database; store: KyselyChangeStore; clock: Clock },
  ) {}

  // `db`: read inside a caller's transaction (the controls catalog).
  async list(
    page: PageRequest = firstPage,
    at?: Date,
    db?: AnyDb,
  ): Promise<PageOf<ControlFailure>> {
    const now = at ?? this.deps.clock.now();
    const rows = await this.deps.store.controlFailures(
      db ?? this.deps.database.db,
      now.toISOString(),
      page,
    );
    return { items: rows.items.map((r) => present(r, now)), next: rows.next };
  }
}

function present(r: ChangeRequestRow, now: Date): ControlFailure {
  return {
    kind: r.reviewed_at ? 'emergency_review_late' : 'emergency_review_overdue',
    changeId: r.id,
    project: r.project,
    environment: r.environment,
    requestedBy: r.requested_by,
    activatedBy: r.activated_by,
    activatedAt: r.activated_at,
    dueAt: r.review_due_at!,
    reviewedAt: r.reviewed_at,
    overdueByMs:
      (r.reviewed_at ? new Date(r.reviewed_at) : now).getTime() -
      new Date(r.review_due_at!).getTime(),
  };
}
