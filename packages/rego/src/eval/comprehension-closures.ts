// Comprehensions as closures: the body runs once per solution and its collection is
// the term's single value.
import type { RTerm, RuleNode } from '../compiler/ir.ts';
import { RegoError } from '../errors.ts';
import { RObject, RSet, equal, type Value } from '../value.ts';
import { compiledBody } from './body-closures.ts';
import { compiledTerm, eachValue, type One } from './term-closures.ts';

/** A comprehension always has exactly one value: the collection its body builds. */
export function compileComprehension(
  t: RTerm & { t: 'arraycompr' | 'setcompr' | 'objectcompr' },
  root: RuleNode,
): One {
  const body = compiledBody(t.body, root);
  if (t.t === 'objectcompr') {
    const key = compiledTerm(t.key, root);
    const val = compiledTerm(t.value, root);
    return (ev, f) => {
      const out = new RObject();
      body(ev, f, () =>
        eachValue(ev, f, key, (k) =>
          eachValue(ev, f, val, (v) => {
            const prev = out.get(k);
            if (prev !== undefined && !equal(prev, v))
              throw new RegoError('eval_conflict_error', 'object keys must be unique');
            out.set(k, v);
            return false;
          }),
        ),
      );
      return out;
    };
  }
  const term = compiledTerm(t.term, root);
  if (t.t === 'setcompr')
    return (ev, f) => {
      const out = new RSet();
      body(ev, f, () => eachValue(ev, f, term, (v) => (out.add(v), false)));
      return out;
    };
  return (ev, f) => {
    const out: Value[] = [];
    body(ev, f, () => eachValue(ev, f, term, (v) => (out.push(v), false)));
    return out;
  };
}
