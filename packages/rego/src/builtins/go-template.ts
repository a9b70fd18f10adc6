// strings.render_template: a Go text/template interpreter for the parts policies use
// (fields, variables, pipelines, if/else, range, with, comparison and printing
// functions). OPA renders with Go's engine, so truthiness, value printing and the
// missing-key text follow Go, not JavaScript.
import { builtinError } from '../errors.ts';
import { RObject, RSet, compare, equal, formatNumber, isNumber, type Value } from '../value.ts';
import { sprintf } from './sprintf.ts';

/** What Go prints for a map key that is not there (OPA's missingkey setting). */
const MISSING = '<undefined>';

type Arg =
  | { k: 'dot'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'lit'; v: Value }
  | { k: 'fn'; name: string }
  | { k: 'sub'; pipe: Pipe; path: string[] };

interface Pipe {
  decl: string[];
  /** `=` re-assigns an existing variable; `:=` declares. */
  assign: boolean;
  cmds: Arg[][];
}

type Node =
  | { k: 'text'; s: string }
  | { k: 'out'; pipe: Pipe }
  | { k: 'if' | 'with'; pipe: Pipe; body: Node[]; alt: Node[] }
  | { k: 'range'; pipe: Pipe; body: Node[]; alt: Node[] };

/** `adj`: no space before the token, so `.b` in `$x.b` continues a field chain. */
type Tok = { t: 'str' | 'num' | 'id' | 'dot' | 'var' | 'p'; v: string; adj?: boolean };

function fail(msg: string): Error {
  return builtinError(`template: ${msg}`);
}

function lexAction(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith(':=', i)) {
      toks.push({ t: 'p', v: ':=' });
      i += 2;
      continue;
    }
    if ('|(),='.includes(c)) {
      toks.push({ t: 'p', v: c });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw fail('unterminated quoted string');
      toks.push({ t: 'str', v: JSON.parse(src.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw fail('unterminated raw quoted string');
      toks.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const m = /^(?:[-+]?\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?|\$[\w]*|\.?[A-Za-z_][\w]*|\.)/.exec(
      src.slice(i),
    );
    if (!m) throw fail(`unexpected ${JSON.stringify(c)} in command`);
    const w = m[0];
    if (/^[-+\d]/.test(w)) toks.push({ t: 'num', v: w });
    else if (w.startsWith('$')) toks.push({ t: 'var', v: w });
    else if (w.startsWith('.'))
      toks.push({ t: 'dot', v: w, adj: i > 0 && !/\s/.test(src[i - 1] as string) });
    else toks.push({ t: 'id', v: w });
    i += w.length;
  }
  return toks;
}

class ActionParser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw fail('unexpected end of action');
    return t;
  }

  pipe(allowDecl: boolean, rangeDecl = false): Pipe {
    const p: Pipe = { decl: [], assign: false, cmds: [] };
    if (allowDecl) {
      // `$x :=`, `$x =` or, in range, `$i, $v :=`.
      const save = this.i;
      const names: string[] = [];
      while (this.peek()?.t === 'var') {
        names.push(this.next().v);
        if (rangeDecl && this.peek()?.v === ',' && names.length === 1) {
          this.next();
          continue;
        }
        break;
      }
      const op = this.peek();
      if (names.length && op?.t === 'p' && (op.v === ':=' || op.v === '=')) {
        this.next();
        p.decl = names;
        p.assign = op.v === '=';
      } else this.i = save;
    }
    for (;;) {
      p.cmds.push(this.command());
      if (this.peek()?.v === '|') {
        this.next();
        continue;
      }
      break;
    }
    return p;
  }

  private command(): Arg[] {
    const args: Arg[] = [];
    while (!this.done() && this.peek()?.v !== '|' && this.peek()?.v !== ')') args.push(this.arg());
    if (!args.length) throw fail('missing value for command');
    return args;
  }

  private arg(): Arg {
    const t = this.next();
    switch (t.t) {
      case 'str':
        return { k: 'lit', v: t.v };
      case 'num': {
        const n = Number(t.v.replace(/_/g, ''));
        if (Number.isNaN(n)) throw fail(`bad number syntax: ${t.v}`);
        return { k: 'lit', v: n };
      }
      case 'dot':
        return { k: 'dot', path: this.fields(t.v === '.' ? [] : t.v.slice(1).split('.')) };
      case 'var':
        return { k: 'var', name: t.v, path: this.fields([]) };
      case 'id':
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
        if (t.v === 'nil') return { k: 'lit', v: null };
        return { k: 'fn', name: t.v };
      case 'p':
        if (t.v === '(') {
          const pipe = this.pipe(true);
          if (this.next().v !== ')') throw fail('unclosed left paren');
          return { k: 'sub', pipe, path: this.fields([]) };
        }
    }
    throw fail(`unexpected ${JSON.stringify(t.v)} in operand`);
  }

  /** Field chains written directly after an operand: `$x.a.b`, `(pipe).a`. */
  private fields(path: string[]): string[] {
    for (let t = this.peek(); t?.t === 'dot' && t.adj && t.v !== '.'; t = this.peek())
      path.push(this.next().v.slice(1));
    return path;
  }
}

