// An approval request is a small state machine: pending until a second person decides.
export type ApprovalState =
  | { readonly kind: 'pending' }
  | { readonly kind: 'approved'; readonly by: string; readonly at: string }
  | {
      readonly kind: 'rejected';
      readonly by: string;
      readonly at: string;
      readonly reason: string;
    };

export type ApprovalEvent =
  | { readonly type: 'approve'; readonly by: string; readonly at: string }
  | { readonly type: 'reject'; readonly by: string; readonly at: string; readonly reason: string };

export function decide(state: ApprovalState, event: ApprovalEvent): ApprovalState | undefined {
  switch (state.kind) {
    case 'pending':
      switch (event.type) {
        case 'approve':
          return { kind: 'approved', by: event.by, at: event.at };
        case 'reject':
          return { kind: 'rejected', by: event.by, at: event.at, reason: event.reason };
        default:
          return assertNever(event);
      }
    case 'approved':
    case 'rejected':
      return undefined; // final
    default:
      return assertNever(state);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
