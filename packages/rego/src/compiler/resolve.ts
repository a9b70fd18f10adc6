// Name resolution: turns parsed terms into IR terms. Locals get frame slots (with
// block scoping for comprehensions and `every`), rule names and imports become data
// references, and call targets become builtins or user functions.
import type { Expr, Loc, Term } from '../ast.ts';
import type { BuiltinTable } from '../builtins/types.ts';
import { RegoError } from '../errors.ts';
import { RObject, RSet, type Value } from '../value.ts';
import type { FnRef, RExpr, RTerm, RWith } from './ir.ts';

export interface ModuleCtx {
  file: string;
  pkg: string[];
  /** First components of rule refs declared in this package (across modules). */
  ruleNames: Set<string>;
  imports: Map<string, string[]>;
  builtins: BuiltinTable;
  /** Function paths (dotted, without data.) declared anywhere, with their arity. */
  userFns: Map<string, number>;
}

const OPERATORS = new Set([
  'equal',
  'neq',
  'lt',
  'lte',
  'gt',
  'gte',
  'or',
  'and',
  'plus',
  'minus',
  'mul',
  'div',
  'rem',
  'internal.member_2',
  'internal.member_3',
  'internal.first',
]);

export class Scope {
  readonly vars = new Map<string, number>();
  /** `:=`-declared names, to report redeclaration. */
  readonly assigned = new Set<string>();
  constructor(
    readonly parent: Scope | undefined,
    readonly depth: number,
  ) {}
  lookup(name: string): number | undefined {
    const v = this.vars.get(name);
    if (v !== undefined) return v;
    return this.parent?.lookup(name);
  }
}

export class Resolver {
  nslots = 0;
  readonly slotDepth: number[] = [];
  readonly slotNames: string[] = [];
  /** Depth of the scope each nested body was resolved in. */
  readonly bodyDepth = new WeakMap<RExpr[], number>();

  constructor(readonly ctx: ModuleCtx) {}

  err(
    msg: string,
    loc: Loc,
    code: 'rego_compile_error' | 'rego_type_error' = 'rego_compile_error',
  ): RegoError {
    return new RegoError(code, msg, loc);
  }

  newSlot(name: string, scope: Scope): number {
    const s = this.nslots++;
    this.slotDepth[s] = scope.depth;
    this.slotNames[s] = name;
    return s;
  }

  declare(name: string, scope: Scope): number {
    const s = this.newSlot(name, scope);
    scope.vars.set(name, s);
    return s;
  }

  isGlobal(name: string): boolean {
    return (
      name === 'input' ||
      name === 'data' ||
      this.ctx.ruleNames.has(name) ||
      this.ctx.imports.has(name)
    );
  }

  /** Declares the variables of a body before resolving it, so later uses and nested
   * closures see one shared slot. */
  predeclare(body: Expr[], scope: Scope, extraTerms: Term[] = []): void {
    // Explicit declarations (`:=`, `some`) take effect where they appear (see body());
    // every other variable belongs to the whole body.
    const explicit = new Set<string>();
    for (const e of body) declaredNames(e, explicit);
    const names: string[] = [];
    for (const e of body) collectExprVars(e, names, (t) => this.namesFunction(t, scope));
    for (const t of extraTerms) collectTermVars(t, names);
    for (const n of names) {
      if (n === '_' || explicit.has(n) || scope.lookup(n) !== undefined || this.isGlobal(n))
        continue;
      this.declare(n, scope);
    }
  }

  /** True when a with-value names a function rather than a variable. */
  private namesFunction(t: Term, scope: Scope): boolean {
    const parts = refParts(t);
    if (!parts || scope.lookup(parts[0] as string) !== undefined) return false;
    const name = parts.join('.');
    if (this.ctx.builtins[name]) return true;
    if (parts[0] === 'data') return this.ctx.userFns.has(parts.slice(1).join('.'));
    return this.ctx.userFns.has([...this.ctx.pkg, ...parts].join('.'));
  }

