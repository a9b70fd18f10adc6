// Runs, stages, jobs and steps are explicit state machines. Every transition the engine makes
// goes through one of these functions; an illegal transition is a programming error and throws.

// `rejected`: an approver refused one of its deployments; nothing of it ships.
export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'rejected';
export type RunResult = 'succeeded' | 'failed' | 'cancelled' | 'rejected';
export type RunEvent =
  { readonly type: 'start' } | { readonly type: 'finish'; readonly result: RunResult };

export type StageState =
  | 'pending' // waiting for the stages it needs
  | 'waiting' // a deploy stage waiting for its environment (one deploy at a time)
  // A deploy stage the deployment gate holds back; re-evaluated on every scheduler tick.
  | 'blocked_by_freeze'
  | 'waiting_for_approval'
  | 'blocked'
  | 'running'
  | 'rolling_back'
  | 'succeeded'
  | 'ignored' // failed with failureStrategy: ignore; later stages proceed
  | 'rolled_back'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'rejected'; // the deployment was refused by an approver: final, never revived
export type StageEvent =
  | { readonly type: 'wait-for-environment' }
  | { readonly type: 'block'; readonly status: GateBlockedState }
  | { readonly type: 'start' }
  | { readonly type: 'retry' }
  | { readonly type: 'roll-back' }
  | { readonly type: 'finish'; readonly result: 'succeeded' | 'ignored' | 'rolled_back' | 'failed' }
  | { readonly type: 'skip' }
  | { readonly type: 'cancel' }
  | { readonly type: 'reject' }
  // Waited on the gate (or the environment) longer than allowed.
  | { readonly type: 'expire' };

export type JobState = 'queued' | 'leased' | 'succeeded' | 'failed' | 'cancelled';
export type JobEvent =
  | { readonly type: 'lease' }
  | { readonly type: 'requeue' } // the runner was lost; another may take it
  | { readonly type: 'finish'; readonly result: 'succeeded' | 'failed' | 'cancelled' };

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type StepEvent =
  | { readonly type: 'start' }
  | { readonly type: 'finish'; readonly result: 'succeeded' | 'failed' | 'cancelled' }
  | { readonly type: 'skip' };

export type GateBlockedState = 'blocked_by_freeze' | 'waiting_for_approval' | 'blocked';
export const gateBlockedStates: readonly StageState[] = [
  'blocked_by_freeze',
  'waiting_for_approval',
  'blocked',
];

export class IllegalTransitionError extends Error {}

function illegal(machine: string, state: string, event: { type: string }): never {
  throw new IllegalTransitionError(`${machine}: no transition from ${state} on ${event.type}`);
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

export const terminalRunStates: readonly RunState[] = [
  'succeeded',
  'failed',
  'cancelled',
  'rejected',
];
export const terminalStageStates: readonly StageState[] = [
  'succeeded',
  'ignored',
  'rolled_back',
  'failed',
  'skipped',
  'cancelled',
  'rejected',
];
export const terminalJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export function runTransition(state: RunState, event: RunEvent): RunState {
  switch (state) {
    case 'queued':
      if (event.type === 'start') return 'running';
      if (event.type === 'finish' && event.result === 'cancelled') return 'cancelled';
      return illegal('run', state, event);
    case 'running':
      if (event.type === 'finish') return event.result;
      return illegal('run', state, event);
    case 'succeeded':
    case 'failed':
    case 'cancelled':
    case 'rejected':
      return illegal('run', state, event);
    default:
      return assertNever(state);
  }
}

export function stageTransition(state: StageState, event: StageEvent): StageState {
  switch (state) {
    case 'pending':
      switch (event.type) {
        case 'wait-for-environment':
          return 'waiting';
        case 'block':
          return event.status;
        case 'start':
          return 'running';
        case 'skip':
          return 'skipped';
        case 'cancel':
          return 'cancelled';
        case 'reject':
          return 'rejected';
        default:
          return illegal('stage', state, event);
      }
    case 'waiting':
    case 'blocked_by_freeze':
    case 'waiting_for_approval':
    case 'blocked':
      switch (event.type) {
        case 'block':
          return event.status;
        case 'start':
          return 'running';
        case 'cancel':
          return 'cancelled';
        case 'reject':
          return 'rejected';
        case 'expire':
          return 'failed';
        default:
          return illegal('stage', state, event);
      }
    case 'running':
      switch (event.type) {
        case 'block': // the gate refused the job right before it was leased
          return event.status;
        case 'reject': // ... because an approver refused it
          return 'rejected';
        case 'retry':
          return 'running';
        case 'roll-back':
          return 'rolling_back';
        case 'finish':
          if (event.result === 'rolled_back') return illegal('stage', state, event);
          return event.result;
        case 'cancel':
          return 'cancelled';
        default:
          return illegal('stage', state, event);
      }
    case 'rolling_back':
      switch (event.type) {
        case 'finish':
          if (event.result === 'rolled_back' || event.result === 'failed') return event.result;
          return illegal('stage', state, event);
        case 'cancel':
          return 'cancelled';
        default:
          return illegal('stage', state, event);
      }
    case 'succeeded':
    case 'ignored':
    case 'rolled_back':
    case 'failed':
    case 'skipped':
    case 'cancelled':
    case 'rejected':
      return illegal('stage', state, event);
    default:
      return assertNever(state);
  }
}

export function jobTransition(state: JobState, event: JobEvent): JobState {
  switch (state) {
    case 'queued':
      if (event.type === 'lease') return 'leased';
      if (event.type === 'finish' && event.result !== 'succeeded') return event.result;
      return illegal('job', state, event);
    case 'leased':
      if (event.type === 'requeue') return 'queued';
      if (event.type === 'finish') return event.result;
      return illegal('job', state, event);
    case 'succeeded':
    case 'failed':
    case 'cancelled':
      return illegal('job', state, event);
    default:
      return assertNever(state);
  }
}

export function stepTransition(state: StepState, event: StepEvent): StepState {
  switch (state) {
    case 'pending':
      if (event.type === 'start') return 'running';
      if (event.type === 'skip') return 'skipped';
      if (event.type === 'finish' && event.result !== 'succeeded') return event.result;
      return illegal('step', state, event);
    case 'running':
      if (event.type === 'finish') return event.result;
      return illegal('step', state, event);
    case 'succeeded':
    case 'failed':
    case 'skipped':
    case 'cancelled':
      return illegal('step', state, event);
    default:
      return assertNever(state);
  }
}
