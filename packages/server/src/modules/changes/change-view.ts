import type { ChangeRequestRow, ChangeUseRow } from './change-store.ts';

export type RiskClass = 'standard' | 'normal' | 'emergency';
// Stored states; `expired` and review status are derived from the clock when read.
export type ChangeState = 'approved' | 'open' | 'requested' | 'active';
export type EffectiveState = ChangeState | 'expired';
export type ReviewStatus = 'not_required' | 'pending' | 'overdue' | 'done';

export interface ChangeUseView {
  run: string;
  stage: string;
  commit: string | null;
  intentHash: string;
  usedAt: string;
}

export interface ChangeView {
  id: string;
  project: string;
  environment: string;
  riskClass: RiskClass;
  state: EffectiveState;
  title: string;
  reason: string;
  template: string | null;
  // The commit an emergency change was requested for (it serves no other).
  commit: string | null;
  requestedBy: string;
  createdAt: string;
  activatedBy: string | null;
  activatedAt: string | null;
  expiresAt: string | null;
  review: {
    status: ReviewStatus;
    dueAt: string | null;
    reviewedBy: string | null;
    reviewedAt: string | null;
    notes: string | null;
  };
  // Every deployment that relied on it.
  uses: ChangeUseView[];
}

export function presentChange(
  row: ChangeRequestRow,
  now: Date,
  uses: readonly ChangeUseRow[] = [],
): ChangeView {
  const iso = now.toISOString();
  const expired = row.expires_at !== null && iso >= row.expires_at;
  const review: ReviewStatus =
    row.risk_class !== 'emergency' || row.review_due_at === null
      ? 'not_required'
      : row.reviewed_at
        ? 'done'
        : iso >= row.review_due_at
          ? 'overdue'
          : 'pending';
  return {
    id: row.id,
    project: row.project,
    environment: row.environment,
    riskClass: row.risk_class as RiskClass,
    state: expired ? 'expired' : (row.state as ChangeState),
    title: row.title,
    reason: row.reason,
    template: row.template,
    commit: row.commit_sha,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    activatedBy: row.activated_by,
    activatedAt: row.activated_at,
    expiresAt: row.expires_at,
    review: {
      status: review,
      dueAt: row.review_due_at,
      reviewedBy: row.reviewed_by,
      reviewedAt: row.reviewed_at,
      notes: row.review_notes,
    },
    uses: uses.map((u) => ({
      run: u.run_id,
      stage: u.stage,
      commit: u.commit_sha,
      intentHash: u.intent_hash,
      usedAt: u.used_at,
    })),
  };
}
