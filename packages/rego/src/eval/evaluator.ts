// Top-down evaluator. Evaluation is continuation-passing: each step calls `k` once
// per solution and returns true to stop early (used by `not`, `every` and halting).
// Variables live in per-rule frames and are unbound again when a branch backtracks.
import type { Loc } from '../ast.ts';
import type { BuiltinCtx } from '../builtins/types.ts';
import type { CompiledPolicy } from '../compiler/index.ts';
import {
  hasRules,
  isFuncNode,
  type CRule,
  type FnRef,
  type RExpr,
  type RTerm,
  type RuleNode,
} from '../compiler/ir.ts';
import { hasOutputArg } from '../compiler/safety.ts';
import { compiledBody } from './body-closures.ts';
import { compiledFunction, compiledRule, compiledSetRule } from './rule-closures.ts';
import { BuiltinError, RegoError } from '../errors.ts';
import { RObject, RSet, equal, formatValue, type Value } from '../value.ts';
import {
  findOverlay,
  insertNested,
  lookup,
  mergeValues,
  namespaces,
  overlayBelow,
  upsert,
} from './documents.ts';

export { lookup, upsert } from './documents.ts';

export type Frame = (Value | undefined)[];
type K = () => boolean;
type VK = (v: Value) => boolean;

type Mock = { fn: FnRef } | { value: Value };

interface Env {
  input: Value | undefined;
  data: Value;
  overlays: { path: string[]; value: Value }[] | undefined;
  mocks: Map<string, Mock> | undefined;
  cache: Map<RuleNode, Value | typeof UNDEF>;
  nsCache: Map<RuleNode, Value>;
}

export interface EvalLimits {
  /** Maximum number of evaluated expressions before `eval_limit_exceeded`. */
  maxSteps?: number;
  /** Wall-clock budget in milliseconds. */
  timeoutMs?: number;
}

export interface EvalSettings extends EvalLimits {
  input: Value | undefined;
  data: Value;
  strictBuiltinErrors?: boolean;
  nowNs?: bigint;
  print?: (msg: string) => void;
}

const UNDEF = Symbol('undefined');
const CLOCK_EVERY = 1024;
const COMPLETE_CONFLICT = 'complete rules must not produce multiple outputs';
const NOT_CACHED = Symbol('not-cached');

export class Evaluator {
  env: Env;
  steps = 0;
  /** Step count at which limits are checked next. */
  checkAt: number;
  readonly maxSteps: number;
  readonly deadline: number;
  readonly strict: boolean;
  readonly ctx: BuiltinCtx;
  readonly nodeCache = new Map<string, RuleNode | undefined>();
  readonly inProgress = new Set<RuleNode>();

  constructor(
    readonly policy: CompiledPolicy,
    s: EvalSettings,
  ) {
    this.env = {
      input: s.input,
      data: s.data,
      overlays: undefined,
      mocks: undefined,
      cache: new Map(),
      nsCache: new Map(),
    };
    this.maxSteps = s.maxSteps ?? Infinity;
    this.checkAt = Math.min(this.maxSteps, CLOCK_EVERY);
    this.deadline = s.timeoutMs !== undefined ? Date.now() + s.timeoutMs : Infinity;
    this.strict = s.strictBuiltinErrors ?? false;
    const print = s.print ?? ((m: string) => process.stderr.write(m + '\n'));
    this.ctx = {
      nowNs: s.nowNs ?? BigInt(Date.now()) * 1000000n,
      cache: new Map(),
      print,
    };
  }

  // ---- bodies and expressions ----

  evalBody(body: RExpr[], f: Frame, k: K): boolean {
    return compiledBody(body, this.policy.root)(this, f, k);
  }

  /** Called when the step counter passes `checkAt`: enforces the step limit and,
   * every CLOCK_EVERY steps, the deadline (reading the clock is not free). */
  checkLimits(loc: Loc): void {
    if (this.steps > this.maxSteps) this.limit(loc);
    if (Date.now() > this.deadline) this.limit(loc);
    this.checkAt = Math.min(this.maxSteps, this.steps + CLOCK_EVERY);
  }

  limit(loc: Loc): never {
    const what =
      this.steps > this.maxSteps
        ? `step limit of ${this.maxSteps} exceeded`
        : 'time limit exceeded';
    throw new RegoError('eval_limit_exceeded', `evaluation stopped: ${what}`, loc);
  }