function parsePipe(src: string, allowDecl: boolean, rangeDecl = false): Pipe {
  const p = new ActionParser(lexAction(src));
  const pipe = p.pipe(allowDecl, rangeDecl);
  if (!p.done()) throw fail(`unexpected ${JSON.stringify(p.peek()?.v)} in command`);
  return pipe;
}

/** Splits the template into text and actions, honouring `{{-` / `-}}` trimming. */
function scan(tpl: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= tpl.length) {
    const open = tpl.indexOf('{{', i);
    let text = open < 0 ? tpl.slice(i) : tpl.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ text });
      break;
    }
    let start = open + 2;
    if (/^-\s/.test(tpl.slice(start))) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    out.push({ text });
    const close = tpl.indexOf('}}', start);
    if (close < 0) throw fail('unclosed action');
    let end = close;
    trimNext = false;
    if (/\s-$/.test(tpl.slice(start, close))) {
      end = close - 1;
      trimNext = true;
    }
    const body = tpl.slice(start, end).trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) out.push({ action: body });
    i = close + 2;
  }
  return out;
}

function parseTemplate(tpl: string): Node[] {
  const items = scan(tpl);
  let pos = 0;
  // Parses nodes until an `end` or `else`, which is returned to the caller.
  const list = (): { nodes: Node[]; stop: string | undefined } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const it = items[pos++] as { text: string } | { action: string };
      if ('text' in it) {
        if (it.text) nodes.push({ k: 'text', s: it.text });
        continue;
      }
      const [, kw = '', rest = ''] = /^(\w+)\b\s*([\s\S]*)$/.exec(it.action) ?? [];
      if (kw === 'end' || kw === 'else') return { nodes, stop: it.action };
      if (kw === 'if' || kw === 'with' || kw === 'range') nodes.push(control(kw, rest));
      else if (kw === 'define' || kw === 'template' || kw === 'block')
        throw fail(`${kw} is not supported`);
      else nodes.push({ k: 'out', pipe: parsePipe(it.action, true) });
    }
    return { nodes, stop: undefined };
  };
  const control = (kw: 'if' | 'with' | 'range', src: string): Node => {
    const pipe = parsePipe(src, true, kw === 'range');
    const body = list();
    let alt: Node[] = [];
    if (body.stop === undefined) throw fail(`unexpected EOF in ${kw}`);
    if (body.stop !== 'end') {
      const chained = /^else\s+(if|with)\b\s*([\s\S]*)$/.exec(body.stop);
      if (chained) {
        // `else if` / `else with` nest a control whose `end` closes both.
        alt = [control(chained[1] as 'if' | 'with', chained[2] as string)];
      } else {
        const tail = list();
        if (tail.stop !== 'end') throw fail(`expected end in ${kw}`);
        alt = tail.nodes;
      }
    }
    return { k: kw, pipe, body: body.nodes, alt };
  };
  const top = list();
  if (top.stop !== undefined) throw fail(`unexpected {{${top.stop}}}`);
  return top.nodes;
}

/** Go's notion of a "true" value: non-zero, non-empty. */
function truthy(v: Value | undefined): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v === true) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  return v.size > 0;
}

