// Frame bindings: variables are slots in a per-rule array, bound while the rest of the
// body runs and cleared again when it returns (backtracking), with no allocation.
import type { RTerm } from '../compiler/ir.ts';
import { equal, type Value } from '../value.ts';
import type { Evaluator, Frame, K } from './evaluator.ts';
import { unifyTV } from './unify.ts';

/** A compiled body (or body suffix): runs `k` once per solution, true stops. */
export type Run = (ev: Evaluator, f: Frame, k: K) => boolean;
/** Matches a value against a pattern term, then runs the successor. */
export type Bind = (ev: Evaluator, f: Frame, k: K, v: Value) => boolean;

export const DONE: Run = (_ev, _f, k) => k();
export const STOP: Run = () => true;

export function bindSlot(
  ev: Evaluator,
  f: Frame,
  k: K,
  v: Value,
  slot: number,
  next: Run,
): boolean {
  const cur = f[slot];
  if (cur !== undefined) return equal(cur, v) && next(ev, f, k);
  // No try/finally: an exception abandons the whole evaluation, frame included.
  f[slot] = v;
  const stop = next(ev, f, k);
  f[slot] = undefined;
  return stop;
}

export function compileBind(t: RTerm, next: Run): Bind {
  if (t.t === 'local') {
    const slot = t.slot;
    return (ev, f, k, v) => bindSlot(ev, f, k, v, slot, next);
  }
  if (t.t === 'const') {
    const c = t.v;
    return (ev, f, k, v) => equal(c, v) && next(ev, f, k);
  }
  return (ev, f, k, v) => unifyTV(ev, t, v, f, () => next(ev, f, k));
}
