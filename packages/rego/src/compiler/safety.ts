// Safety analysis and body reordering. Rego evaluates body expressions in an order
// where every variable is bound before it is needed; like OPA, we pick the first
// expression that can run, repeatedly, and report unsafe variables otherwise.
import type { Loc } from '../ast.ts';
import { RegoError } from '../errors.ts';
import type { RExpr, RTerm } from './ir.ts';

type Bound = Set<number>;

interface Acc {
  need: Set<number>;
  out: Set<number>;
}

export class Safety {
  constructor(
    private readonly slotDepth: number[],
    private readonly slotNames: string[],
    private readonly bodyDepth: WeakMap<RExpr[], number>,
  ) {}

  /** Reorders `body` in place-safe order; returns the new body and the bound set. */
  reorder(body: RExpr[], bound: Bound, loc: Loc): { body: RExpr[]; bound: Bound } {
    const remaining = [...body];
    const out: RExpr[] = [];
    let b = new Set(bound);
    const uses = this.useCounts(body);
    while (remaining.length) {
      let picked = -1;
      let outputs: Set<number> | null = null;
      for (let i = 0; i < remaining.length; i++) {
        outputs = this.canRun(remaining[i] as RExpr, b, uses);
        if (outputs) {
          picked = i;
          break;
        }
      }
      if (picked < 0 || !outputs) {
        const e = remaining[0] as RExpr;
        const acc: Acc = { need: new Set(), out: new Set() };
        this.exprVars(e, b, acc);
        const names = [...acc.need].map((s) => this.slotNames[s]).filter((n) => n && n !== '_');
        const name = names[0] ?? [...acc.need].map((s) => this.slotNames[s])[0] ?? '?';
        throw new RegoError('rego_unsafe_var_error', `var ${name} is unsafe`, e.loc ?? loc);
      }
      const e = remaining.splice(picked, 1)[0] as RExpr;
      this.reorderNested(e, b);
      out.push(e);
      b = new Set([...b, ...outputs]);
    }
    return { body: out, bound: b };
  }

  /** Checks that a head term's variables are bound by the body. */
  checkBound(t: RTerm, bound: Bound, loc: Loc): void {
    const acc: Acc = { need: new Set(), out: new Set() };
    this.analyze(t, bound, acc);
    for (const s of acc.need)
      throw new RegoError('rego_unsafe_var_error', `var ${this.slotNames[s]} is unsafe`, loc);
  }

  private useCounts(body: RExpr[]): Map<number, number> {
    const m = new Map<number, number>();
    for (const e of body) {
      const acc: Acc = { need: new Set(), out: new Set() };
      this.exprVars(e, new Set(), acc);
      for (const s of new Set([...acc.need, ...acc.out])) m.set(s, (m.get(s) ?? 0) + 1);
    }
    return m;
  }