  evalExpr(e: RExpr, f: Frame, k: K): boolean {
    if (e.withs.length) return this.evalWith(e, f, k, 0);
    return this.evalExprNoWith(e, f, k);
  }

  evalExprNoWith(e: RExpr, f: Frame, k: K): boolean {
    if (e.neg) {
      const found = this.evalExprCore(e, f, () => true);
      return found ? false : k();
    }
    return this.evalExprCore(e, f, k);
  }

  evalExprCore(e: RExpr, f: Frame, k: K): boolean {
    switch (e.k) {
      case 'true':
        return k();
      case 'term': {
        const t = e.term;
        if (t.t === 'call' && hasOutputArg(t)) return this.evalCall(t, f, () => k());
        return this.evalTerm(t, f, (v) => (v !== false ? k() : false));
      }
      case 'unify':
        return this.unifyTT(e.a, e.b, f, k);
      case 'somein':
        return this.evalTerm(e.domain, f, (d) =>
          this.iterate(d, (key, val) =>
            e.key
              ? this.unifyTV(e.key, key, f, () => this.unifyTV(e.value, val, f, k))
              : this.unifyTV(e.value, val, f, k),
          ),
        );
      case 'every':
        return this.evalTerm(e.domain, f, (d) => {
          if (!(Array.isArray(d) || d instanceof RObject || d instanceof RSet)) return false;
          let ok = true;
          this.iterate(d, (key, val) => {
            const found = e.key
              ? this.unifyTV(e.key, key, f, () =>
                  this.unifyTV(e.value, val, f, () => this.evalBody(e.body, f, () => true)),
                )
              : this.unifyTV(e.value, val, f, () => this.evalBody(e.body, f, () => true));
            if (!found) ok = false;
            return !ok;
          });
          return ok ? k() : false;
        });
      // Logic operators and explicit bodies are tests: they succeed at most once
      // and their bindings stay inside.
      case 'and':
        return this.succeeds(e.left, f) && this.succeeds(e.right, f) ? k() : false;
      case 'or':
        return this.succeeds(e.left, f) || this.succeeds(e.right, f) ? k() : false;
      case 'group':
        return this.succeeds(e.body, f) ? k() : false;
    }
  }

  succeeds(body: RExpr[], f: Frame): boolean {
    return this.evalBody(body, f, () => true);
  }

  evalWith(
    e: RExpr,
    f: Frame,
    k: K,
    i: number,
    acc: [RExpr['withs'][number], Value][] = [],
  ): boolean {
    if (i < e.withs.length) {
      const w = e.withs[i] as RExpr['withs'][number];
      if (w.fnValue) return this.evalWith(e, f, k, i + 1, [...acc, [w, null]]);
      return this.evalTerm(w.value, f, (v) => this.evalWith(e, f, k, i + 1, [...acc, [w, v]]));
    }
    const saved = this.env;
    const next: Env = { ...saved, cache: new Map(), nsCache: new Map() };
    for (const [w, v] of acc) {
      const tg = w.target;
      if (tg.kind === 'input')
        next.input = tg.path.length === 0 ? v : upsert(next.input, tg.path, v);
      else if (tg.kind === 'data')
        next.overlays = [...(next.overlays ?? []), { path: tg.path, value: v }];
      else {
        next.mocks = new Map(next.mocks);
        next.mocks.set(tg.name, w.fnValue ? { fn: w.fnValue } : { value: v });
      }
    }
    this.env = next;
    try {
      return this.evalExprNoWith(e, f, () => {
        this.env = saved;
        try {
          return k();
        } finally {
          this.env = next;
        }
      });
    } finally {
      this.env = saved;
    }
  }

  // ---- unification ----

  unifyTV(t: RTerm, v: Value, f: Frame, k: K): boolean {
    switch (t.t) {
      case 'local': {
        const cur = f[t.slot];
        if (cur === undefined) {
          f[t.slot] = v;
          try {
            return k();
          } finally {
            f[t.slot] = undefined;
          }
        }
        return equal(cur, v) ? k() : false;
      }
      case 'const':
        return equal(t.v, v) ? k() : false;
      case 'array':
        if (!Array.isArray(v) || v.length !== t.items.length) return false;
        return this.unifyItems(t.items, v, 0, f, k);
      case 'object': {
        if (!(v instanceof RObject) || v.size !== t.items.length) return false;
        return this.unifyObject(t.items, v, 0, f, k);
      }
      default:
        return this.evalTerm(t, f, (x) => (equal(x, v) ? k() : false));
    }
  }

