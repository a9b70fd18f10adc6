// Shape of a builtin function and the context the evaluator passes to it.
import type { Value } from '../value.ts';

export interface BuiltinCtx {
  /** Wall clock for the whole evaluation, in nanoseconds (time.now_ns is stable per query). */
  nowNs: bigint;
  /** Per-evaluation cache for builtins that want it (e.g. compiled regexes live globally). */
  cache: Map<string, unknown>;
  /** Calls back into the evaluator for higher-order helpers (none yet). */
  print: (msg: string) => void;
}

export interface BuiltinDef {
  name: string;
  /** Number of operands; -1 for variadic (print). */
  arity: number;
  fn: (args: Value[], ctx: BuiltinCtx) => Value | undefined;
  /** Relation builtins (walk) yield several results. */
  relation?: (args: Value[], ctx: BuiltinCtx) => Value[];
  /** With a constant first operand (a regex pattern), the work that depends only on it is
   * done once at compile time; the result takes the remaining operands. Undefined when the
   * constant is not usable (the call then goes through `fn` and reports the error). */
  withConstFirst?: (
    first: Value,
  ) => ((rest: Value[], ctx: BuiltinCtx) => Value | undefined) | undefined;
}

export type BuiltinTable = Record<string, BuiltinDef>;

export function def(
  name: string,
  arity: number,
  fn: (args: Value[], ctx: BuiltinCtx) => Value | undefined,
): BuiltinDef {
  return { name, arity, fn };
}