  /** Reorders comprehension bodies nested in a term, given the variables bound around it. */
  reorderTerm(t: RTerm, b: Bound, loc: Loc): RTerm {
    switch (t.t) {
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr': {
        const r = this.reorder(t.body, b, loc);
        t.body.splice(0, t.body.length, ...r.body);
        for (const h of t.t === 'objectcompr' ? [t.key, t.value] : [t.term]) {
          this.reorderTerm(h, r.bound, loc);
          this.checkBound(h, r.bound, loc);
        }
        return t;
      }
      default:
        for (const c of children(t)) this.reorderTerm(c, b, loc);
        return t;
    }
  }

  private reorderNested(e: RExpr, bound: Bound): void {
    const visitTerm = (t: RTerm, b: Bound): void => {
      this.reorderTerm(t, b, e.loc);
    };
    // Bound here includes variables the expression itself binds before nested bodies
    // run (ref iteration happens first), so use the expression's outputs too.
    const acc: Acc = { need: new Set(), out: new Set() };
    this.exprVars(e, bound, acc);
    const b = new Set([...bound, ...acc.out]);
    switch (e.k) {
      case 'term':
        visitTerm(e.term, b);
        break;
      case 'unify':
        visitTerm(e.a, b);
        visitTerm(e.b, b);
        break;
      case 'somein':
        visitTerm(e.domain, b);
        break;
      case 'every': {
        visitTerm(e.domain, b);
        const inner = new Set(b);
        for (const t of e.key ? [e.key, e.value] : [e.value]) {
          const a: Acc = { need: new Set(), out: new Set() };
          this.pattern(t, new Set(), a);
          for (const s of [...a.need, ...a.out]) inner.add(s);
        }
        const r = this.reorder(e.body, inner, e.loc);
        e.body.splice(0, e.body.length, ...r.body);
        break;
      }
      case 'and':
      case 'or':
      case 'group':
        for (const sub of nestedBodies(e)) {
          const r = this.reorder(sub, b, e.loc);
          sub.splice(0, sub.length, ...r.body);
        }
        break;
    }
    for (const w of e.withs) visitTerm(w.value, b);
  }

  /** Returns the slots an expression binds if it can run now, else null. */
  canRun(e: RExpr, bound: Bound, uses: Map<number, number>): Set<number> | null {
    const acc: Acc = { need: new Set(), out: new Set() };
    for (const w of e.withs) this.analyze(w.value, bound, acc);
    if (acc.need.size) return null;
    if (e.neg) {
      this.exprVars(e, bound, acc);
      for (const s of acc.need) if ((uses.get(s) ?? 0) > 1 || this.isOuter(s, e)) return null;
      for (const s of acc.out)
        if (!bound.has(s) && ((uses.get(s) ?? 0) > 1 || this.isOuter(s, e))) return null;
      return new Set();
    }
    const r = this.exprOutputs(e, bound, acc);
    return r;
  }

  private isOuter(_s: number, _e: RExpr): boolean {
    return false;
  }

  private exprOutputs(e: RExpr, bound: Bound, acc: Acc): Set<number> | null {
    switch (e.k) {
      case 'true':
        return new Set();
      case 'term': {
        this.termExpr(e.term, bound, acc);
        return acc.need.size ? null : acc.out;
      }
      case 'unify':
        return this.unify(e.a, e.b, bound);
      case 'somein': {
        this.analyze(e.domain, bound, acc);
        if (acc.need.size) return null;
        const b = new Set([...bound, ...acc.out]);
        if (e.key) this.pattern(e.key, b, acc);
        this.pattern(e.value, new Set([...b, ...acc.out]), acc);
        return acc.need.size ? null : acc.out;
      }
      case 'every': {
        this.analyze(e.domain, bound, acc);
        this.closure(e.body, bound, acc);
        return acc.need.size ? null : new Set();
      }
      case 'and':
      case 'or':
      case 'group':
        for (const sub of nestedBodies(e)) this.closure(sub, bound, acc);
        return acc.need.size ? null : new Set();
    }
  }

  /** A call used as an expression may carry an extra output operand. */
  private termExpr(t: RTerm, bound: Bound, acc: Acc): void {
    if (t.t === 'call' && hasOutputArg(t)) {
      const args = t.args.slice(0, -1);
      for (const a of args) this.analyze(a, new Set([...bound, ...acc.out]), acc);
      this.pattern(t.args[t.args.length - 1] as RTerm, new Set([...bound, ...acc.out]), acc);
      return;
    }
    // Ref iteration anywhere in the term binds its variables before the rest runs.
    const pre: Acc = { need: new Set(), out: new Set() };
    this.analyze(t, bound, pre);
    this.analyze(t, new Set([...bound, ...pre.out]), acc);
    for (const s of pre.out) acc.out.add(s);
  }

  private unify(a: RTerm, b: RTerm, bound: Bound): Set<number> | null {
    if (a.t === 'local' && !bound.has(a.slot)) {
      const acc: Acc = { need: new Set(), out: new Set() };
      this.analyze(b, bound, acc);
      if (acc.need.size) return null;
      acc.out.add(a.slot);
      return acc.out;
    }
    if (b.t === 'local' && !bound.has(b.slot)) return this.unify(b, a, bound);
    if (a.t === 'array' && b.t === 'array' && a.items.length === b.items.length) {
      let cur = new Set(bound);
      const out = new Set<number>();
      let ok = true;
      // Pairwise, retrying until no progress so order between elements does not matter.
      const pending = a.items.map((x, i) => [x, b.items[i] as RTerm] as const);
      while (pending.length) {
        const idx = pending.findIndex(([x, y]) => this.unify(x, y, cur) !== null);
        if (idx < 0) {
          ok = false;
          break;
        }
        const [x, y] = pending.splice(idx, 1)[0] as readonly [RTerm, RTerm];
        const r = this.unify(x, y, cur) as Set<number>;
        for (const s of r) out.add(s);
        cur = new Set([...cur, ...r]);
      }
      if (ok) return out;
    }
    if (a.t === 'object' && b.t === 'object' && a.items.length === b.items.length) {
      const out = new Set<number>();
      let cur = new Set(bound);
      let ok = true;
      for (const [k, v] of a.items) {
        const other = b.items.find(
          ([k2]) => k2.t === 'const' && k.t === 'const' && sameConst(k2.v, k.v),
        );
        if (!other) {
          ok = false;
          break;
        }
        const r = this.unify(v, other[1], cur);
        if (!r) {
          ok = false;
          break;
        }
        for (const s of r) out.add(s);
        cur = new Set([...cur, ...r]);
      }
      if (ok) return out;
    }
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const acc: Acc = { need: new Set(), out: new Set() };
      this.analyze(x, bound, acc);
      if (acc.need.size) continue;
      const b2 = new Set([...bound, ...acc.out]);
      this.pattern(y, b2, acc);
      if (acc.need.size) continue;
      return acc.out;
    }
    return null;
  }

  /** Pattern positions (vars directly inside array/object literals) become outputs. */
  private pattern(t: RTerm, bound: Bound, acc: Acc): void {
    switch (t.t) {
      case 'local':
        if (!bound.has(t.slot)) acc.out.add(t.slot);
        return;
      case 'array':
        for (const i of t.items) this.pattern(i, bound, acc);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          this.analyze(k, bound, acc);
          this.pattern(v, bound, acc);
        }
        return;
      default:
        this.analyze(t, bound, acc);
    }
  }

  private refKeys(path: RTerm[], bound: Bound, acc: Acc): void {
    for (const p of path) {
      if (p.t === 'local' || p.t === 'array' || p.t === 'object')
        this.pattern(p, new Set([...bound, ...acc.out]), acc);
      else this.analyze(p, bound, acc);
    }
  }

  /** Collects needed (unbound, required) and output (bound by iteration) slots. */
  analyze(t: RTerm, bound: Bound, acc: Acc): void {
    switch (t.t) {
      case 'const':
        return;
      case 'local':
        if (!bound.has(t.slot) && !acc.out.has(t.slot)) acc.need.add(t.slot);
        return;
      case 'input':
      case 'data':
        this.refKeys(t.path, bound, acc);
        return;
      case 'ref':
        this.analyze(t.head, bound, acc);
        this.refKeys(t.path, bound, acc);
        return;
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr':
        this.closure(t.body, bound, acc, t);
        return;
      default:
        for (const c of children(t)) this.analyze(c, bound, acc);
    }
  }

  /** Variables a nested body reads from the enclosing scope must be bound first. */
  private closure(body: RExpr[], bound: Bound, acc: Acc, head?: RTerm): void {
    const depth = this.bodyDepth.get(body) ?? 0;
    const seen: number[] = [];
    const visit = (t: RTerm): void => {
      if (t.t === 'local') seen.push(t.slot);
      for (const c of children(t)) visit(c);
      if (t.t === 'arraycompr' || t.t === 'setcompr' || t.t === 'objectcompr') visitBody(t.body);
    };
    const visitBody = (b: RExpr[]): void => {
      for (const e of b) {
        for (const w of e.withs) visit(w.value);
        for (const t of exprTerms(e)) visit(t);
        for (const sub of nestedBodies(e)) visitBody(sub);
      }
    };
    visitBody(body);
    if (head) for (const c of children(head)) if (!isBodyChild(head, c)) visit(c);
    for (const s of seen) {
      if ((this.slotDepth[s] ?? 0) < depth && !bound.has(s) && !acc.out.has(s)) acc.need.add(s);
    }
  }

  exprVars(e: RExpr, bound: Bound, acc: Acc): void {
    for (const w of e.withs) this.analyze(w.value, bound, acc);
    switch (e.k) {
      case 'term':
        this.termExpr(e.term, bound, acc);
        return;
      case 'unify':
        this.pattern(e.a, bound, acc);
        this.pattern(e.b, bound, acc);
        return;
      case 'somein':
        this.analyze(e.domain, bound, acc);
        if (e.key) this.pattern(e.key, bound, acc);
        this.pattern(e.value, bound, acc);
        return;
      case 'every':
        this.analyze(e.domain, bound, acc);
        this.closure(e.body, bound, acc);
        return;
      case 'and':
      case 'or':
      case 'group':
        for (const sub of nestedBodies(e)) this.closure(sub, bound, acc);
        return;
      case 'true':
        return;
    }
  }
}

