// Recursive-descent parser for Rego v1 (and v0, behind an option).
import type { Expr, ExprBody, Import, Loc, Module, Rule, RuleHead, Term, With } from './ast.ts';
import { RegoError } from './errors.ts';
import { attachAnnotations } from './annotations.ts';
import { tokenize, type Comment, type Token } from './lexer.ts';
import { RSet, normInt, type Value } from './value.ts';

export interface ParseOptions {
  regoVersion: 'v0' | 'v1';
  /** Enables experimental keywords such as `and`/`or` without an import. */
  experimental?: boolean;
}

const INFIX: Record<string, string> = {
  '==': 'equal',
  '!=': 'neq',
  '<': 'lt',
  '<=': 'lte',
  '>': 'gt',
  '>=': 'gte',
  '|': 'or',
  '&': 'and',
  '+': 'plus',
  '-': 'minus',
  '*': 'mul',
  '/': 'div',
  '%': 'rem',
};

export function parseNumber(text: string): Value {
  if (/^-?[0-9]+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : normInt(BigInt(text));
  }
  return Number(text);
}

class Parser {
  private toks: Token[];
  private pos = 0;
  private file: string;
  private keywords = new Set<string>();
  private opts: ParseOptions;
  private comments: Comment[] = [];

  constructor(src: string, file: string, opts: ParseOptions, rowBase = 1, colBase = 1) {
    this.file = file;
    this.opts = opts;
    this.toks = tokenize(src, file, rowBase, colBase, this.comments);
    if (opts.experimental) {
      this.keywords.add('and');
      this.keywords.add('or');
    }
  }