  unifyItems(items: RTerm[], v: Value[], i: number, f: Frame, k: K): boolean {
    if (i === items.length) return k();
    return this.unifyTV(items[i] as RTerm, v[i] as Value, f, () =>
      this.unifyItems(items, v, i + 1, f, k),
    );
  }

  unifyObject(items: [RTerm, RTerm][], v: RObject, i: number, f: Frame, k: K): boolean {
    if (i === items.length) return k();
    const [kt, vt] = items[i] as [RTerm, RTerm];
    return this.evalTerm(kt, f, (key) => {
      const child = v.get(key);
      if (child === undefined) return false;
      return this.unifyTV(vt, child, f, () => this.unifyObject(items, v, i + 1, f, k));
    });
  }

  unifyTT(a: RTerm, b: RTerm, f: Frame, k: K): boolean {
    if (a.t === 'local' && f[a.slot] === undefined)
      return this.evalTerm(b, f, (v) => this.unifyTV(a, v, f, k));
    if (b.t === 'local' && f[b.slot] === undefined)
      return this.evalTerm(a, f, (v) => this.unifyTV(b, v, f, k));
    if (a.t === 'array' && b.t === 'array') {
      if (a.items.length !== b.items.length) return false;
      return this.unifyPairs(a.items, b.items, 0, f, k);
    }
    if (a.t === 'object' && b.t === 'object' && !this.isGround(a, f) && !this.isGround(b, f)) {
      if (a.items.length !== b.items.length) return false;
      const bs: RTerm[] = [];
      for (const [ka] of a.items) {
        const m = b.items.find(([kb]) => kb.t === 'const' && ka.t === 'const' && equal(kb.v, ka.v));
        if (!m) return false;
        bs.push(m[1]);
      }
      return this.unifyPairs(
        a.items.map((x) => x[1]),
        bs,
        0,
        f,
        k,
      );
    }
    if (this.isGround(a, f)) return this.evalTerm(a, f, (v) => this.unifyTV(b, v, f, k));
    return this.evalTerm(b, f, (v) => this.unifyTV(a, v, f, k));
  }

  unifyPairs(as: RTerm[], bs: RTerm[], i: number, f: Frame, k: K): boolean {
    if (i === as.length) return k();
    return this.unifyTT(as[i] as RTerm, bs[i] as RTerm, f, () =>
      this.unifyPairs(as, bs, i + 1, f, k),
    );
  }

  /** True when the term has no unbound variables in pattern positions. */
  isGround(t: RTerm, f: Frame): boolean {
    switch (t.t) {
      case 'local':
        return f[t.slot] !== undefined;
      case 'array':
      case 'set':
        return t.items.every((x) => this.isGround(x, f));
      case 'object':
        return t.items.every(([x, y]) => this.isGround(x, f) && this.isGround(y, f));
      default:
        return true;
    }
  }

  // ---- terms ----