/** fmt's %v of the Go value OPA converts a Rego value into. */
export function goFormat(v: Value | undefined): string {
  if (v === undefined) return MISSING;
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (isNumber(v)) return formatNumber(v);
  if (Array.isArray(v)) return '[' + v.map(goFormat).join(' ') + ']';
  if (v instanceof RSet) return '[' + v.values().map(goFormat).join(' ') + ']';
  return (
    'map[' +
    v
      .entries()
      .map(([k, x]) => goFormat(k) + ':' + goFormat(x))
      .join(' ') +
    ']'
  );
}

type Scope = { name: string; v: Value | undefined }[];

class Exec {
  out = '';
  constructor(private readonly vars: Scope) {}

  run(nodes: Node[], dot: Value | undefined): void {
    const mark = this.vars.length;
    for (const n of nodes) this.node(n, dot);
    this.vars.length = mark;
  }

  private node(n: Node, dot: Value | undefined): void {
    switch (n.k) {
      case 'text':
        this.out += n.s;
        return;
      case 'out': {
        const v = this.pipe(n.pipe, dot);
        if (!n.pipe.decl.length) this.out += goFormat(v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.pipe(n.pipe, dot);
        if (truthy(v)) this.run(n.body, n.k === 'with' ? v : dot);
        else this.run(n.alt, dot);
        this.vars.length = mark;
        return;
      }
      case 'range': {
        const v = this.pipe({ ...n.pipe, decl: [] }, dot);
        const items: [Value, Value][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v instanceof RSet
            ? v.values().map((x, i) => [i, x])
            : v instanceof RObject
              ? v.entries()
              : typeof v === 'number' && Number.isInteger(v)
                ? Array.from({ length: Math.max(0, v) }, (_, i) => [i, i])
                : v === undefined || v === null
                  ? []
                  : (() => {
                      throw fail(`range can't iterate over ${goFormat(v)}`);
                    })();
        if (!items.length) return this.run(n.alt, dot);
        const [a, b] = n.pipe.decl;
        for (const [k, x] of items) {
          const mark = this.vars.length;
          if (a !== undefined && b !== undefined)
            this.vars.push({ name: a, v: k }, { name: b, v: x });
          else if (a !== undefined) this.vars.push({ name: a, v: x });
          this.run(n.body, x);
          this.vars.length = mark;
        }
        return;
      }
    }
  }

  private lookup(name: string): Value | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const e = this.vars[i] as { name: string; v: Value | undefined };
      if (e.name === name) return e.v;
    }
    throw fail(`undefined variable: ${name}`);
  }

  private pipe(p: Pipe, dot: Value | undefined): Value | undefined {
    let prev: Value | undefined;
    let first = true;
    for (const cmd of p.cmds) {
      prev = this.command(cmd, dot, first ? [] : [prev]);
      first = false;
    }
    for (const name of p.decl) {
      if (p.assign) {
        const e = [...this.vars].reverse().find((x) => x.name === name);
        if (!e) throw fail(`undefined variable: ${name}`);
        e.v = prev;
      } else this.vars.push({ name, v: prev });
    }
    return prev;
  }

  private command(
    cmd: Arg[],
    dot: Value | undefined,
    piped: (Value | undefined)[],
  ): Value | undefined {
    const [head, ...rest] = cmd as [Arg, ...Arg[]];
    if (head.k === 'fn') {
      if (head.name === 'and' || head.name === 'or') {
        // Short-circuits: the first decisive operand is the result.
        const all = [...rest.map((a) => () => this.arg(a, dot)), ...piped.map((v) => () => v)];
        let last: Value | undefined;
        for (const f of all) {
          last = f();
          if (truthy(last) !== (head.name === 'and')) return last;
        }
        return last;
      }
      return callFn(head.name, [...rest.map((a) => this.arg(a, dot)), ...piped]);
    }
    if (rest.length || piped.length) throw fail(`can't give argument to non-function`);
    return this.arg(head, dot);
  }

