// Comparison operators evaluated inline. They are the commonest calls in policies and
// never fail, so skipping the argument array and the builtin's error handling is safe.
// Matched by definition identity: a caller-supplied replacement is still called.
import { builtins } from '../builtins/index.ts';
import type { BuiltinDef } from '../builtins/types.ts';
import { compare, equal, type Value } from '../value.ts';

export type Comparison = (x: Value, y: Value) => boolean;

const ops: [string, Comparison][] = [
  ['equal', (x, y) => equal(x, y)],
  ['neq', (x, y) => !equal(x, y)],
  ['lt', (x, y) => compare(x, y) < 0],
  ['lte', (x, y) => compare(x, y) <= 0],
  ['gt', (x, y) => compare(x, y) > 0],
  ['gte', (x, y) => compare(x, y) >= 0],
];

const byDef = new Map<BuiltinDef, Comparison>();
for (const [name, op] of ops) {
  const d = builtins[name];
  if (d) byDef.set(d, op);
}

export function comparison(def: BuiltinDef): Comparison | undefined {
  return byDef.get(def);
}
