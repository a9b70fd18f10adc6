// regex.* (RE2 semantics through re2js) and glob.* builtins.
import { RE2JS } from 're2js';
import { builtinError } from '../errors.ts';
import { RSet, type Value } from '../value.ts';
import { int, operandErr, str } from './helpers.ts';
import { mayMatch, requiredLiterals, type Required } from './regex-prefilter.ts';
import { def, type BuiltinTable } from './types.ts';

const cache = new Map<string, RE2JS>();
const prefilters = new Map<string, { re: RE2JS; required: Required | null }>();

// regex.match: RE2 runs only on strings that hold the literals the pattern cannot match
// without (regex-prefilter.ts); the answer is the same, most non-matches cost a substring scan.
function matcherOf(pattern: string): { re: RE2JS; required: Required | null } {
  let entry = prefilters.get(pattern);
  if (entry === undefined) {
    entry = { re: compileRe(pattern), required: requiredLiterals(pattern) };
    if (prefilters.size > 1000) prefilters.clear();
    prefilters.set(pattern, entry);
  }
  return entry;
}

// A constant pattern is compiled with the policy, not looked up on every call.
function withConstFirst(pattern: Value): ((rest: Value[]) => Value | undefined) | undefined {
  if (typeof pattern !== 'string') return undefined;
  let entry;
  try {
    entry = matcherOf(pattern);
  } catch {
    return undefined;
  }
  const { re, required } = entry;
  return (rest) => {
    const s = rest[0];
    if (typeof s !== 'string') throw operandErr(1, 'string', s as Value);
    if (required !== null && !mayMatch(required, s)) return false;
    return re.test(s);
  };
}

function matches(pattern: string, s: string): boolean {
  const entry = matcherOf(pattern);
  if (entry.required !== null && !mayMatch(entry.required, s)) return false;
  return entry.re.test(s);
}

export function compileRe(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw builtinError(`error parsing regexp: ${(e as Error).message}`);
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

function findAll(
  re: RE2JS,
  s: string,
  n: number,
): { start: number; end: number; groups: string[] }[] {
  const out: { start: number; end: number; groups: string[] }[] = [];
  const m = re.matcher(s);
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length && m.find(pos)) {
    const start = m.start();
    const end = m.end();
    // Go skips an empty match right after the previous match.
    if (start === end && start === prevEnd) {
      pos = start + 1;
      continue;
    }
    const groups: string[] = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? '');
    out.push({ start, end, groups });
    prevEnd = end;
    pos = end > start ? end : end + 1;
  }
  return out;
}

function templateMatch(tpl: string, value: string, open: string, close: string): boolean {
  let pattern = '^';
  let i = 0;
  while (i < tpl.length) {
    const s = tpl.indexOf(open, i);
    if (s < 0) {
      pattern += RE2JS.quote(tpl.slice(i));
      break;
    }
    pattern += RE2JS.quote(tpl.slice(i, s));
    const e = tpl.indexOf(close, s + open.length);
    if (e < 0) throw builtinError('unbalanced delimiters in template');
    pattern += '(?:' + tpl.slice(s + open.length, e) + ')';
    i = e + close.length;
  }
  return compileRe(pattern + '$')
    .matcher(value)
    .find();
}

// ---- glob ----

const globCache = new Map<string, RegExp>();

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function globToRegExp(pattern: string, delims: string[] | null): RegExp {
  const key = pattern + '\u0000' + JSON.stringify(delims);
  let re = globCache.get(key);
  if (re) return re;
  const notDelim = delims && delims.length ? `[^${delims.map(escapeRe).join('')}]` : '[\\s\\S]';
  let out = '';
  let i = 0;
  let depth = 0;
  const chars = [...pattern];
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === '\\') {
      i++;
      if (i >= chars.length) throw builtinError('unexpected end of input');
      out += escapeRe(chars[i] as string);
    } else if (c === '*') {
      if (chars[i + 1] === '*') {
        out += '[\\s\\S]*';
        i++;
      } else out += notDelim + '*';
    } else if (c === '?') out += notDelim;
    else if (c === '[') {
      const end = chars.indexOf(']', i + 1);
      if (end < 0) throw builtinError('unexpected end of input');
      let body = chars.slice(i + 1, end).join('');
      let neg = false;
      if (body.startsWith('!')) {
        neg = true;
        body = body.slice(1);
      }
      out += '[' + (neg ? '^' : '') + body.replace(/[\\\]^]/g, '\\$&') + ']';
      i = end;
    } else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else out += escapeRe(c);
    i++;
  }
  if (depth > 0) throw builtinError('unexpected end of input');
  re = new RegExp('^' + out + '$', 'u');
  if (globCache.size > 1000) globCache.clear();
  globCache.set(key, re);
  return re;
}

export const regexBuiltins: BuiltinTable = {
  'regex.match': { ...def('regex.match', 2, (a) => matches(str(a, 0), str(a, 1))), withConstFirst },
  re_match: { ...def('re_match', 2, (a) => matches(str(a, 0), str(a, 1))), withConstFirst },
  'regex.is_valid': def('regex.is_valid', 1, (a) => {
    if (typeof a[0] !== 'string') return false;
    try {
      compileRe(a[0]);
      return true;
    } catch {
      return false;
    }
  }),
  'regex.split': def('regex.split', 2, (a) => {
    const re = compileRe(str(a, 0));
    const s = str(a, 1);
    const out: Value[] = [];
    let last = 0;
    for (const m of findAll(re, s, -1)) {
      if (m.end === 0 && m.start === 0 && s.length > 0) continue;
      out.push(s.slice(last, m.start));
      last = m.end;
    }
    out.push(s.slice(last));
    return out;
  }),
  'regex.find_n': def('regex.find_n', 3, (a) => {
    const re = compileRe(str(a, 0));
    return findAll(re, str(a, 1), int(a, 2)).map((m) => m.groups[0] as string);
  }),
  'regex.find_all_string_submatch_n': def('regex.find_all_string_submatch_n', 3, (a) => {
    const re = compileRe(str(a, 0));
    return findAll(re, str(a, 1), int(a, 2)).map((m) => m.groups);
  }),
  'regex.replace': def('regex.replace', 3, (a) => {
    const s = str(a, 0);
    const re = compileRe(str(a, 1));
    const repl = str(a, 2);
    return re.matcher(s).replaceAll(repl);
  }),
  'regex.template_match': def('regex.template_match', 4, (a) =>
    templateMatch(str(a, 0), str(a, 1), str(a, 2), str(a, 3)),
  ),
  'glob.match': def('glob.match', 3, (a) => {
    const pattern = str(a, 0);
    const d = a[1] as Value;
    let delims: string[] | null;
    if (d === null) delims = null;
    else if (Array.isArray(d) || d instanceof RSet) {
      const items = Array.isArray(d) ? d : d.values();
      delims = items.map((x) => {
        if (typeof x !== 'string') throw operandErr(1, 'array of strings', x);
        return x;
      });
      if (delims.length === 0) delims = ['.'];
    } else throw operandErr(1, 'array', d);
    return globToRegExp(pattern, delims).test(str(a, 2));
  }),
  'glob.quote_meta': def('glob.quote_meta', 1, (a) => str(a, 0).replace(/[*?\\[\]{}]/g, '\\$&')),
};