  evalTerm(t: RTerm, f: Frame, k: VK): boolean {
    switch (t.t) {
      case 'const':
        return k(t.v);
      case 'local': {
        const v = f[t.slot];
        if (v === undefined) throw new RegoError('eval_internal_error', `var ${t.name} is unbound`);
        return k(v);
      }
      case 'input': {
        const inp = this.env.input;
        if (inp === undefined) return false;
        return this.walk(inp, t.path, 0, f, k);
      }
      case 'data':
        return this.dataWalk(this.policy.root, this.env.data, t.path, 0, [], f, k);
      case 'ref':
        return this.evalTerm(t.head, f, (v) => this.walk(v, t.path, 0, f, k));
      case 'array':
        return this.evalItems(t.items, 0, new Array(t.items.length), f, (vals) => k(vals.slice()));
      case 'set':
        return this.evalItems(t.items, 0, new Array(t.items.length), f, (vals) => k(RSet.of(vals)));
      case 'object': {
        const flat = t.items.flat();
        return this.evalItems(flat, 0, new Array(flat.length), f, (vals) => {
          const o = new RObject();
          for (let i = 0; i < vals.length; i += 2) o.set(vals[i] as Value, vals[i + 1] as Value);
          return k(o);
        });
      }
      case 'arraycompr': {
        const out: Value[] = [];
        this.evalBody(t.body, f, () =>
          this.evalTerm(t.term, f, (v) => {
            out.push(v);
            return false;
          }),
        );
        return k(out);
      }
      case 'setcompr': {
        const out = new RSet();
        this.evalBody(t.body, f, () =>
          this.evalTerm(t.term, f, (v) => {
            out.add(v);
            return false;
          }),
        );
        return k(out);
      }
      case 'objectcompr': {
        const out = new RObject();
        this.evalBody(t.body, f, () =>
          this.evalTerm(t.key, f, (key) =>
            this.evalTerm(t.value, f, (v) => {
              const prev = out.get(key);
              if (prev !== undefined && !equal(prev, v))
                throw new RegoError('eval_conflict_error', 'object keys must be unique');
              out.set(key, v);
              return false;
            }),
          ),
        );
        return k(out);
      }
      case 'call':
        return this.evalCall(t, f, k);
      case 'template': {
        let s = '';
        for (const p of t.parts) {
          if (typeof p === 'string') {
            s += p;
            continue;
          }
          let got: Value | undefined;
          this.evalTerm(p, f, (v) => {
            got = v;
            return true;
          });
          s += got === undefined ? '<undefined>' : typeof got === 'string' ? got : formatValue(got);
        }
        return k(s);
      }
    }
  }

  evalItems(
    items: RTerm[],
    i: number,
    acc: Value[],
    f: Frame,
    k: (vals: Value[]) => boolean,
  ): boolean {
    if (i === items.length) return k(acc);
    return this.evalTerm(items[i] as RTerm, f, (v) => {
      acc[i] = v;
      return this.evalItems(items, i + 1, acc, f, k);
    });
  }

