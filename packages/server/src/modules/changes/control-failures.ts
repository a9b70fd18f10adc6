import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
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

// The control-failures report: emergency changes whose review is overdue or came late.
export class ControlFailures {
  constructor(
    private readonly deps: { database: Database; store: KyselyChangeStore; clock: Clock },
  ) {}

  async list(at?: Date): Promise<ControlFailure[]> {
    const now = at ?? this.deps.clock.now();
    const db = this.deps.database.db;
    const present = (r: ChangeRequestRow, kind: ControlFailure['kind']): ControlFailure => ({
      kind,
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
    });
    return [
      ...(await this.deps.store.overdueReviews(db, now.toISOString())).map((r) =>
        present(r, 'emergency_review_overdue'),
      ),
      ...(await this.deps.store.lateReviews(db)).map((r) => present(r, 'emergency_review_late')),
    ];
  }
}
