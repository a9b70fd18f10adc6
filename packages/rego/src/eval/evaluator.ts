// Evaluation state for one query: input and data, the `with` environment, rule
// caches, limits and the builtin context. Bodies run as compiled closures
// (body-closures.ts); the interpreter for rarer forms lives in expressions.ts,
// unify.ts, terms.ts, data.ts, rules.ts and calls.ts, all taking this state.
import type { Loc } from '../ast.ts';
import type { BuiltinCtx } from '../builtins/types.ts';
import type { CompiledPolicy } from '../compiler/index.ts';
import type { FnRef, RExpr, RuleNode } from '../compiler/ir.ts';
import { RegoError } from '../errors.ts';
import type { Value } from '../value.ts';
import { compiledBody } from './body-closures.ts';
import type { Overlay } from './documents.ts';

export type Frame = (Value | undefined)[];
export type K = () => boolean;
export type VK = (v: Value) => boolean;

export type Mock = { fn: FnRef } | { value: Value };

export interface Env {
  input: Value | undefined;
  data: Value;
  overlays: Overlay[] | undefined;
  mocks: Map<string, Mock> | undefined;
  cache: Map<RuleNode, Value | typeof UNDEF>;
  nsCache: Map<RuleNode, Value>;
}

export interface EvalLimits {
  /** Maximum number of evaluated expressions before `eval_limit_exceeded`. */
  maxSteps?: number;
  /** Wall-clock budget in milliseconds. */
  timeoutMs?: number;
}

export interface EvalSettings extends EvalLimits {
  input: Value | undefined;
  data: Value;
  strictBuiltinErrors?: boolean;
  nowNs?: bigint;
  print?: (msg: string) => void;
}

/** Cached result of a rule that is undefined. */
export const UNDEF = Symbol('undefined');
const CLOCK_EVERY = 1024;

export class Evaluator {
  env: Env;
  steps = 0;
  /** Step count at which limits are checked next. */
  checkAt: number;
  readonly maxSteps: number;
  readonly deadline: number;
  readonly strict: boolean;
  readonly ctx: BuiltinCtx;
  readonly nodeCache = new Map<string, RuleNode | undefined>();
  readonly inProgress = new Set<RuleNode>();

  constructor(
    readonly policy: CompiledPolicy,
    s: EvalSettings,
  ) {
    this.env = {
      input: s.input,
      data: s.data,
      overlays: undefined,
      mocks: undefined,
      cache: new Map(),
      nsCache: new Map(),
    };
    this.maxSteps = s.maxSteps ?? Infinity;
    this.checkAt = Math.min(this.maxSteps, CLOCK_EVERY);
    this.deadline = s.timeoutMs !== undefined ? Date.now() + s.timeoutMs : Infinity;
    this.strict = s.strictBuiltinErrors ?? false;
    const print = s.print ?? ((m: string) => process.stderr.write(m + '\n'));
    this.ctx = {
      nowNs: s.nowNs ?? BigInt(Date.now()) * 1000000n,
      cache: new Map(),
      print,
    };
  }

  evalBody(body: RExpr[], f: Frame, k: K): boolean {
    return compiledBody(body, this.policy.root)(this, f, k);
  }

  /** Called when the step counter passes `checkAt`: enforces the step limit and,
   * every CLOCK_EVERY steps, the deadline (reading the clock is not free). */
  checkLimits(loc: Loc): void {
    if (this.steps > this.maxSteps) this.limit(loc);
    if (Date.now() > this.deadline) this.limit(loc);
    this.checkAt = Math.min(this.maxSteps, this.steps + CLOCK_EVERY);
  }

  limit(loc: Loc): never {
    const what =
      this.steps > this.maxSteps
        ? `step limit of ${this.maxSteps} exceeded`
        : 'time limit exceeded';
    throw new RegoError('eval_limit_exceeded', `evaluation stopped: ${what}`, loc);
  }
}