  /** Iterates collection members as (key, value); sets yield each member as both. */
  iterate(v: Value, cb: (key: Value, val: Value) => boolean): boolean {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (cb(i, v[i] as Value)) return true;
    } else if (v instanceof RObject) {
      for (const [key, val] of v.entries()) if (cb(key, val)) return true;
    } else if (v instanceof RSet) {
      for (const x of v.values()) if (cb(x, x)) return true;
    }
    return false;
  }

  walk(v: Value, path: RTerm[], i: number, f: Frame, k: VK): boolean {
    if (i === path.length) return k(v);
    const p = path[i] as RTerm;
    if (p.t === 'const') {
      const c = lookup(v, p.v);
      return c === undefined ? false : this.walk(c, path, i + 1, f, k);
    }
    if (p.t === 'local') {
      const bound = f[p.slot];
      if (bound !== undefined) {
        const c = lookup(v, bound);
        return c === undefined ? false : this.walk(c, path, i + 1, f, k);
      }
      return this.iterate(v, (key, val) => {
        f[p.slot] = key;
        try {
          return this.walk(val, path, i + 1, f, k);
        } finally {
          f[p.slot] = undefined;
        }
      });
    }
    if ((p.t === 'array' || p.t === 'object') && !this.isGround(p, f))
      return this.iterate(v, (key, val) =>
        this.unifyTV(p, key, f, () => this.walk(val, path, i + 1, f, k)),
      );
    return this.evalTerm(p, f, (key) => {
      const c = lookup(v, key);
      return c === undefined ? false : this.walk(c, path, i + 1, f, k);
    });
  }

  /** Walks base data, where numeric keys also address string-keyed objects. */
  walkBase(v: Value, path: RTerm[], i: number, f: Frame, k: VK): boolean {
    const p = path[i];
    if (
      p &&
      p.t === 'const' &&
      typeof p.v === 'number' &&
      v instanceof RObject &&
      v.get(p.v) === undefined
    ) {
      const c = v.get(String(p.v));
      return c === undefined ? false : this.walkBase(c, path, i + 1, f, k);
    }
    if (p && p.t === 'const') {
      const c = lookup(v, p.v);
      return c === undefined ? false : this.walkBase(c, path, i + 1, f, k);
    }
    return this.walk(v, path, i, f, k);
  }

  // ---- data and rules ----

  keyTerm(p: RTerm, f: Frame): Value | undefined | typeof NOT_CACHED {
    if (p.t === 'const') return p.v;
    if (p.t === 'local') return f[p.slot] ?? NOT_CACHED;
    return NOT_CACHED;
  }

  dataWalk(
    node: RuleNode | undefined,
    base: Value | undefined,
    path: RTerm[],
    i: number,
    cur: string[],
    f: Frame,
    k: VK,
  ): boolean {
    const ovs = this.env.overlays;
    if (ovs) {
      const exact = findOverlay(ovs, cur);
      if (exact !== undefined) return this.walk(exact, path, i, f, k);
    }
    if (node && hasRules(node)) {
      if (isFuncNode(node)) return false;
      const v = this.ruleValue(node);
      return v === undefined ? false : this.walk(v, path, i, f, k);
    }
    if (i === path.length) {
      const v = this.nodeValue(node, base, cur);
      return v === undefined ? false : k(v);
    }
    const p = path[i] as RTerm;
    const key = this.keyTerm(p, f);
    if (key !== NOT_CACHED) return this.dataStep(node, base, path, i, cur, f, k, key as Value);
    if (p.t === 'local' || p.t === 'array' || p.t === 'object') {
      const full = this.nodeValue(node, base, cur);
      return full === undefined ? false : this.walk(full, path, i, f, k);
    }
    return this.evalTerm(p, f, (kv) => this.dataStep(node, base, path, i, cur, f, k, kv));
  }

  dataStep(
    node: RuleNode | undefined,
    base: Value | undefined,
    path: RTerm[],
    i: number,
    cur: string[],
    f: Frame,
    k: VK,
    key: Value,
  ): boolean {
    const ovs = this.env.overlays;
    const child = typeof key === 'string' ? node?.children.get(key) : undefined;
    let childBase = base === undefined ? undefined : lookup(base, key);
    // Base documents are addressed by string path segments, so data.x[2] finds key "2".
    if (childBase === undefined && base instanceof RObject && typeof key === 'number')
      childBase = base.get(String(key));
    if (child || (ovs && typeof key === 'string' && overlayBelow(ovs, cur, key)))
      return this.dataWalk(
        child,
        childBase,
        path,
        i + 1,
        ovs ? [...cur, key as string] : cur,
        f,
        k,
      );
    if (childBase === undefined) return false;
    return this.walkBase(childBase, path, i + 1, f, k);
  }

  /** Value of a namespace (package) node: base data merged with its rules' values. */
  nodeValue(node: RuleNode | undefined, base: Value | undefined, cur: string[]): Value | undefined {
    if (node && hasRules(node)) return isFuncNode(node) ? undefined : this.ruleValue(node);
    const ovs = this.env.overlays;
    if (node && !ovs) {
      const c = this.env.nsCache.get(node);
      if (c !== undefined) return c;
    }
    let out: Value | undefined;
    if (!node) out = base;
    else {
      const o = base instanceof RObject ? base.copy() : new RObject();
      namespaces.add(o);
      for (const [name, child] of node.children) {
        const cv = this.nodeValue(child, base instanceof RObject ? base.get(name) : undefined, [
          ...cur,
          name,
        ]);
        if (cv !== undefined) o.set(name, cv);
      }
      out = o;
    }
    if (ovs) {
      for (const ov of ovs) {
        if (ov.path.length < cur.length || !cur.every((c, j) => ov.path[j] === c)) continue;
        if (ov.path.length === cur.length) out = ov.value;
        else out = upsert(out, ov.path.slice(cur.length), ov.value);
      }
    }
    if (node && !ovs && out !== undefined) this.env.nsCache.set(node, out);
    return out;
  }

  ruleValue(node: RuleNode): Value | undefined {
    const cache = this.env.cache;
    const c = cache.get(node);
    if (c !== undefined) return c === UNDEF ? undefined : c;
    if (this.inProgress.has(node))
      throw new RegoError('rego_recursion_error', `rule data.${node.path.join('.')} is recursive`);
    this.inProgress.add(node);
    let v: Value | undefined;
    try {
      if (node.complete.length || (node.defaultRule && !node.sets.length && !node.objects.length))
        v = this.completeValue(node);
      else if (node.sets.length) v = this.setValue(node);
      else if (node.objects.length) v = this.objectValue(node);
    } finally {
      this.inProgress.delete(node);
    }
    cache.set(node, v === undefined ? UNDEF : v);
    return v;
  }

  completeValue(node: RuleNode): Value | undefined {
    let result: Value | undefined;
    for (const r of node.complete) {
      const v = compiledRule(r, this.policy.root, COMPLETE_CONFLICT)(this, undefined);
      if (v === undefined) continue;
      if (result !== undefined && !equal(result, v))
        throw new RegoError(
          'eval_conflict_error',
          'complete rules must not produce multiple outputs',
          r.loc,
        );
      result = v;
    }
    if (result === undefined && node.defaultRule) {
      const d = node.defaultRule.value;
      this.evalTerm(d, new Array(node.defaultRule.nslots), (v) => {
        result = v;
        return true;
      });
    }
    return result;
  }

  /** Evaluates a rule and its else chain; values within one rule must agree. */
  evalRuleChain(r: CRule, args: Value[] | undefined, conflictMsg: string): Value | undefined {
    const f: Frame = new Array(r.nslots);
    const st: { result: Value | undefined } = { result: undefined };
    if (args && r.argSlots) {
      const slots = r.argSlots;
      for (let i = 0; i < slots.length; i++) f[slots[i] as number] = args[i];
      this.evalBody(r.body, f, () => this.emitValue(r, f, st, conflictMsg));
    } else if (args && r.deferredArgs.some(Boolean)) {
      const params = r.args ?? [];
      const now = params.filter((_, i) => !r.deferredArgs[i]);
      const later = params.filter((_, i) => r.deferredArgs[i]);
      const nowArgs = args.filter((_, i) => !r.deferredArgs[i]);
      const laterArgs = args.filter((_, i) => r.deferredArgs[i]);
      this.unifyArgs(now, nowArgs, 0, f, () =>
        this.evalBody(r.body, f, () =>
          this.unifyArgs(later, laterArgs, 0, f, () => this.emitValue(r, f, st, conflictMsg)),
        ),
      );
    } else if (args)
      this.unifyArgs(r.args ?? [], args, 0, f, () =>
        this.evalBody(r.body, f, () => this.emitValue(r, f, st, conflictMsg)),
      );
    else this.evalBody(r.body, f, () => this.emitValue(r, f, st, conflictMsg));
    const result = st.result;
    if (result === undefined && r.elseRule)
      return this.evalRuleChain(r.elseRule, args, conflictMsg);
    return result;
  }

  emitValue(r: CRule, f: Frame, st: { result: Value | undefined }, conflictMsg: string): boolean {
    return this.evalTerm(r.value, f, (v) => {
      if (st.result !== undefined && !equal(st.result, v))
        throw new RegoError('eval_conflict_error', conflictMsg, r.loc);
      st.result = v;
      return false;
    });
  }

  unifyArgs(params: RTerm[], args: Value[], i: number, f: Frame, k: K): boolean {
    if (i === params.length) return k();
    return this.unifyTV(params[i] as RTerm, args[i] as Value, f, () =>
      this.unifyArgs(params, args, i + 1, f, k),
    );
  }

  setValue(node: RuleNode): Value {
    const out = new RSet();
    for (const r of node.sets) compiledSetRule(r, this.policy.root)(this, out);
    return out;
  }

  objectValue(node: RuleNode): Value {
    const out = new RObject();
    namespaces.add(out);
    for (const r of node.objects) {
      const f: Frame = new Array(r.nslots);
      const chain = (rule: CRule, fr: Frame): boolean => {
        let found = false;
        this.evalBody(rule.body, fr, () =>
          this.evalItems(rule.suffix, 0, new Array(rule.suffix.length), fr, (keys) =>
            this.evalTerm(rule.setLeaf ? (rule.key as RTerm) : rule.value, fr, (v) => {
              found = true;
              insertNested(out, keys, v, rule.loc, rule.setLeaf);
              return false;
            }),
          ),
        );
        if (!found && rule.elseRule) return chain(rule.elseRule, new Array(rule.elseRule.nslots));
        return found;
      };
      chain(r, f);
    }
    for (const [name, child] of node.children) {
      const cv = this.nodeValue(child, undefined, [...node.path, name]);
      if (cv === undefined) continue;
      const prev = out.get(name);
      out.set(name, prev === undefined ? cv : mergeValues(prev, cv, node.objects[0]?.loc));
    }
    return out;
  }

  // ---- calls ----

  evalCall(t: RTerm & { t: 'call' }, f: Frame, k: VK): boolean {
    const out = hasOutputArg(t);
    const n = out ? t.args.length - 1 : t.args.length;
    const args = n === t.args.length ? t.args : t.args.slice(0, n);
    // A bare variable argument may be bound by iteration in a later argument.
    if (args.some((a) => a.t === 'local' && f[a.slot] === undefined)) {
      const order = args
        .map((_, i) => i)
        .sort((x, y) => Number(args[x]?.t === 'local') - Number(args[y]?.t === 'local'));
      return this.evalItems(
        order.map((i) => args[i] as RTerm),
        0,
        new Array(n),
        f,
        (vs) => {
          const vals = new Array<Value>(n);
          order.forEach((i, j) => (vals[i] = vs[j] as Value));
          return this.callWith(t, vals, out, n, f, k);
        },
      );
    }
    return this.evalItems(args, 0, new Array(n), f, (vals) => this.callWith(t, vals, out, n, f, k));
  }

  callWith(
    t: RTerm & { t: 'call' },
    vals: Value[],
    out: boolean,
    n: number,
    f: Frame,
    k: VK,
  ): boolean {
    {
      if (t.fn.kind === 'builtin' && t.fn.def.relation && !this.env.mocks?.has(t.fn.name)) {
        const results = this.callRelation(t.fn, vals, t.loc);
        for (const r of results) {
          const stop = out ? this.unifyTV(t.args[n] as RTerm, r, f, () => k(true)) : k(r);
          if (stop) return true;
        }
        return false;
      }
      const r = this.invoke(t.fn, vals, t.loc);
      if (r === undefined) return false;
      if (out) return this.unifyTV(t.args[n] as RTerm, r, f, () => k(true));
      return k(r);
    }
  }

  callRelation(fn: FnRef & { kind: 'builtin' }, vals: Value[], loc: Loc): Value[] {
    try {
      return (fn.def.relation as NonNullable<typeof fn.def.relation>)(vals, this.ctx);
    } catch (e) {
      return this.builtinFailure(e, fn.name, loc) ?? [];
    }
  }

  builtinFailure(e: unknown, name: string, loc: Loc): undefined {
    if (e instanceof BuiltinError) {
      if (this.strict) throw new RegoError(e.code, `${name}: ${e.message}`, loc);
      return undefined;
    }
    if (e instanceof RegoError) throw e;
    if (e instanceof RangeError) throw e;
    if (this.strict)
      throw new RegoError('eval_builtin_error', `${name}: ${(e as Error).message}`, loc);
    return undefined;
  }

  invoke(fn: FnRef, vals: Value[], loc: Loc): Value | undefined {
    const mock = this.env.mocks?.get(fn.name);
    if (mock) {
      if ('value' in mock) return mock.value;
      if (mock.fn.name !== fn.name) {
        // Inside a replacement, functions mean the originals (mocks do not chain).
        const saved = this.env;
        this.env = { ...saved, mocks: undefined, cache: new Map(), nsCache: new Map() };
        try {
          return this.invokeUnmocked(mock.fn, vals, loc);
        } finally {
          this.env = saved;
        }
      }
    }
    return this.invokeUnmocked(fn, vals, loc);
  }

  invokeUnmocked(fn: FnRef, vals: Value[], loc: Loc): Value | undefined {
    if (fn.kind === 'builtin') {
      if (fn.def.relation) return this.callRelation(fn, vals, loc)[0];
      try {
        return fn.def.fn(vals, this.ctx);
      } catch (e) {
        return this.builtinFailure(e, fn.name, loc);
      }
    }
    const node = this.fnNode(fn);
    return node ? this.callFunction(node, vals) : undefined;
  }

  callFunction(node: RuleNode, vals: Value[]): Value | undefined {
    return compiledFunction(node, this.policy.root)(this, vals);
  }

  fnNode(fn: FnRef & { kind: 'user' }): RuleNode | undefined {
    let n = this.nodeCache.get(fn.name);
    if (n === undefined && !this.nodeCache.has(fn.name)) {
      n = this.policy.root;
      for (const p of fn.path) {
        n = n?.children.get(p);
        if (!n) break;
      }
      this.nodeCache.set(fn.name, n);
    }
    return n;
  }
}
