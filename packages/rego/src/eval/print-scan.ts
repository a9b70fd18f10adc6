// `print` has a side effect, so closures that may re-run a term (a fallback after
// MULTI) or stop a rule early must know whether a `print` can be reached.
import type { RTerm } from '../compiler/ir.ts';

/** print has a side effect, so it must not run again when falling back. */
export function containsPrint(t: RTerm): boolean {
  switch (t.t) {
    case 'call':
      return t.fn.name === 'print' || t.args.some(containsPrint);
    case 'ref':
      return containsPrint(t.head) || t.path.some(containsPrint);
    case 'input':
    case 'data':
      return t.path.some(containsPrint);
    case 'array':
    case 'set':
      return t.items.some(containsPrint);
    case 'object':
      return t.items.some(([a, b]) => containsPrint(a) || containsPrint(b));
    case 'template':
      return t.parts.some((p) => typeof p !== 'string' && containsPrint(p));
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      return mentionsPrint(t);
    default:
      return false;
  }
}

/** Conservative deep scan of an IR subtree for a `print` call. */
export function mentionsPrint(ir: unknown): boolean {
  const seen = new Set<object>();
  const visit = (x: unknown): boolean => {
    if (typeof x !== 'object' || x === null || seen.has(x)) return false;
    seen.add(x);
    if (Array.isArray(x)) return x.some(visit);
    if (Object.getPrototypeOf(x) !== Object.prototype) return false;
    const o = x as Record<string, unknown>;
    if (o.t === 'call' && (o.fn as { name?: string } | undefined)?.name === 'print') return true;
    return Object.values(o).some(visit);
  };
  return visit(ir);
}
