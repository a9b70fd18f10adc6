import type { ResourceDocument } from './kind-handler.ts';
import type { ChangeRow, HeadRow, VersionRow } from './resource-store.ts';

// What a version is to the controls: the one in force, one waiting for a second person, one
// a person refused, one a newer version withdrew before anyone decided, or an older version
// that was in force once.
export type VersionState = 'in-force' | 'pending' | 'rejected' | 'withdrawn' | 'superseded';

export interface ApprovalRef {
  id: string;
  state: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  // Why the version needs a second person.
  governedBecause: string;
}

export interface VersionView {
  kind: string;
  project: string | null;
  name: string;
  version: number;
  contentHash: string;
  appliedBy: string;
  appliedAt: string;
  state: VersionState;
  approval: ApprovalRef | null;
  document: ResourceDocument;
}

// A resource as `get` shows it: the version the controls enforce, and apart from it the newest
// version when that one is not in force (waiting for approval, or rejected).
export interface ResourceView {
  kind: string;
  project: string | null;
  name: string;
  inForce: VersionView | null;
  proposed: VersionView | null;
}

const approvalStates = {
  pending: 'pending',
  applied: 'approved',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
} as const;

export function versionState(
  version: number,
  head: Pick<HeadRow, 'in_force_version'>,
  change: ChangeRow | undefined,
): VersionState {
  if (version === head.in_force_version) return 'in-force';
  switch (change?.state) {
    case 'pending':
      return 'pending';
    case 'rejected':
      return 'rejected';
    case 'withdrawn':
      return 'withdrawn';
    case 'applied':
    case undefined:
      return 'superseded';
    default:
      throw new Error(`unknown change state ${String(change?.state)}`);
  }
}

export function versionView(
  row: VersionRow,
  head: Pick<HeadRow, 'in_force_version'>,
  change: ChangeRow | undefined,
): VersionView {
  return {
    kind: row.kind,
    project: row.project || null,
    name: row.name,
    version: Number(row.version),
    contentHash: row.content_hash,
    appliedBy: row.applied_by,
    appliedAt: row.applied_at,
    state: versionState(Number(row.version), head, change),
    approval: change
      ? {
          id: change.approval_id,
          state: approvalStates[change.state],
          decidedBy: change.closed_by,
          decidedAt: change.closed_at,
          reason: change.close_reason,
          governedBecause: change.reason,
        }
      : null,
    document: JSON.parse(row.document) as ResourceDocument,
  };
}
