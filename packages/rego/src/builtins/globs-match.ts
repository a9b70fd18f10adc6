// regex.globs_match: whether two simplified regular expressions ("globs" of single
// tokens `.`, `[...]` or literals, each optionally followed by `*` or `+`) can match
// a common string. Decided by searching the product of the two automata, so no
// string is ever enumerated.
import { builtinError } from '../errors.ts';
import { str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

/** A set of code points as sorted, inclusive ranges. */
type CharSet = [number, number][];

const ANY: CharSet = [[0, 0x10ffff]];

interface Token {
  set: CharSet;
  /** `*`: the token may repeat zero or more times. */
  star: boolean;
}

function invalid(input: string, pos: number, msg: string): Error {
  return builtinError(`input:${input}, pos:${pos}, ${msg}: the input provided is invalid`);
}

function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of [...set].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function parseGlob(input: string): Token[] {
  const chars = [...input];
  const tokens: Token[] = [];
  let i = 0;
  const cp = (c: string): number => c.codePointAt(0) as number;
  while (i < chars.length) {
    const c = chars[i] as string;
    let set: CharSet;
    if (c === '.') {
      set = ANY;
      i++;
    } else if (c === '[') {
      let j = i + 1;
      const negate = chars[j] === '^';
      if (negate) j++;
      const ranges: CharSet = [];
      for (;;) {
        const d = chars[j];
        if (d === undefined) throw invalid(input, i + 1, "set-open '[' with no closing ']'");
        if (d === ']') break;
        let lo = d;
        if (d === '\\') {
          j++;
          lo = chars[j] ?? '\\';
        }
        if (chars[j + 1] === '-' && chars[j + 2] !== undefined && chars[j + 2] !== ']') {
          let hi = chars[j + 2] as string;
          j += 2;
          if (hi === '\\') {
            j++;
            hi = chars[j] ?? '\\';
          }
          if (cp(hi) < cp(lo)) throw invalid(input, j + 1, 'range end before range start');
          ranges.push([cp(lo), cp(hi)]);
        } else ranges.push([cp(lo), cp(lo)]);
        j++;
      }
      set = negate ? complement(ranges) : ranges;
      i = j + 1;
    } else if (c === ']') {
      throw invalid(input, i + 1, "set-close ']' with no preceding '['");
    } else if (c === '*' || c === '+') {
      throw invalid(input, i + 1, `quantifier '${c}' with no preceding token`);
    } else if (c === '\\') {
      const e = chars[i + 1];
      if (e === undefined) throw invalid(input, i + 1, "escape '\\' at end of input");
      set = [[cp(e), cp(e)]];
      i += 2;
    } else {
      set = [[cp(c), cp(c)]];
      i++;
    }
    const q = chars[i];
    if (q === '*') {
      tokens.push({ set, star: true });
      i++;
    } else if (q === '+') {
      // x+ is x followed by x*.
      tokens.push({ set, star: false }, { set, star: true });
      i++;
    } else tokens.push({ set, star: false });
  }
  return tokens;
}

function overlaps(a: CharSet, b: CharSet): boolean {
  return a.some(([lo, hi]) => b.some(([lo2, hi2]) => lo <= hi2 && lo2 <= hi));
}

/** States reachable from `i` without consuming: skipping starred tokens. */
function closure(tokens: Token[], i: number): number[] {
  const out = [i];
  while (i < tokens.length && (tokens[i] as Token).star) out.push(++i);
  return out;
}

export function globsIntersect(a: string, b: string): boolean {
  const x = parseGlob(a);
  const y = parseGlob(b);
  const seen = new Set<string>();
  const todo: [number, number][] = [];
  const push = (i: number, j: number): void => {
    for (const p of closure(x, i))
      for (const q of closure(y, j)) {
        const k = `${p},${q}`;
        if (!seen.has(k)) {
          seen.add(k);
          todo.push([p, q]);
        }
      }
  };
  push(0, 0);
  while (todo.length) {
    const [i, j] = todo.pop() as [number, number];
    if (i === x.length && j === y.length) return true;
    const s = x[i];
    const t = y[j];
    if (!s || !t || !overlaps(s.set, t.set)) continue;
    // Consuming a shared character stays on a starred token or moves on; the
    // closure covers leaving a starred token afterwards.
    push(s.star ? i : i + 1, t.star ? j : j + 1);
  }
  return false;
}

export const globsMatchBuiltins: BuiltinTable = {
  'regex.globs_match': def('regex.globs_match', 2, (a) => globsIntersect(str(a, 0), str(a, 1))),
};
