// Test helper: evaluates one Rego expression with strict builtin errors, so unit
// tests can assert both values and error texts.
import type { JSONValue } from '../value.ts';
import { compile } from '../policy.ts';

export function evalExpr(expr: string, input?: unknown): JSONValue | undefined {
  const policy = compile({ modules: [{ name: 't.rego', source: `package t\nx := ${expr}\n` }] });
  const r = policy.eval({ query: 'data.t.x = v', strictBuiltinErrors: true, input });
  return r.results[0]?.bindings['v'];
}

export function evalError(expr: string): string {
  try {
    evalExpr(expr);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return '';
}