  private arg(a: Arg, dot: Value | undefined): Value | undefined {
    switch (a.k) {
      case 'lit':
        return a.v;
      case 'dot':
        return field(dot, a.path);
      case 'var':
        return field(this.lookup(a.name), a.path);
      case 'sub':
        return field(this.pipe(a.pipe, dot), a.path);
      case 'fn':
        return callFn(a.name, []);
    }
  }
}

function field(v: Value | undefined, path: string[]): Value | undefined {
  let cur = v;
  for (const k of path) {
    if (cur instanceof RObject) cur = cur.get(k);
    else if (cur === undefined || cur === null) return undefined;
    else throw fail(`can't evaluate field ${k} in type ${goType(cur)}`);
  }
  return cur;
}

function goType(v: Value): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (isNumber(v)) return 'json.Number';
  if (Array.isArray(v) || v instanceof RSet) return '[]interface {}';
  return 'map[string]interface {}';
}

function need(name: string, args: (Value | undefined)[], n: number): void {
  if (args.length < n) throw fail(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

function ordered(name: string, a: Value | undefined, b: Value | undefined): number {
  const bothNum = a !== undefined && b !== undefined && isNumber(a) && isNumber(b);
  if (!bothNum && !(typeof a === 'string' && typeof b === 'string'))
    throw fail(`error calling ${name}: incompatible types for comparison`);
  return compare(a as Value, b as Value);
}

function printArgs(args: (Value | undefined)[], spaced: boolean): string {
  // fmt.Sprint puts spaces between operands when neither is a string.
  let s = '';
  args.forEach((v, i) => {
    const prev = args[i - 1];
    if (i > 0 && (spaced || (typeof v !== 'string' && typeof prev !== 'string'))) s += ' ';
    s += goFormat(v);
  });
  return s;
}

function callFn(name: string, args: (Value | undefined)[]): Value | undefined {
  const def = (v: Value | undefined): Value => (v === undefined ? null : v);
  switch (name) {
    case 'not':
      need(name, args, 1);
      return !truthy(args[0]);
    case 'eq':
      need(name, args, 2);
      return args.slice(1).some((b) => equal(def(args[0]), def(b)));
    case 'ne':
      need(name, args, 2);
      return !equal(def(args[0]), def(args[1]));
    case 'lt':
      need(name, args, 2);
      return ordered(name, args[0], args[1]) < 0;
    case 'le':
      need(name, args, 2);
      return ordered(name, args[0], args[1]) <= 0;
    case 'gt':
      need(name, args, 2);
      return ordered(name, args[0], args[1]) > 0;
    case 'ge':
      need(name, args, 2);
      return ordered(name, args[0], args[1]) >= 0;
    case 'len': {
      need(name, args, 1);
      const v = args[0];
      if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
      if (Array.isArray(v)) return v.length;
      if (v instanceof RObject || v instanceof RSet) return v.size;
      throw fail(`error calling len: len of type ${v === undefined ? 'nil' : goType(v)}`);
    }
    case 'index': {
      need(name, args, 1);
      let cur = args[0];
      for (const k of args.slice(1)) {
        if (Array.isArray(cur) && typeof k === 'number') {
          if (k < 0 || k >= cur.length) throw fail(`error calling index: index out of range: ${k}`);
          cur = cur[k];
        } else if (cur instanceof RObject) cur = cur.get(def(k));
        else throw fail(`error calling index: can't index item of type ${goType(def(cur))}`);
      }
      return cur;
    }
    case 'print':
      return printArgs(args, false);
    case 'println':
      return printArgs(args, true) + '\n';
    case 'printf': {
      need(name, args, 1);
      if (typeof args[0] !== 'string') throw fail('error calling printf: format must be string');
      return sprintf(args[0], args.slice(1).map(def));
    }
    case 'urlquery':
      return encodeURIComponent(printArgs(args, false)).replace(/%20/g, '+');
    case 'html':
      return printArgs(args, false).replace(
        /[&'<>"\0]/g,
        (c) =>
          ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[
            c
          ] as string,
      );
  }
  throw fail(`function "${name}" not defined`);
}

export function renderTemplate(tpl: string, vars: Value): string {
  const nodes = parseTemplate(tpl);
  const ex = new Exec([{ name: '$', v: vars }]);
  ex.run(nodes, vars);
  return ex.out;
}
