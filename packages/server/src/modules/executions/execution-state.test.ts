import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  jobTransition,
  runTransition,
  stageTransition,
  stepTransition,
  terminalJobStates,
  terminalRunStates,
  terminalStageStates,
} from './execution-state.ts';

describe('execution state machines', () => {
  it('runs: queued → running → a result; nothing leaves a final state', () => {
    expect(runTransition('queued', { type: 'start' })).toBe('running');
    expect(runTransition('running', { type: 'finish', result: 'failed' })).toBe('failed');
    expect(runTransition('queued', { type: 'finish', result: 'cancelled' })).toBe('cancelled');
    expect(() => runTransition('queued', { type: 'finish', result: 'succeeded' })).toThrow(
      IllegalTransitionError,
    );
    for (const s of terminalRunStates)
      expect(() => runTransition(s, { type: 'start' })).toThrow(IllegalTransitionError);
  });

  it('stages: waiting for an environment, retry, rollback, and final states', () => {
    expect(stageTransition('pending', { type: 'wait-for-environment' })).toBe('waiting');
    expect(stageTransition('waiting', { type: 'start' })).toBe('running');
    expect(stageTransition('running', { type: 'retry' })).toBe('running');
    expect(stageTransition('running', { type: 'roll-back' })).toBe('rolling_back');
    expect(stageTransition('rolling_back', { type: 'finish', result: 'rolled_back' })).toBe(
      'rolled_back',
    );
    expect(() => stageTransition('running', { type: 'finish', result: 'rolled_back' })).toThrow(
      IllegalTransitionError,
    );
    expect(() => stageTransition('rolling_back', { type: 'finish', result: 'succeeded' })).toThrow(
      IllegalTransitionError,
    );
    expect(() => stageTransition('waiting', { type: 'skip' })).toThrow(IllegalTransitionError);
    for (const s of terminalStageStates)
      expect(() => stageTransition(s, { type: 'cancel' })).toThrow(IllegalTransitionError);
  });

  it('jobs: a lost lease requeues; a queued job cannot succeed without running', () => {
    expect(jobTransition('queued', { type: 'lease' })).toBe('leased');
    expect(jobTransition('leased', { type: 'requeue' })).toBe('queued');
    expect(jobTransition('queued', { type: 'finish', result: 'failed' })).toBe('failed');
    expect(() => jobTransition('queued', { type: 'finish', result: 'succeeded' })).toThrow(
      IllegalTransitionError,
    );
    expect(() => jobTransition('queued', { type: 'requeue' })).toThrow(IllegalTransitionError);
    for (const s of terminalJobStates)
      expect(() => jobTransition(s, { type: 'lease' })).toThrow(IllegalTransitionError);
  });

  it('steps: start once, finish once', () => {
    expect(stepTransition('pending', { type: 'start' })).toBe('running');
    expect(stepTransition('running', { type: 'finish', result: 'succeeded' })).toBe('succeeded');
    expect(() => stepTransition('running', { type: 'start' })).toThrow(IllegalTransitionError);
    expect(() => stepTransition('succeeded', { type: 'finish', result: 'failed' })).toThrow(
      IllegalTransitionError,
    );
  });
});