  private declareIn(e: Expr, scope: Scope): void {
    switch (e.kind) {
      case 'some':
        for (const v of e.vars) if (v.type === 'var' && v.name !== '_') this.declare(v.name, scope);
        break;
      case 'assign': {
        const names: string[] = [];
        collectTermVars(e.left, names);
        if (e.left.type !== 'var' && e.left.type !== 'array' && e.left.type !== 'object')
          throw this.err('cannot assign to ' + describe(e.left), e.loc);
        for (const n of names) {
          if (n === '_') continue;
          if (n === 'input' || n === 'data')
            throw this.err(`variables must not shadow ${n} (use a different variable name)`, e.loc);
          if (scope.assigned.has(n)) throw this.err(`var ${n} assigned above`, e.loc);
          scope.assigned.add(n);
          this.declare(n, scope);
        }
        break;
      }
      case 'somein': {
        const names: string[] = [];
        if (e.key) collectTermVars(e.key, names);
        collectTermVars(e.value, names);
        for (const n of names) if (n !== '_') this.declare(n, scope);
        break;
      }
    }
  }

  body(body: Expr[], scope: Scope): RExpr[] {
    const out: RExpr[] = [];
    for (const e of body) {
      this.declareIn(e, scope);
      const r = this.expr(e, scope);
      if (r) out.push(r);
    }
    this.bodyDepth.set(out, scope.depth);
    return out;
  }

  expr(e: Expr, scope: Scope): RExpr | undefined {
    const withs = e.with.map((w) => this.with(w.target, w.value, scope, w.loc));
    const base = { neg: e.negated, withs, loc: e.loc };
    switch (e.kind) {
      case 'some':
        return { k: 'true', ...base };
      case 'term':
        return { k: 'term', term: this.term(e.term, scope), ...base };
      case 'unify':
        return { k: 'unify', a: this.term(e.left, scope), b: this.term(e.right, scope), ...base };
      case 'assign':
        return { k: 'unify', a: this.term(e.left, scope), b: this.term(e.right, scope), ...base };
      case 'somein':
        return {
          k: 'somein',
          key: e.key ? this.term(e.key, scope) : undefined,
          value: this.term(e.value, scope),
          domain: this.term(e.domain, scope),
          ...base,
        };
      case 'every': {
        const inner = new Scope(scope, scope.depth + 1);
        const names: string[] = [];
        if (e.key) collectTermVars(e.key, names);
        collectTermVars(e.value, names);
        for (const n of names) if (n !== '_') this.declare(n, inner);
        const domain = this.term(e.domain, scope);
        const key = e.key ? this.term(e.key, inner) : undefined;
        const value = this.term(e.value, inner);
        this.predeclare(e.body, inner);
        const body = this.body(e.body, inner);
        return { k: 'every', key, value, domain, body, ...base };
      }
      case 'group':
        return { k: 'group', body: this.nested(e.body, scope), ...base };
      case 'and':
      case 'or':
        return {
          k: e.kind,
          left: this.nested([e.left], scope),
          right: this.nested([e.right], scope),
          ...base,
        };
    }
  }

  /** Operands of and/or and explicit `{ ... }` bodies get their own scope. */
  private nested(exprs: Expr[], scope: Scope): RExpr[] {
    const flat: Expr[] = [];
    for (const e of exprs) {
      if (e.kind === 'group' && !e.negated && e.with.length === 0) flat.push(...e.body);
      else flat.push(e);
    }
    const inner = new Scope(scope, scope.depth + 1);
    this.predeclare(flat, inner);
    return this.body(flat, inner);
  }

  private with(target: Term, value: Term, scope: Scope, loc: Loc): RWith {
    const parts = refParts(target);
    if (!parts)
      throw this.err('with keyword target must reference existing input, data, or a function', loc);
    const fnValue = this.fnValue(value, scope);
    const v: RTerm = fnValue ? { t: 'const', v: null } : this.term(value, scope);
    const [first, ...rest] = parts;
    if (first === 'input') return { target: { kind: 'input', path: rest }, value: v, fnValue };
    let full: string[] | undefined;
    if (first === 'data') full = rest;
    else if (this.ctx.ruleNames.has(first as string)) full = [...this.ctx.pkg, ...parts];
    else if (this.ctx.imports.has(first as string)) {
      const imp = this.ctx.imports.get(first as string) as string[];
      if (imp[0] === 'input')
        return { target: { kind: 'input', path: [...imp.slice(1), ...rest] }, value: v, fnValue };
      full = [...imp.slice(1), ...rest];
    }
    if (full && this.ctx.userFns.has(full.join('.')))
      return { target: { kind: 'fn', name: 'data.' + full.join('.') }, value: v, fnValue };
    if (full) return { target: { kind: 'data', path: full }, value: v, fnValue };
    const name = parts.join('.');
    if (this.ctx.builtins[name]) return { target: { kind: 'fn', name }, value: v, fnValue };
    throw this.err('with keyword target must reference existing input, data, or a function', loc);
  }

