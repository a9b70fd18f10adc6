// Runs `test_` rules like `opa test`: each test passes when its rule is defined and true.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BuiltinTable } from './builtins/types.ts';
import type { RuleNode } from './compiler/ir.ts';
import { RegoError } from './errors.ts';
import { compile } from './policy.ts';

export interface TestOutcome {
  /** Full rule path, e.g. `data.pipeline.test_deny_curl`. */
  name: string;
  file: string;
  row: number;
  col: number;
  pass: boolean;
  /** Why a test failed: undefined/false result, or the error message. */
  reason: string;
  durationMs: number;
}

export function findRegoFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else if (name.endsWith('.rego')) out.push(p);
    }
  };
  if (statSync(dir).isDirectory()) visit(dir);
  else out.push(dir);
  return out;
}

type TestRule = { path: string[]; file: string; row: number; col: number };

function testRules(root: RuleNode): TestRule[] {
  const out: TestRule[] = [];
  const visit = (n: RuleNode): void => {
    const last = n.path[n.path.length - 1];
    const rule = n.complete[0];
    if (last?.startsWith('test_') && rule)
      out.push({ path: n.path, file: rule.loc.file, row: rule.loc.row, col: rule.loc.col });
    for (const c of n.children.values()) visit(c);
  };
  visit(root);
  return out;
}

/** Compiles every .rego file under `dir` and evaluates each `test_` rule. Compile
 * errors are thrown (as RegoCompileErrors) since no test can run. */
export function runPolicyTests(
  dir: string,
  opts: { regoVersion?: 'v0' | 'v1'; data?: unknown } = {},
): TestOutcome[] {
  const files = findRegoFiles(dir);
  return runModuleTests(
    files.map((f) => ({
      name: path.relative(process.cwd(), f) || f,
      source: readFileSync(f, 'utf8'),
    })),
    opts,
  );
}

/** The same over modules held in memory (a policy resource's sources). */
export function runModuleTests(
  modules: readonly { name: string; source: string }[],
  opts: {
    regoVersion?: 'v0' | 'v1';
    data?: unknown;
    timeoutMs?: number;
    // All tests together: past it, the rest fail unrun (a server must not be held up).
    totalTimeoutMs?: number;
    builtins?: BuiltinTable;
  } = {},
): TestOutcome[] {
  const policy = compile({
    modules: [...modules],
    regoVersion: opts.regoVersion ?? 'v1',
    ...(opts.builtins ? { builtins: opts.builtins } : {}),
  });
  const outcomes: TestOutcome[] = [];
  const began = performance.now();
  for (const t of testRules(policy.compiled.root)) {
    const name =
      'data.' +
      t.path.map((p) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? p : JSON.stringify(p))).join('.');
    const start = performance.now();
    if (opts.totalTimeoutMs !== undefined && start - began > opts.totalTimeoutMs) {
      outcomes.push({
        name,
        file: t.file,
        row: t.row,
        col: t.col,
        pass: false,
        reason: `not run: the tests took longer than ${opts.totalTimeoutMs} ms in all`,
        durationMs: 0,
      });
      continue;
    }
    let pass = false;
    let reason = '';
    try {
      const r = policy
        .query(`x := ${name}`)
        .eval({ data: opts.data ?? {}, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
      const v = r.results[0]?.values['x'];
      pass = v === true;
      if (!pass)
        reason =
          v === undefined
            ? 'undefined'
            : `result was ${JSON.stringify(r.results[0]?.bindings['x'])}`;
    } catch (e) {
      reason = e instanceof RegoError ? e.message : String(e);
    }
    outcomes.push({
      name,
      file: t.file,
      row: t.row,
      col: t.col,
      pass,
      reason,
      durationMs: performance.now() - start,
    });
  }
  return outcomes;
}
