// String builtins. Indexes and lengths count Unicode code points, as OPA does.
import { builtinError, typeError } from '../errors.ts';
import { RObject, RSet, type Value } from '../value.ts';
import { arr, collection, int, num, obj, operandErr, str } from './helpers.ts';
import { renderTemplate } from './go-template.ts';
import { sprintf } from './sprintf.ts';
import { def, type BuiltinTable } from './types.ts';

function chars(s: string): string[] {
  return [...s];
}

function trimSet(s: string, cut: string, left: boolean, right: boolean): string {
  const set = new Set(chars(cut));
  const cs = chars(s);
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && set.has(cs[a] as string)) a++;
  if (right) while (b > a && set.has(cs[b - 1] as string)) b--;
  return cs.slice(a, b).join('');
}

function stringsOrSingle(args: Value[], i: number): string[] {
  const v = args[i] as Value;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) || v instanceof RSet) {
    const items = Array.isArray(v) ? v : v.values();
    return items.map((x) => {
      if (typeof x !== 'string')
        throw typeError(
          `operand ${i + 1} must be ${Array.isArray(v) ? 'array' : 'set'} of strings but got ${Array.isArray(v) ? 'array' : 'set'} containing ${typeName(x)}`,
        );
      return x;
    });
  }
  throw operandErr(i, 'one of {string, set, array}', v);
}

function typeName(x: Value): string {
  if (x === null) return 'null';
  if (typeof x === 'number' || typeof x === 'bigint') return 'number';
  if (Array.isArray(x)) return 'array';
  if (x instanceof RObject) return 'object';
  if (x instanceof RSet) return 'set';
  return typeof x;
}

function formatInt(n: number | bigint, base: number): string {
  // Fractions truncate toward zero, as OPA's big.Int conversion does.
  const v = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
  return v.toString(base);
}

export const stringBuiltins: BuiltinTable = {
  concat: def('concat', 2, (a) => {
    const d = str(a, 0);
    const items = collection(a, 1, 'one of {array, set}');
    return items
      .map((x) => {
        if (typeof x !== 'string') throw operandErr(1, 'one of {array, set} of strings', x);
        return x;
      })
      .join(d);
  }),
  contains: def('contains', 2, (a) => str(a, 0).includes(str(a, 1))),
  startswith: def('startswith', 2, (a) => str(a, 0).startsWith(str(a, 1))),
  endswith: def('endswith', 2, (a) => str(a, 0).endsWith(str(a, 1))),
  lower: def('lower', 1, (a) => str(a, 0).toLowerCase()),
  upper: def('upper', 1, (a) => str(a, 0).toUpperCase()),
  split: def('split', 2, (a) => {
    const s = str(a, 0);
    const d = str(a, 1);
    if (d === '') return chars(s);
    return s.split(d);
  }),
  replace: def('replace', 3, (a) => {
    const s = str(a, 0);
    const old = str(a, 1);
    const nw = str(a, 2);
    if (old === '') return chars(s).join(nw).replace(/^/, nw) + (s.length ? nw : '');
    return s.split(old).join(nw);
  }),
  'strings.replace_n': def('strings.replace_n', 2, (a) => {
    const patterns = obj(a, 0);
    let s = str(a, 1);
    const pairs: [string, string][] = [];
    for (const [k, v] of patterns.entries()) {
      if (typeof k !== 'string')
        throw typeError('operand 1 non-string key found in pattern object');
      if (typeof v !== 'string')
        throw typeError('operand 1 non-string value found in pattern object');
      pairs.push([k, v]);
    }
    // Go's strings.NewReplacer: leftmost match, earlier pattern wins on ties.
    let out = '';
    let i = 0;
    while (i < s.length) {
      let hit: [string, string] | undefined;
      for (const p of pairs)
        if (p[0] !== '' && s.startsWith(p[0], i)) {
          hit = p;
          break;
        }
      if (hit) {
        out += hit[1];
        i += hit[0].length;
      } else out += s[i++];
    }
    s = out;
    return s;
  }),
  trim: def('trim', 2, (a) => trimSet(str(a, 0), str(a, 1), true, true)),
  trim_left: def('trim_left', 2, (a) => trimSet(str(a, 0), str(a, 1), true, false)),
  trim_right: def('trim_right', 2, (a) => trimSet(str(a, 0), str(a, 1), false, true)),
  trim_prefix: def('trim_prefix', 2, (a) => {
    const s = str(a, 0);
    const p = str(a, 1);
    return s.startsWith(p) ? s.slice(p.length) : s;
  }),
  trim_suffix: def('trim_suffix', 2, (a) => {
    const s = str(a, 0);
    const p = str(a, 1);
    return p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  }),
  trim_space: def('trim_space', 1, (a) =>
    str(a, 0).replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/gu, ''),
  ),
  indexof: def('indexof', 2, (a) => {
    const s = chars(str(a, 0));
    const sub = chars(str(a, 1));
    if (sub.length === 0) return 0;
    for (let i = 0; i + sub.length <= s.length; i++) {
      let ok = true;
      for (let j = 0; j < sub.length; j++)
        if (s[i + j] !== sub[j]) {
          ok = false;
          break;
        }
      if (ok) return i;
    }
    return -1;
  }),
  indexof_n: def('indexof_n', 2, (a) => {
    const s = chars(str(a, 0));
    const sub = chars(str(a, 1));
    const out: Value[] = [];
    if (sub.length === 0) return out;
    for (let i = 0; i + sub.length <= s.length; i++) {
      let ok = true;
      for (let j = 0; j < sub.length; j++)
        if (s[i + j] !== sub[j]) {
          ok = false;
          break;
        }
      if (ok) out.push(i);
    }
    return out;
  }),
  substring: def('substring', 3, (a) => {
    const s = chars(str(a, 0));
    const start = int(a, 1);
    const len = int(a, 2);
    if (start < 0) throw builtinError('negative offset');
    if (start >= s.length) return '';
    if (len < 0) return s.slice(start).join('');
    return s.slice(start, start + len).join('');
  }),
  'strings.reverse': def('strings.reverse', 1, (a) => chars(str(a, 0)).reverse().join('')),
  reverse: def('reverse', 1, (a) => chars(str(a, 0)).reverse().join('')),
  'strings.count': def('strings.count', 2, (a) => {
    const s = str(a, 0);
    const sub = str(a, 1);
    if (sub === '') return chars(s).length + 1;
    return s.split(sub).length - 1;
  }),
  'strings.any_prefix_match': def('strings.any_prefix_match', 2, (a) => {
    const ss = stringsOrSingle(a, 0);
    const ps = stringsOrSingle(a, 1);
    return ss.some((s) => ps.some((p) => s.startsWith(p)));
  }),
  'strings.any_suffix_match': def('strings.any_suffix_match', 2, (a) => {
    const ss = stringsOrSingle(a, 0);
    const ps = stringsOrSingle(a, 1);
    return ss.some((s) => ps.some((p) => s.endsWith(p)));
  }),
  format_int: def('format_int', 2, (a) => {
    const n = num(a, 0);
    const base = int(a, 1);
    if (![2, 8, 10, 16].includes(base)) throw typeError('operand 2 must be one of {2, 8, 10, 16}');
    return formatInt(n, base);
  }),
  sprintf: def('sprintf', 2, (a) => sprintf(str(a, 0), arr(a, 1))),
  'strings.render_template': def('strings.render_template', 2, (a) =>
    renderTemplate(str(a, 0), obj(a, 1)),
  ),
};