  private get tok(): Token {
    return this.toks[this.pos] as Token;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)] as Token;
  }
  private loc(t: Token = this.tok): Loc {
    return { file: this.file, row: t.row, col: t.col };
  }
  private err(msg: string, t: Token = this.tok): RegoError {
    return new RegoError('rego_parse_error', msg, this.loc(t));
  }
  private isP(p: string, t: Token = this.tok): boolean {
    return t.kind === 'punct' && t.text === p;
  }
  private isKw(k: string, t: Token = this.tok): boolean {
    return t.kind === 'ident' && t.text === k;
  }
  /** A keyword directly followed by `.` is used as a name (`not.foo`, `if.bar`). */
  private dotted(offset = 0): boolean {
    const t = this.peek(offset);
    const n = this.peek(offset + 1);
    return (
      n.kind === 'punct' && n.text === '.' && n.row === t.row && n.col === t.col + t.text.length
    );
  }

  private next(): Token {
    const t = this.tok;
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }
  private expectP(p: string): Token {
    if (!this.isP(p)) throw this.err(`unexpected ${this.describe()} token: expected ${p}`);
    return this.next();
  }
  private describe(t: Token = this.tok): string {
    if (t.kind === 'eof') return 'eof';
    if (t.kind === 'ident') return 'ident';
    if (t.kind === 'string') return 'string';
    if (t.kind === 'number') return 'number';
    return t.text;
  }

  parseModule(): Module {
    const pkgTok = this.tok;
    if (!this.isKw('package')) throw this.err('package expected');
    this.next();
    const pkgRef = this.parseRefPath();
    const mod: Module = {
      file: this.file,
      pkg: pkgRef,
      pkgLoc: this.loc(pkgTok),
      imports: [],
      rules: [],
      regoVersion: this.opts.regoVersion,
    };
    while (this.isKw('import') && !this.dotted()) mod.imports.push(this.parseImport());
    while (this.tok.kind !== 'eof') {
      if (this.isP(';')) {
        this.next();
        continue;
      }
      if (this.isKw('import') && !this.dotted()) throw this.err('import must come before rules');
      mod.rules.push(this.parseRule(mod));
    }
    attachAnnotations(mod, this.comments, pkgTok.row, () =>
      this.toks.some((t) => t.kind === 'ident' && t.text === 'metadata'),
    );
    return mod;
  }

  private parseRefPath(): string[] {
    const out: string[] = [];
    const first = this.next();
    if (first.kind !== 'ident')
      throw this.err(`unexpected ${this.describe(first)} token: expected ident`, first);
    out.push(first.text);
    for (;;) {
      if (this.isP('.') && !this.tok.nl) {
        this.next();
        const t = this.next();
        if (t.kind !== 'ident')
          throw this.err(`unexpected ${this.describe(t)} token: expected ident`, t);
        out.push(t.text);
      } else if (this.isP('[') && !this.tok.nl) {
        this.next();
        const t = this.next();
        if (t.kind !== 'string') throw this.err('expected string', t);
        out.push(t.value);
        this.expectP(']');
      } else break;
    }
    return out;
  }

  private parseImport(): Import {
    const loc = this.loc();
    this.next();
    const startTok = this.tok;
    const path = this.parseRefPath();
    let alias: string | undefined;
    if (this.isKw('as') && !this.tok.nl) {
      this.next();
      const t = this.next();
      if (t.kind !== 'ident') throw this.err('expected ident', t);
      alias = t.text;
    }
    if (path[0] === 'future' && path[1] === 'keywords') {
      for (const k of path.length > 2 ? path.slice(2) : ['and', 'or']) this.keywords.add(k);
    }
    const l = this.loc(startTok);
    const head: Term = { type: 'var', name: path[0] as string, loc: l };
    const term: Term =
      path.length === 1
        ? head
        : { type: 'ref', head, path: path.slice(1).map((p) => str(p, l)), loc: l };
    return { path: term, alias, loc };
  }

  private parseRule(mod: Module): Rule {
    const loc = this.loc();
    const isDefault = this.isKw('default') && !this.dotted();
    if (isDefault) this.next();
    const head = this.parseHead();
    const rule: Rule = { head, body: [], isDefault, elseRule: undefined, loc, module: mod };
    if (isDefault) {
      if (head.value === undefined) throw this.err('default rule must have a value');
      return rule;
    }
    rule.body = this.parseRuleBody(loc);
    let cur = rule;
    while (this.isKw('else') && !this.dotted()) {
      const eloc = this.loc();
      this.next();
      let value: Term | undefined;
      let assign = false;
      if (this.isP('=') || this.isP(':=')) {
        assign = this.next().text === ':=';
        value = this.parseTermExpr();
      }
      const eh: RuleHead = { ...head, value: value ?? tru(eloc), assign };
      const er: Rule = {
        head: eh,
        body: [],
        isDefault: false,
        elseRule: undefined,
        loc: eloc,
        module: mod,
      };
      er.body = this.parseRuleBody(eloc);
      cur.elseRule = er;
      cur = er;
    }
    return rule;
  }

  private parseRuleBody(loc: Loc): Expr[] {
    if (this.isKw('if') && !this.dotted()) {
      this.next();
      if (this.isP('{')) {
        // `if {x: 1 | ...}` may be a single comprehension expression, not a block.
        const save = this.pos;
        try {
          return this.parseBlock();
        } catch (e) {
          this.pos = save;
          try {
            return [this.parseExpr()];
          } catch {
            throw e;
          }
        }
      }
      return [this.parseExpr()];
    }
    if (this.isP('{') && !this.tok.nl) {
      if (this.opts.regoVersion === 'v1')
        throw this.err('`if` keyword is required before rule body');
      return this.parseBlock();
    }
    return [{ kind: 'term', term: tru(loc), negated: false, with: [], loc }];
  }

  private parseHead(): RuleHead {
    const t = this.next();
    if (t.kind !== 'ident')
      throw this.err(`unexpected ${this.describe(t)} token: expected rule head`, t);
    const ref: Term[] = [{ type: 'var', name: t.text, loc: this.loc(t) }];
    for (;;) {
      if (this.isP('.') && !this.tok.nl) {
        this.next();
        const k = this.next();
        if (k.kind !== 'ident') throw this.err('expected ident', k);
        ref.push(str(k.text, this.loc(k)));
      } else if (this.isP('[') && !this.tok.nl) {
        this.next();
        ref.push(this.parseTermExpr());
        this.expectP(']');
      } else break;
    }
    let args: Term[] | undefined;
    if (this.isP('(') && !this.tok.nl) {
      this.next();
      args = this.parseList(')');
    }
    const head: RuleHead = {
      ref,
      args,
      key: undefined,
      value: undefined,
      assign: false,
      contains: false,
    };
    if (this.isKw('contains') && !this.tok.nl && !this.dotted()) {
      this.next();
      head.contains = true;
      head.key = this.parseTermExpr();
      return head;
    }
    if (this.isP('=') || this.isP(':=')) {
      head.assign = this.next().text === ':=';
      head.value = this.parseTermExpr();
    } else if (
      this.opts.regoVersion === 'v0' &&
      ref.length === 2 &&
      !args &&
      !isGroundString(ref[1])
    ) {
      // v0 `p[x] { ... }` is a partial set.
      head.contains = true;
      head.key = ref.pop();
    }
    return head;
  }

  private parseBlock(): Expr[] {
    this.expectP('{');
    const body = this.parseExprs('}');
    this.expectP('}');
    return body;
  }

  /** Expressions separated by `;` or newlines, up to (not including) the closing token. */
  private parseExprs(close: string): Expr[] {
    const out: Expr[] = [];
    while (!this.isP(close)) {
      if (this.tok.kind === 'eof') throw this.err(`unexpected eof token: expected ${close}`);
      out.push(this.parseExpr());
      if (this.isP(';')) {
        this.next();
        continue;
      }
      if (!this.isP(close) && !this.tok.nl)
        throw this.err(`unexpected ${this.describe()} token: expected \\n or ; or ${close}`);
    }
    if (out.length === 0) throw this.err('found empty body');
    return out;
  }

  parseQuery(): Expr[] {
    const out: Expr[] = [];
    while (this.tok.kind !== 'eof') {
      out.push(this.parseExpr());
      if (this.isP(';')) this.next();
      else if (!this.atEnd() && !this.tok.nl)
        throw this.err(`unexpected ${this.describe()} token: expected \\n or ; or eof`);
    }
    if (out.length === 0) throw this.err('empty query');
    return out;
  }

  parseExpr(): Expr {
    const e = this.parseOrExpr();
    const withs: With[] = [];
    while (this.isKw('with')) {
      const wl = this.loc();
      this.next();
      const target = this.parseTermExpr();
      if (!this.isKw('as')) throw this.err('expected as');
      this.next();
      const value = this.parseTermExpr();
      withs.push({ target, value, loc: wl });
    }
    if (withs.length) e.with = withs;
    return e;
  }

  private parseOrExpr(): Expr {
    let left = this.parseAndExpr();
    while (this.keywords.has('or') && this.isKw('or') && !this.tok.nl) {
      this.next();
      const right = this.parseAndExpr();
      left = { kind: 'or', left, right, negated: false, with: [], loc: left.loc };
    }
    return left;
  }

  private parseAndExpr(): Expr {
    let left = this.parseUnaryExpr();
    while (this.keywords.has('and') && this.isKw('and') && !this.tok.nl) {
      this.next();
      const right = this.parseUnaryExpr();
      left = { kind: 'and', left, right, negated: false, with: [], loc: left.loc };
    }
    return left;
  }

  private parseUnaryExpr(): Expr {
    const loc = this.loc();
    if (this.isKw('not') && !this.dotted()) {
      this.next();
      const inner = this.parseUnaryExpr();
      if (inner.negated) throw this.err('double negation not allowed');
      inner.negated = true;
      inner.loc = loc;
      return inner;
    }
    if (this.groupsEnabled() && this.isP('{')) {
      return { kind: 'group', body: this.parseBlock(), negated: false, with: [], loc };
    }
    if (this.groupsEnabled() && this.isP('(')) {
      // `( a or b )` groups expressions; fall back to it only when the parenthesis
      // does not hold a plain term such as `(1 + 2) == 3`.
      const save = this.pos;
      try {
        return { ...this.parseExprBody(), negated: false, with: [], loc };
      } catch {
        this.pos = save;
        this.next();
        const inner = this.parseExpr();
        this.expectP(')');
        return { kind: 'group', body: [inner], negated: false, with: [], loc };
      }
    }
    return { ...this.parseExprBody(), negated: false, with: [], loc };
  }

  private groupsEnabled(): boolean {
    return this.keywords.has('and') || this.keywords.has('or') || this.keywords.has('not');
  }

  private parseExprBody(): ExprBody {
    if (this.isKw('some') && !this.isP('.', this.peek()) && !this.isP('[', this.peek())) {
      this.next();
      const first = this.parseTermIn(false);
      if (first.type === 'call' && isMember(first)) {
        const [a, b] = first.args;
        return { kind: 'somein', key: undefined, value: a as Term, domain: b as Term };
      }
      const vars = [first];
      while (this.isP(',')) {
        this.next();
        const v = this.parseTermIn(false);
        if (v.type === 'call' && isMember(v) && vars.length === 1) {
          const [a, b] = v.args;
          return { kind: 'somein', key: first, value: a as Term, domain: b as Term };
        }
        vars.push(v);
      }
      for (const v of vars)
        if (v.type !== 'var') throw this.err('expected var in some declaration');
      return { kind: 'some', vars };
    }
    if (this.isKw('every') && !this.isP('.', this.peek()) && !this.isP('[', this.peek())) {
      this.next();
      const first = this.parseTermIn(false);
      let key: Term | undefined;
      let value: Term;
      let domain: Term;
      if (first.type === 'call' && isMember(first)) {
        value = first.args[0] as Term;
        domain = first.args[1] as Term;
      } else {
        this.expectP(',');
        const v = this.parseTermIn(false);
        if (!(v.type === 'call' && isMember(v))) throw this.err('expected `in` in every');
        key = first;
        value = v.args[0] as Term;
        domain = v.args[1] as Term;
      }
      const body = this.parseBlock();
      return { kind: 'every', key, value, domain, body };
    }
    const left = this.parseTermExpr();
    if (this.isP(',')) {
      // `k, v in xs` membership with key.
      this.next();
      const v = this.parseTermIn(false);
      if (!(v.type === 'call' && isMember(v))) throw this.err('unexpected , token');
      const term: Term = {
        type: 'call',
        fn: builtinRef('internal.member_3', left.loc),
        args: [left, v.args[0] as Term, v.args[1] as Term],
        loc: left.loc,
      };
      return { kind: 'term', term };
    }
    if ((this.isP('=') || this.isP(':=')) && !this.tok.nl) {
      const op = this.next().text;
      const right = this.parseTermExpr();
      return op === '=' ? { kind: 'unify', left, right } : { kind: 'assign', left, right };
    }
    return { kind: 'term', term: left };
  }

  parseTermExpr(): Term {
    return this.parseTermIn(false);
  }

  private parseTermIn(noBar: boolean): Term {
    let left = this.parseRelation(noBar);
    while (this.isKw('in') && !this.tok.nl) {
      this.next();
      const right = this.parseRelation(noBar);
      left = {
        type: 'call',
        fn: builtinRef('internal.member_2', left.loc),
        args: [left, right],
        loc: left.loc,
      };
    }
    return left;
  }

  private binary(next: () => Term, ops: string[]): Term {
    let left = next();
    while (this.tok.kind === 'punct' && ops.includes(this.tok.text) && !this.tok.nl) {
      const op = this.next();
      const right = next();
      left = {
        type: 'call',
        fn: builtinRef(INFIX[op.text] as string, this.loc(op)),
        args: [left, right],
        loc: left.loc,
      };
    }
    return left;
  }

  private parseRelation(noBar: boolean): Term {
    return this.binary(() => this.parseBar(noBar), ['==', '!=', '<', '<=', '>', '>=']);
  }
  private parseBar(noBar: boolean): Term {
    return noBar ? this.parseAmp() : this.binary(() => this.parseAmp(), ['|']);
  }
  private parseAmp(): Term {
    return this.binary(() => this.parseArith(), ['&']);
  }
  private parseArith(): Term {
    return this.binary(() => this.parseFactor(), ['+', '-']);
  }
  private parseFactor(): Term {
    return this.binary(() => this.parseUnary(), ['*', '/', '%']);
  }
  private parseUnary(): Term {
    if (this.isP('-')) {
      const t = this.next();
      if (this.tok.kind === 'number' && this.tok.row === t.row && this.tok.col === t.col + 1) {
        const n = this.next();
        return this.parsePostfix({
          type: 'scalar',
          value: parseNumber('-' + n.text),
          loc: this.loc(t),
        });
      }
      const operand = this.parseUnary();
      return {
        type: 'call',
        fn: builtinRef('minus', this.loc(t)),
        args: [{ type: 'scalar', value: 0, loc: this.loc(t) }, operand],
        loc: this.loc(t),
      };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case 'number':
        this.next();
        return { type: 'scalar', value: parseNumber(t.text), loc };
      case 'string':
        this.next();
        return { type: 'scalar', value: t.value, loc };
      case 'template':
        this.next();
        return this.parseTemplate(t, loc);
      case 'ident': {
        this.next();
        const asName =
          this.isP('.') && this.tok.row === t.row && this.tok.col === t.col + t.text.length;
        if (!asName)
          switch (t.text) {
            case 'true':
              return { type: 'scalar', value: true, loc };
            case 'false':
              return { type: 'scalar', value: false, loc };
            case 'null':
              return { type: 'scalar', value: null, loc };
            case 'set':
              if (this.isP('(') && this.isP(')', this.peek()) && !this.tok.nl) {
                this.next();
                this.next();
                return { type: 'set', items: [], loc };
              }
          }
        return { type: 'var', name: t.text, loc };
      }
      case 'punct':
        if (t.text === '(') {
          this.next();
          const inner = this.parseTermIn(false);
          if (this.isP(',')) {
            // `(k, v in xs)`: membership with key, usable anywhere a term is.
            this.next();
            const v = this.parseTermIn(false);
            if (!(v.type === 'call' && isMember(v))) throw this.err('unexpected , token');
            this.expectP(')');
            return {
              type: 'call',
              fn: builtinRef('internal.member_3', inner.loc),
              args: [inner, v.args[0] as Term, v.args[1] as Term],
              loc: inner.loc,
            };
          }
          this.expectP(')');
          return inner;
        }
        if (t.text === '[') return this.parseArray();
        if (t.text === '{') return this.parseBrace();
    }
    throw this.err(`unexpected ${this.describe(t)} token`);
  }

  private parseTemplate(t: Token, loc: Loc): Term {
    const parts: (string | Term)[] = [];
    for (const p of t.parts ?? []) {
      if (p.text !== undefined) parts.push(p.text);
      else if (p.expr) {
        const sub = new Parser(p.expr.src, this.file, this.opts, p.expr.row, p.expr.col);
        sub.keywords = this.keywords;
        const e = sub.parseExpr();
        if (!sub.atEnd()) throw sub.err(`unexpected ${sub.describe()} token in template`);
        if (e.kind === 'term' && !e.negated && e.with.length === 0) {
          parts.push(e.term);
          continue;
        }
        // Anything beyond a term (e.g. `x with input as y`) runs as a one-expression
        // query; the first value, if any, is interpolated.
        const v: Term = { type: 'var', name: '__tpl', loc: e.loc };
        const body: Expr[] =
          e.kind === 'term' ? [{ ...e, kind: 'assign', left: v, right: e.term }] : [e];
        const compr: Term = {
          type: 'arraycompr',
          term: e.kind === 'term' ? v : { type: 'scalar', value: true, loc: e.loc },
          body,
          loc: e.loc,
        };
        parts.push({
          type: 'call',
          fn: builtinRef('internal.first', e.loc),
          args: [compr],
          loc: e.loc,
        });
      }
    }
    return { type: 'template', parts, loc };
  }

  private parsePostfix(term: Term): Term {
    for (;;) {
      if (this.tok.nl) return term;
      if (this.isP('.')) {
        this.next();
        const k = this.next();
        if (k.kind !== 'ident')
          throw this.err(`unexpected ${this.describe(k)} token: expected ident`, k);
        term = appendRef(term, str(k.text, this.loc(k)));
      } else if (this.isP('[')) {
        this.next();
        const key = this.parseTermIn(false);
        this.expectP(']');
        term = appendRef(term, key);
      } else if (this.isP('(') && (term.type === 'var' || term.type === 'ref')) {
        this.next();
        const args = this.parseList(')');
        term = { type: 'call', fn: term, args, loc: term.loc };
      } else return term;
    }
  }

  private parseList(close: string): Term[] {
    const out: Term[] = [];
    while (!this.isP(close)) {
      out.push(this.parseTermIn(false));
      if (this.isP(',')) this.next();
      else if (!this.isP(close))
        throw this.err(`unexpected ${this.describe()} token: expected , or ${close}`);
    }
    this.next();
    return out;
  }

  private parseArray(): Term {
    const loc = this.loc();
    this.next();
    if (this.isP(']')) {
      this.next();
      return { type: 'array', items: [], loc };
    }
    const first = this.parseTermIn(true);
    if (this.isP('|')) {
      this.next();
      const body = this.parseExprs(']');
      this.next();
      return { type: 'arraycompr', term: first, body, loc };
    }
    const items = [first];
    if (this.isP(',')) {
      this.next();
      items.push(...this.parseList(']'));
    } else this.expectP(']');
    return { type: 'array', items, loc };
  }

  private parseBrace(): Term {
    const loc = this.loc();
    this.next();
    if (this.isP('}')) {
      this.next();
      return { type: 'object', items: [], loc };
    }
    const first = this.parseTermIn(true);
    if (this.isP(':')) {
      this.next();
      const value = this.parseTermIn(true);
      if (this.isP('|')) {
        this.next();
        const body = this.parseExprs('}');
        this.next();
        return { type: 'objectcompr', key: first, value, body, loc };
      }
      const items: [Term, Term][] = [[first, value]];
      while (this.isP(',')) {
        this.next();
        if (this.isP('}')) break;
        const k = this.parseTermIn(false);
        this.expectP(':');
        items.push([k, this.parseTermIn(false)]);
      }
      this.expectP('}');
      return { type: 'object', items, loc };
    }
    if (this.isP('|')) {
      this.next();
      const body = this.parseExprs('}');
      this.next();
      return { type: 'setcompr', term: first, body, loc };
    }
    const items = [first];
    if (this.isP(',')) {
      this.next();
      items.push(...this.parseList('}'));
    } else this.expectP('}');
    return { type: 'set', items, loc };
  }

  atEnd(): boolean {
    return this.tok.kind === 'eof';
  }
}

