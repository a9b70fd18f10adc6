// Substrings a regular expression cannot match without (RE2's "prefilter" idea): a string
// that lacks every alternative of one set cannot match, so RE2 need not run. Derived
// conservatively from the pattern's top-level concatenation; anything this reader does not
// understand (top-level alternation, case folding, \Q…\E) means no prefilter at all.

export type Required = string[][];

const metas = new Set('\\.+*?()|[]{}^$');

interface Atom {
  // A literal character, a group of plain literal alternatives, or anything else.
  kind: 'char' | 'set' | 'other';
  text?: string;
  alternatives?: string[];
}

function skipClass(p: string, i: number): number {
  // i is at '['; returns the index after the closing ']'.
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  while (j < p.length && p[j] !== ']') {
    if (p[j] === '\\') j++;
    else if (p[j] === '[' && p[j + 1] === ':') {
      const end = p.indexOf(':]', j + 2);
      if (end < 0) return -1;
      j = end + 1;
    }
    j++;
  }
  return j < p.length ? j + 1 : -1;
}

function groupEnd(p: string, i: number): number {
  // i is at '('; returns the index of the matching ')'.
  let depth = 0;
  for (let j = i; j < p.length; j++) {
    const c = p[j];
    if (c === '\\') j++;
    else if (c === '[') {
      const k = skipClass(p, j);
      if (k < 0) return -1;
      j = k - 1;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j;
  }
  return -1;
}

// A group body that is plain literals separated by `|`, e.g. `curl|wget`.
function literalAlternatives(body: string): string[] | undefined {
  const alts = body.split('|');
  for (const a of alts) for (const c of a) if (metas.has(c)) return undefined;
  return alts;
}

export function requiredLiterals(pattern: string): Required | null {
  if (/\(\?[a-zA-Z]*i/.test(pattern) || pattern.includes('\\Q')) return null;
  const atoms: Atom[] = [];
  const quantified: ('none' | 'optional' | 'repeated')[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let atom: Atom;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) return null;
      atom = /[A-Za-z0-9]/.test(n) ? { kind: 'other' } : { kind: 'char', text: n };
      i += 2;
    } else if (c === '[') {
      const end = skipClass(pattern, i);
      if (end < 0) return null;
      atom = { kind: 'other' };
      i = end;
    } else if (c === '(') {
      const end = groupEnd(pattern, i);
      if (end < 0) return null;
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('?:')) body = body.slice(2);
      else if (body.startsWith('?P<') || body.startsWith('?<'))
        body = body.slice(body.indexOf('>') + 1);
      else if (body.startsWith('?')) body = '\u0000'; // flags: not a literal group
      const alternatives = literalAlternatives(body);
      atom =
        alternatives && !alternatives.includes('')
          ? { kind: 'set', alternatives }
          : { kind: 'other' };
      i = end + 1;
    } else if (c === '|') {
      return null;
    } else if (c === ')' || c === ']') {
      return null;
    } else if (metas.has(c) && c !== '{' && c !== '}') {
      // `.`, `^`, `$`, or a quantifier with nothing before it.
      if ('*+?'.includes(c)) return null;
      atom = { kind: 'other' };
      i += 1;
    } else {
      atom = { kind: 'char', text: c };
      i += 1;
    }
    // Its quantifier, if any (a lazy or possessive marker after it changes nothing here).
    let q: 'none' | 'optional' | 'repeated' = 'none';
    const nq = pattern[i];
    if (nq === '*' || nq === '?') {
      q = 'optional';
      i++;
    } else if (nq === '+') {
      q = 'repeated';
      i++;
    } else if (nq === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(pattern.slice(i));
      if (m) {
        q =
          Number(m[1]) === 0
            ? 'optional'
            : m[2] === undefined && m[1] === '1'
              ? 'none'
              : 'repeated';
        i += m[0].length;
      } else {
        // A literal `{`, as RE2 reads one that starts no repetition.
        atoms.push(atom, { kind: 'char', text: '{' });
        quantified.push('none', 'none');
        i++;
        continue;
      }
    }
    if (pattern[i] === '?' || pattern[i] === '+') i++;
    atoms.push(atom);
    quantified.push(q);
  }
  const required: Required = [];
  let run = '';
  const flush = () => {
    if (run) required.push([run]);
    run = '';
  };
  atoms.forEach((a, k) => {
    const q = quantified[k];
    if (q === 'optional' || a.kind === 'other') return flush();
    if (a.kind === 'set') {
      flush();
      required.push(a.alternatives!);
      return;
    }
    run += a.text!;
    if (q === 'repeated') flush();
  });
  flush();
  // Cheapest and most selective first: single literals before alternatives, longer first.
  const weight = (set: string[]) => set.length * 1000 - Math.min(...set.map((a) => a.length));
  return required.sort((a, b) => weight(a) - weight(b));
}

// Whether `s` could match: it holds at least one alternative of every required set.
export function mayMatch(required: Required, s: string): boolean {
  for (const set of required) {
    let found = false;
    for (const alt of set)
      if (s.includes(alt)) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  return true;
}
