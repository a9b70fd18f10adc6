// `data` lookups: walks the rule tree and base documents together, applying `with`
// overlays, and assembles whole namespaces when a ref stops at a package.
import { hasRules, isFuncNode, type RTerm, type RuleNode } from '../compiler/ir.ts';
import { RObject, type Value } from '../value.ts';
import { findOverlay, lookup, namespaces, overlayBelow, upsert } from './documents.ts';
import { type Evaluator, type Frame, type VK } from './evaluator.ts';
import { ruleValue } from './rules.ts';
import { evalTerm, walk, walkBase } from './terms.ts';

const NOT_CACHED = Symbol('not-cached');

export function keyTerm(ev: Evaluator, p: RTerm, f: Frame): Value | undefined | typeof NOT_CACHED {
  if (p.t === 'const') return p.v;
  if (p.t === 'local') return f[p.slot] ?? NOT_CACHED;
  return NOT_CACHED;
}

export function dataWalk(
  ev: Evaluator,
  node: RuleNode | undefined,
  base: Value | undefined,
  path: RTerm[],
  i: number,
  cur: string[],
  f: Frame,
  k: VK,
): boolean {
  const ovs = ev.env.overlays;
  if (ovs) {
    const exact = findOverlay(ovs, cur);
    if (exact !== undefined) return walk(ev, exact, path, i, f, k);
  }
  if (node && hasRules(node)) {
    if (isFuncNode(node)) return false;
    const v = ruleValue(ev, node);
    return v === undefined ? false : walk(ev, v, path, i, f, k);
  }
  if (i === path.length) {
    const v = nodeValue(ev, node, base, cur);
    return v === undefined ? false : k(v);
  }
  const p = path[i] as RTerm;
  const key = keyTerm(ev, p, f);
  if (key !== NOT_CACHED) return dataStep(ev, node, base, path, i, cur, f, k, key as Value);
  if (p.t === 'local' || p.t === 'array' || p.t === 'object') {
    const full = nodeValue(ev, node, base, cur);
    return full === undefined ? false : walk(ev, full, path, i, f, k);
  }
  return evalTerm(ev, p, f, (kv) => dataStep(ev, node, base, path, i, cur, f, k, kv));
}

export function dataStep(
  ev: Evaluator,
  node: RuleNode | undefined,
  base: Value | undefined,
  path: RTerm[],
  i: number,
  cur: string[],
  f: Frame,
  k: VK,
  key: Value,
): boolean {
  const ovs = ev.env.overlays;
  const child = typeof key === 'string' ? node?.children.get(key) : undefined;
  let childBase = base === undefined ? undefined : lookup(base, key);
  // Base documents are addressed by string path segments, so data.x[2] finds key "2".
  if (childBase === undefined && base instanceof RObject && typeof key === 'number')
    childBase = base.get(String(key));
  if (child || (ovs && typeof key === 'string' && overlayBelow(ovs, cur, key)))
    return dataWalk(ev, child, childBase, path, i + 1, ovs ? [...cur, key as string] : cur, f, k);
  if (childBase === undefined) return false;
  return walkBase(ev, childBase, path, i + 1, f, k);
}

/** Value of a namespace (package) node: base data merged with its rules' values. */
export function nodeValue(
  ev: Evaluator,
  node: RuleNode | undefined,
  base: Value | undefined,
  cur: string[],
): Value | undefined {
  if (node && hasRules(node)) return isFuncNode(node) ? undefined : ruleValue(ev, node);
  const ovs = ev.env.overlays;
  if (node && !ovs) {
    const c = ev.env.nsCache.get(node);
    if (c !== undefined) return c;
  }
  let out: Value | undefined;
  if (!node) out = base;
  else {
    const o = base instanceof RObject ? base.copy() : new RObject();
    namespaces.add(o);
    for (const [name, child] of node.children) {
      const cv = nodeValue(ev, child, base instanceof RObject ? base.get(name) : undefined, [
        ...cur,
        name,
      ]);
      if (cv !== undefined) o.set(name, cv);
    }
    out = o;
  }
  if (ovs) {
    for (const ov of ovs) {
      if (ov.path.length < cur.length || !cur.every((c, j) => ov.path[j] === c)) continue;
      if (ov.path.length === cur.length) out = ov.value;
      else out = upsert(out, ov.path.slice(cur.length), ov.value);
    }
  }
  if (node && !ovs && out !== undefined) ev.env.nsCache.set(node, out);
  return out;
}