function isBodyChild(_h: RTerm, _c: RTerm): boolean {
  return false;
}

function sameConst(a: unknown, b: unknown): boolean {
  return a === b;
}

export function hasOutputArg(t: RTerm & { t: 'call' }): boolean {
  if (t.fn.kind === 'builtin') return t.fn.def.arity >= 0 && t.args.length === t.fn.def.arity + 1;
  return t.fn.arity >= 0 && t.args.length === t.fn.arity + 1;
}

/** Bodies nested inside an expression (every, and/or operands, groups). */
export function nestedBodies(e: RExpr): RExpr[][] {
  switch (e.k) {
    case 'every':
      return [e.body];
    case 'and':
    case 'or':
      return [e.left, e.right];
    case 'group':
      return [e.body];
    default:
      return [];
  }
}

export function exprTerms(e: RExpr): RTerm[] {
  switch (e.k) {
    case 'term':
      return [e.term];
    case 'unify':
      return [e.a, e.b];
    case 'somein':
      return e.key ? [e.key, e.value, e.domain] : [e.value, e.domain];
    case 'every':
      return e.key ? [e.key, e.value, e.domain] : [e.value, e.domain];
    default:
      return [];
  }
}

export function children(t: RTerm): RTerm[] {
  switch (t.t) {
    case 'input':
    case 'data':
      return t.path;
    case 'ref':
      return [t.head, ...t.path];
    case 'array':
    case 'set':
      return t.items;
    case 'object':
      return t.items.flat();
    case 'call':
      return t.args;
    case 'template':
      return t.parts.filter((p): p is RTerm => typeof p !== 'string');
    case 'arraycompr':
    case 'setcompr':
      return [t.term];
    case 'objectcompr':
      return [t.key, t.value];
    default:
      return [];
  }
}
