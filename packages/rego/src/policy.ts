// Public API: compile modules once, then evaluate queries against input and data.
import { builtins as defaultBuiltins } from './builtins/index.ts';
import type { BuiltinTable } from './builtins/types.ts';
import {
  compileModules,
  compileQueryText,
  type CompiledPolicy,
  type ModuleSource,
} from './compiler/index.ts';
import type { CompiledQuery } from './compiler/ir.ts';
import { RegoError } from './errors.ts';
import { Evaluator, type EvalLimits, type Frame } from './eval/evaluator.ts';
import { inputValue } from './eval/input.ts';
import { RObject, toJS, type JSONValue, type Value } from './value.ts';

export interface CompileOptions {
  modules: ModuleSource[];
  regoVersion?: 'v1' | 'v0';
  /** Enables experimental keywords (`and`, `or`) without imports. */
  experimental?: boolean;
  /** Extra or replacement builtins. */
  builtins?: BuiltinTable;
}

export interface EvalOptions extends EvalLimits {
  /** Plain JSON-like data, or Rego values from `fromJS`. Omit for no input. */
  input?: unknown;
  /** Base documents under `data`. */
  data?: unknown;
  /** Query text; defaults to the query given to `query()`. */
  query?: string;
  /** Raise builtin errors instead of treating them as undefined (like `opa eval --strict-builtin-errors`). */
  strictBuiltinErrors?: boolean;
  /** Fixes `time.now_ns()` for reproducible evaluation. */
  nowNs?: bigint;
  print?: (msg: string) => void;
}

export interface QueryResult {
  /** Query variables bound by this solution, as JSON-like data (sets become sorted arrays). */
  bindings: Record<string, JSONValue>;
  /** The same bindings as Rego values. */
  values: Record<string, Value>;
}

export interface EvalResult {
  results: QueryResult[];
  /** True when the query had at least one solution. */
  defined: boolean;
}

/** Default limits keep a runaway policy from hanging the host. */
export const DEFAULT_LIMITS: Required<EvalLimits> = { maxSteps: 10_000_000, timeoutMs: 10_000 };

export class PreparedQuery {
  constructor(
    private readonly policy: PreparedPolicy,
    readonly compiled: CompiledQuery,
  ) {}

  eval(opts: Omit<EvalOptions, 'query'> = {}): EvalResult {
    return this.policy.run(this.compiled, opts);
  }
}

export class PreparedPolicy {
  private readonly queries = new Map<string, PreparedQuery>();
  constructor(readonly compiled: CompiledPolicy) {}

  /** Compiles a query (cached by text). */
  query(text: string): PreparedQuery {
    let q = this.queries.get(text);
    if (!q) {
      q = new PreparedQuery(this, compileQueryText(this.compiled, text));
      this.queries.set(text, q);
    }
    return q;
  }

  eval(opts: EvalOptions & { query: string }): EvalResult {
    return this.query(opts.query).eval(opts);
  }

  run(q: CompiledQuery, opts: Omit<EvalOptions, 'query'>): EvalResult {
    const data = opts.data === undefined ? new RObject() : inputValue(opts.data);
    const ev = new Evaluator(this.compiled, {
      input: opts.input === undefined ? undefined : inputValue(opts.input),
      data,
      strictBuiltinErrors: opts.strictBuiltinErrors ?? false,
      maxSteps: opts.maxSteps ?? DEFAULT_LIMITS.maxSteps,
      timeoutMs: opts.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
      ...(opts.nowNs !== undefined ? { nowNs: opts.nowNs } : {}),
      ...(opts.print ? { print: opts.print } : {}),
    });
    const results: QueryResult[] = [];
    const f: Frame = new Array(q.nslots);
    try {
      ev.evalBody(q.body, f, () => {
        const bindings: Record<string, JSONValue> = {};
        const values: Record<string, Value> = {};
        for (const o of q.outputs) {
          const v = f[o.slot];
          if (v === undefined) continue;
          values[o.name] = v;
          bindings[o.name] = toJS(v);
        }
        results.push({ bindings, values });
        return false;
      });
    } catch (e) {
      if (e instanceof RangeError && /call stack/.test(e.message))
        throw new RegoError(
          'eval_limit_exceeded',
          'evaluation stopped: maximum recursion depth exceeded',
        );
      throw e;
    }
    return { results, defined: results.length > 0 };
  }
}

/** Compiles Rego modules; throws RegoCompileErrors (code rego_parse_error, rego_compile_error, …) on failure. */
export function compile(opts: CompileOptions): PreparedPolicy {
  const builtins = opts.builtins ? { ...defaultBuiltins, ...opts.builtins } : defaultBuiltins;
  return new PreparedPolicy(
    compileModules({
      modules: opts.modules,
      regoVersion: opts.regoVersion ?? 'v1',
      builtins,
      experimental: opts.experimental ?? false,
    }),
  );
}
