import {
  compile,
  RegoCompileErrors,
  RegoError,
  runModuleTests,
  type PreparedQuery,
} from '@custody/rego';
import { DomainError } from '../../platform/errors.ts';
import { policyErrors as E } from './errors.ts';
import { refuseForbidden, restricted } from './policy-builtins.ts';
import { packageOf, type PolicySpec } from './policy-spec.ts';

type RegoFile = PolicySpec['modules'][number];

export interface CompiledPolicy {
  readonly deny: PreparedQuery;
  readonly warn: PreparedQuery;
  readonly timeoutMs: number;
}

export interface PolicyOutcome {
  readonly deny: string[];
  readonly warn: string[];
  readonly error?: string | undefined;
}

const sourcesOf = (files: readonly RegoFile[]) =>
  files.map((f) => {
    if (f.source === undefined)
      throw new DomainError(
        E.POLICIES_FILE_UNRESOLVED,
        `${f.name}: file ${f.file} was not resolved; apply with custody apply -f, or inline the Rego as source`,
        { file: f.name },
      );
    return { name: f.name, source: f.source };
  });

// The package a module declares (before compiling: the compiler's own errors come after).
const declaredPackage = (source: string) =>
  /^\s*package\s+([A-Za-z_][A-Za-z0-9_.]*)/m.exec(source.replace(/#.*$/gm, ''))?.[1];

// Compiles the modules with their tests and runs every `test_` rule, as `opa test` does;
// refuses with file, line and column. Modules declare `package custody.<decisionPoint>`.
export function checkPolicy(spec: PolicySpec): void {
  const modules = sourcesOf(spec.modules);
  const tests = sourcesOf(spec.tests);
  const want = packageOf(spec.decisionPoint);
  for (const m of modules) {
    const pkg = declaredPackage(m.source);
    if (pkg !== undefined && pkg !== want)
      throw new DomainError(
        E.POLICIES_PACKAGE_MISMATCH,
        `${m.name}: package ${pkg}, but decisionPoint ${spec.decisionPoint} reads package ${want}`,
        { file: m.name, package: pkg, expected: want },
      );
  }
  refuseForbidden([...modules, ...tests]);
  let outcomes;
  try {
    outcomes = runModuleTests([...modules, ...tests], {
      regoVersion: spec.regoVersion,
      timeoutMs: 1000,
      // An apply must not hold the server up: past this the remaining tests fail unrun.
      totalTimeoutMs: 10_000,
      builtins: restricted,
    });
  } catch (err) {
    throw compileError(err);
  }
  const failures = outcomes.filter((o) => !o.pass);
  if (failures.length > 0)
    throw new DomainError(
      E.POLICIES_TESTS_FAILED,
      `${failures.length} of ${outcomes.length} tests fail: ${failures
        .slice(0, 5)
        .map((f) => `${f.file}:${f.row}:${f.col}: ${f.name}: ${f.reason}`)
        .join('; ')}`,
      {
        tests: outcomes.length,
        failures: failures.map((f) => ({
          test: f.name,
          file: f.file,
          line: f.row,
          column: f.col,
          reason: f.reason,
        })),
      },
    );
}

function compileError(err: unknown): DomainError {
  if (err instanceof RegoCompileErrors) {
    const errors = err.errors.map((e) => ({
      file: e.location?.file ?? '',
      line: e.location?.row ?? 0,
      column: e.location?.col ?? 0,
      code: e.code,
      message: e.message,
    }));
    return new DomainError(
      E.POLICIES_COMPILE_FAILED,
      errors
        .slice(0, 5)
        .map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`)
        .join('; '),
      { errors },
    );
  }
  if (err instanceof RegoError)
    return new DomainError(E.POLICIES_COMPILE_FAILED, err.message, {
      errors: [{ file: '', line: 0, column: 0, code: err.code, message: err.message }],
    });
  throw err;
}

export function compilePolicy(spec: PolicySpec): CompiledPolicy {
  const prepared = compile({
    modules: sourcesOf(spec.modules),
    regoVersion: spec.regoVersion,
    builtins: restricted,
  });
  const base = `data.${packageOf(spec.decisionPoint)}`;
  return {
    deny: prepared.query(`x := ${base}.deny`),
    warn: prepared.query(`x := ${base}.warn`),
    timeoutMs: spec.timeoutMs,
  };
}

const message = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function messages(q: PreparedQuery, input: unknown, nowNs: bigint, timeoutMs: number): string[] {
  // Builtin errors raise instead of going undefined: a deny rule must never pass silently
  // because a builtin failed (fail closed).
  const r = q.eval({ input, nowNs, timeoutMs, strictBuiltinErrors: true });
  const v = r.results[0]?.bindings['x'];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map(message).sort();
}

// One policy against one input. Errors and time limits come back as `error` (the caller
// fails closed); they never throw.
export function evaluatePolicy(policy: CompiledPolicy, input: unknown, at: Date): PolicyOutcome {
  const nowNs = BigInt(at.getTime()) * 1_000_000n;
  try {
    return {
      deny: messages(policy.deny, input, nowNs, policy.timeoutMs),
      warn: messages(policy.warn, input, nowNs, policy.timeoutMs),
    };
  } catch (err) {
    return { deny: [], warn: [], error: err instanceof Error ? err.message : String(err) };
  }
}

// Compiled policies by content hash: a version never changes, so the cache never goes stale.
export class PolicyCache {
  private readonly entries = new Map<string, CompiledPolicy>();

  constructor(private readonly max = 500) {}

  get(hash: string, spec: () => PolicySpec): CompiledPolicy {
    let hit = this.entries.get(hash);
    if (!hit) {
      hit = compilePolicy(spec());
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(hash, hit);
    }
    return hit;
  }
}