function isMember(t: Term & { type: 'call' }): boolean {
  return t.fn.type === 'var' && t.fn.name === 'internal.member_2';
}

function isGroundString(t: Term | undefined): boolean {
  return t !== undefined && t.type === 'scalar' && typeof t.value === 'string';
}

function str(s: string, loc: Loc): Term {
  return { type: 'scalar', value: s, loc };
}

function tru(loc: Loc): Term {
  return { type: 'scalar', value: true, loc };
}

/** Operators become calls whose fn is a var holding the builtin's dotted name. */
export function builtinRef(name: string, loc: Loc): Term {
  return { type: 'var', name, loc };
}

function appendRef(term: Term, key: Term): Term {
  if (term.type === 'ref') return { ...term, path: [...term.path, key] };
  return { type: 'ref', head: term, path: [key], loc: term.loc };
}

export function parseModule(src: string, file: string, opts: ParseOptions): Module {
  return new Parser(src, file, opts).parseModule();
}

export function parseQuery(src: string, opts: ParseOptions, file = 'query'): Expr[] {
  return new Parser(src, file, opts).parseQuery();
}

export function parseTermText(src: string, file = 'input'): Term {
  const p = new Parser(src, file, { regoVersion: 'v1' });
  const t = p.parseTermExpr();
  if (!p.atEnd())
    throw new RegoError('rego_parse_error', 'unexpected trailing input', { file, row: 1, col: 1 });
  return t;
}

export const emptySet = (): RSet => new RSet();
