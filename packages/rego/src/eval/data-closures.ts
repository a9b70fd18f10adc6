// `data.…` refs as closures: follow the rule tree while keys name rule nodes,
// evaluate (and memoize) a rule once the path reaches one, then walk base documents.
// `with` overlays and whole-namespace values are left to the interpreter.
import { hasRules, isFuncNode, type RTerm, type RuleNode } from '../compiler/ir.ts';
import { RObject, type Value } from '../value.ts';
import { lookup } from './documents.ts';
import type { Evaluator, Frame } from './evaluator.ts';
import { ruleValue } from './rules.ts';
import { MULTI, compileAll, type One } from './term-closures.ts';

/**
 * Walks `data`: follows the rule tree while keys name rule nodes, evaluating a rule
 * once the path reaches one, and base documents below. Overlays from `with` and
 * whole-namespace values are left to the interpreter.
 */
export function compileData(path: RTerm[], root: RuleNode): One | undefined {
  const keys = compileAll(path, root);
  if (!keys) return undefined;
  const n = keys.length;
  const consts = path.map((p) => (p.t === 'const' ? p.v : undefined));
  return (ev, f) => {
    if (ev.env.overlays) return MULTI;
    let node = root;
    let base: Value | undefined = ev.env.data;
    for (let i = 0; ; i++) {
      if (hasRules(node)) {
        if (isFuncNode(node)) return undefined;
        const v = ruleValue(ev, node);
        return v === undefined ? undefined : restOf(ev, f, keys, i, v, false);
      }
      if (i === n) return MULTI;
      const key = (keys[i] as One)(ev, f);
      if (key === undefined || key === MULTI) return key;
      const child = typeof key === 'string' ? node.children.get(key) : undefined;
      let childBase: Value | undefined = base === undefined ? undefined : lookup(base, key);
      // Base documents are addressed by string path segments, so data.x[2] finds key "2".
      if (childBase === undefined && base instanceof RObject && typeof key === 'number')
        childBase = base.get(String(key));
      if (child) {
        node = child;
        base = childBase;
        continue;
      }
      if (childBase === undefined) return undefined;
      return restOf(ev, f, keys, i + 1, childBase, true, consts);
    }
  };
}

/** The rest of a data path; `asBase` keeps numeric keys finding string keys while
 * segments stay constant, as the interpreter's base-document walk does. */
export function restOf(
  ev: Evaluator,
  f: Frame,
  keys: One[],
  i: number,
  v: Value,
  asBase: boolean,
  consts?: (Value | undefined)[],
): Value | undefined | typeof MULTI {
  let cur: Value | undefined = v;
  let base = asBase;
  for (let j = i; j < keys.length; j++) {
    if (base && consts?.[j] === undefined) base = false;
    const key = (keys[j] as One)(ev, f);
    if (key === undefined || key === MULTI) return key;
    let next: Value | undefined = lookup(cur, key);
    if (next === undefined && base && cur instanceof RObject && typeof key === 'number')
      next = cur.get(String(key));
    if (next === undefined) return undefined;
    cur = next;
  }
  return cur;
}