  /** When a with-value names a function, the replacement is that function. */
  private fnValue(value: Term, scope: Scope): FnRef | undefined {
    const parts = refParts(value);
    if (!parts || scope.lookup(parts[0] as string) !== undefined) return undefined;
    try {
      const f = this.fn(value, scope, value.loc);
      if (f.kind === 'user' && !this.ctx.userFns.has(f.path.join('.'))) return undefined;
      return f;
    } catch {
      return undefined;
    }
  }

  fn(t: Term, scope: Scope, loc: Loc): FnRef {
    const parts = refParts(t);
    if (!parts) throw this.err('invalid function reference', loc);
    const name = parts.join('.');
    if (OPERATORS.has(name))
      return { kind: 'builtin', name, def: this.ctx.builtins[name] ?? missing(name) };
    const first = parts[0] as string;
    if (scope.lookup(first) !== undefined)
      throw this.err(`${first} is a local variable, not a function`, loc, 'rego_type_error');
    let path: string[] | undefined;
    if (first === 'data') path = parts.slice(1);
    else if (
      this.ctx.ruleNames.has(first) &&
      this.ctx.userFns.has([...this.ctx.pkg, ...parts].join('.'))
    )
      path = [...this.ctx.pkg, ...parts];
    else if (this.ctx.imports.has(first))
      path = [...(this.ctx.imports.get(first) as string[]).slice(1), ...parts.slice(1)];
    if (path) return this.user(path);
    const def = this.ctx.builtins[name];
    if (def) return { kind: 'builtin', name, def };
    if (this.ctx.ruleNames.has(first)) {
      return this.user([...this.ctx.pkg, ...parts]);
    }
    throw this.err(`undefined function ${name}`, loc, 'rego_type_error');
  }

  private user(path: string[]): FnRef {
    const arity = this.ctx.userFns.get(path.join('.')) ?? -1;
    return { kind: 'user', name: 'data.' + path.join('.'), path, arity };
  }

  term(t: Term, scope: Scope): RTerm {
    switch (t.type) {
      case 'scalar':
        return { t: 'const', v: t.value };
      case 'var':
        return this.var(t.name, scope, t.loc);
      case 'ref': {
        const head = this.term(t.head, scope);
        const path = t.path.map((p) => this.term(p, scope));
        if (head.t === 'data' || head.t === 'input')
          return { t: head.t, path: [...head.path, ...path] };
        if (head.t === 'ref') return { t: 'ref', head: head.head, path: [...head.path, ...path] };
        return { t: 'ref', head, path };
      }
      case 'array': {
        const items = t.items.map((i) => this.term(i, scope));
        return allConst(items) ? { t: 'const', v: items.map(constOf) } : { t: 'array', items };
      }
      case 'set': {
        const items = t.items.map((i) => this.term(i, scope));
        return allConst(items)
          ? { t: 'const', v: RSet.of(items.map(constOf)) }
          : { t: 'set', items };
      }
      case 'object': {
        const items = t.items.map(
          ([k, v]) => [this.term(k, scope), this.term(v, scope)] as [RTerm, RTerm],
        );
        if (items.every(([k, v]) => k.t === 'const' && v.t === 'const')) {
          const o = new RObject();
          for (const [k, v] of items) o.set(constOf(k), constOf(v));
          return { t: 'const', v: o };
        }
        return { t: 'object', items };
      }
      case 'arraycompr':
      case 'setcompr': {
        const inner = new Scope(scope, scope.depth + 1);
        this.predeclare(t.body, inner, [t.term]);
        const body = this.body(t.body, inner);
        return { t: t.type, term: this.term(t.term, inner), body };
      }
      case 'objectcompr': {
        const inner = new Scope(scope, scope.depth + 1);
        this.predeclare(t.body, inner, [t.key, t.value]);
        const body = this.body(t.body, inner);
        return {
          t: 'objectcompr',
          key: this.term(t.key, inner),
          value: this.term(t.value, inner),
          body,
        };
      }
      case 'call': {
        const fn = this.fn(t.fn, scope, t.loc);
        return { t: 'call', fn, args: t.args.map((a) => this.term(a, scope)), loc: t.loc };
      }
      case 'template':
        return {
          t: 'template',
          parts: t.parts.map((p) => (typeof p === 'string' ? p : this.term(p, scope))),
        };
    }
  }

  var(name: string, scope: Scope, loc: Loc): RTerm {
    if (name === '_') return { t: 'local', slot: this.newSlot('_', scope), name };
    const s = scope.lookup(name);
    if (s !== undefined) return { t: 'local', slot: s, name };
    if (name === 'input') return { t: 'input', path: [] };
    if (name === 'data') return { t: 'data', path: [] };
    if (this.ctx.ruleNames.has(name)) return { t: 'data', path: [...this.ctx.pkg, name].map(cs) };
    const imp = this.ctx.imports.get(name);
    if (imp) {
      const [root, ...rest] = imp;
      return { t: root === 'input' ? 'input' : 'data', path: rest.map(cs) };
    }
    void loc;
    return { t: 'local', slot: this.declare(name, scope), name };
  }
}

function missing(name: string): never {
  throw new Error(`internal: operator builtin ${name} is not registered`);
}

function cs(s: string): RTerm {
  return { t: 'const', v: s };
}

function allConst(items: RTerm[]): boolean {
  return items.every((i) => i.t === 'const');
}

function constOf(t: RTerm): Value {
  return (t as { v: Value }).v;
}

function describe(t: Term): string {
  return t.type === 'scalar' ? 'constant' : t.type;
}

/** Dotted name parts for var/ref terms made of a var head and string keys. */
export function refParts(t: Term): string[] | undefined {
  if (t.type === 'var') return [t.name];
  if (t.type !== 'ref' || t.head.type !== 'var') return undefined;
  const out = [t.head.name];
  for (const p of t.path) {
    if (p.type !== 'scalar' || typeof p.value !== 'string') return undefined;
    out.push(p.value);
  }
  return out;
}

export function collectTermVars(t: Term, out: string[]): void {
  switch (t.type) {
    case 'var':
      out.push(t.name);
      return;
    case 'ref':
      collectTermVars(t.head, out);
      for (const p of t.path) collectTermVars(p, out);
      return;
    case 'array':
    case 'set':
      for (const i of t.items) collectTermVars(i, out);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        collectTermVars(k, out);
        collectTermVars(v, out);
      }
      return;
    case 'call':
      for (const a of t.args) collectTermVars(a, out);
      return;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') collectTermVars(p, out);
      return;
    default:
      return;
  }
}

function declaredNames(e: Expr, out: Set<string>): void {
  const names: string[] = [];
  if (e.kind === 'some') for (const v of e.vars) collectTermVars(v, names);
  if (e.kind === 'assign') collectTermVars(e.left, names);
  if (e.kind === 'somein') {
    if (e.key) collectTermVars(e.key, names);
    collectTermVars(e.value, names);
  }
  for (const n of names) out.add(n);
}

function collectExprVars(e: Expr, out: string[], isFn: (t: Term) => boolean): void {
  for (const w of e.with) if (!isFn(w.value)) collectTermVars(w.value, out);
  switch (e.kind) {
    case 'term':
      collectTermVars(e.term, out);
      return;
    case 'unify':
    case 'assign':
      collectTermVars(e.left, out);
      collectTermVars(e.right, out);
      return;
    case 'somein':
    case 'every':
      collectTermVars(e.domain, out);
      return;
    case 'and':
    case 'or':
    case 'group':
    case 'some':
      return;
  }
}
