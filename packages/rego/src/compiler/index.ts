// Compiles parsed modules into a rule tree of evaluator-ready rules.
import type { Module, Rule, Term } from '../ast.ts';
import type { BuiltinTable } from '../builtins/types.ts';
import { RegoCompileErrors, RegoError } from '../errors.ts';
import { parseModule, parseQuery } from '../parser.ts';
import {
  newNode,
  type CRule,
  type CompiledQuery,
  type RExpr,
  type RTerm,
  type RuleNode,
} from './ir.ts';
import { Resolver, Scope, collectTermVars, type ModuleCtx } from './resolve.ts';
import { Safety, children, exprTerms, nestedBodies } from './safety.ts';
import { checkRecursion } from './recursion.ts';

export interface ModuleSource {
  name: string;
  source: string;
}

export interface CompileConfig {
  modules: ModuleSource[];
  regoVersion: 'v0' | 'v1';
  builtins: BuiltinTable;
  experimental?: boolean;
}

export interface CompiledPolicy {
  root: RuleNode;
  modules: Module[];
  builtins: BuiltinTable;
  regoVersion: 'v0' | 'v1';
  experimental: boolean;
}

interface Placed {
  rule: Rule;
  kind: CRule['kind'];
  path: string[];
  suffix: Term[];
}

function place(rule: Rule): Placed {
  const { head } = rule;
  const pkg = rule.module.pkg;
  const first = head.ref[0] as Term & { type: 'var' };
  const path = [...pkg, first.name];
  let i = 1;
  for (; i < head.ref.length; i++) {
    const t = head.ref[i] as Term;
    if (t.type === 'scalar' && typeof t.value === 'string') path.push(t.value);
    else break;
  }
  const suffix = head.ref.slice(i);
  if (head.args) {
    if (suffix.length)
      throw new RegoError('rego_parse_error', 'function name must be a static reference', rule.loc);
    return { rule, kind: 'function', path, suffix };
  }
  if (head.contains) return { rule, kind: suffix.length ? 'object' : 'set', path, suffix };
  if (suffix.length) return { rule, kind: 'object', path, suffix };
  return { rule, kind: 'complete', path, suffix };
}

export function compileModules(cfg: CompileConfig): CompiledPolicy {
  const errors: RegoError[] = [];
  const modules: Module[] = [];
  for (const m of cfg.modules) {
    try {
      modules.push(
        parseModule(m.source, m.name, {
          regoVersion: cfg.regoVersion,
          experimental: cfg.experimental ?? false,
        }),
      );
    } catch (e) {
      if (e instanceof RegoError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw new RegoCompileErrors(errors);

  const placed: Placed[] = [];
  const ruleNames = new Map<string, Set<string>>();
  const userFns = new Map<string, number>();
  for (const mod of modules) {
    const key = mod.pkg.join('.');
    if (!ruleNames.has(key)) ruleNames.set(key, new Set());
    for (const r of mod.rules) {
      try {
        const p = place(r);
        placed.push(p);
        (ruleNames.get(key) as Set<string>).add((r.head.ref[0] as Term & { type: 'var' }).name);
        if (p.kind === 'function') userFns.set(p.path.join('.'), r.head.args?.length ?? 0);
      } catch (e) {
        if (e instanceof RegoError) errors.push(e);
        else throw e;
      }
    }
  }
  if (errors.length) throw new RegoCompileErrors(errors);

  const root = newNode([]);
  // Packages exist (as empty objects) even without rules.
  for (const mod of modules) ensureNode(root, mod.pkg);
  const allRules: CRule[] = [];
  for (const p of placed) {
    try {
      const mod = p.rule.module;
      const ctx: ModuleCtx = {
        file: mod.file,
        pkg: mod.pkg,
        ruleNames: ruleNames.get(mod.pkg.join('.')) ?? new Set(),
        imports: importMap(mod),
        builtins: cfg.builtins,
        userFns,
      };
      const c = compileRule(p, p.rule, ctx);
      allRules.push(c);
      insert(root, c);
    } catch (e) {
      if (e instanceof RegoError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw new RegoCompileErrors(errors);
  checkTree(root, errors);
  for (const r of allRules) checkCalls(r, root, errors);
  if (!errors.length) checkRecursion(root, errors);
  if (errors.length) throw new RegoCompileErrors(errors);
  return {
    root,
    modules,
    builtins: cfg.builtins,
    regoVersion: cfg.regoVersion,
    experimental: cfg.experimental ?? false,
  };
}

function importMap(mod: Module): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const imp of mod.imports) {
    const parts: string[] = [];
    const t = imp.path;
    if (t.type === 'var') parts.push(t.name);
    else if (t.type === 'ref' && t.head.type === 'var') {
      parts.push(t.head.name);
      for (const p of t.path)
        if (p.type === 'scalar' && typeof p.value === 'string') parts.push(p.value);
    }
    const root = parts[0];
    if (root !== 'data' && root !== 'input') continue;
    if (parts.length === 1 && !imp.alias) continue;
    m.set(imp.alias ?? (parts[parts.length - 1] as string), parts);
  }
  return m;
}

function compileRule(p: Placed, rule: Rule, ctx: ModuleCtx): CRule {
  const res = new Resolver(ctx);
  const scope = new Scope(undefined, 0);
  const head = rule.head;
  const argNames: string[] = [];
  for (const a of head.args ?? []) collectTermVars(a, argNames);
  for (const n of argNames)
    if (n !== '_' && n !== 'input' && n !== 'data' && scope.vars.get(n) === undefined)
      res.declare(n, scope);
  const headTerms: Term[] = [...p.suffix];
  if (head.key) headTerms.push(head.key);
  if (head.value) headTerms.push(head.value);
  res.predeclare(rule.body, scope, headTerms);
  const args = head.args?.map((a) => res.term(a, scope));
  const body = res.body(rule.body, scope);
  const suffix = p.suffix.map((t) => res.term(t, scope));
  const key = head.key ? res.term(head.key, scope) : undefined;
  const value: RTerm = head.value ? res.term(head.value, scope) : { t: 'const', v: true };

  const safety = new Safety(res.slotDepth, res.slotNames, res.bodyDepth);
  const bound = new Set<number>();
  const deferredArgs = (args ?? []).map(isComputed);
  (args ?? []).forEach((a, i) => {
    if (!deferredArgs[i]) for (const s of slotsOf(a)) bound.add(s);
  });
  const ordered = rule.isDefault ? { body, bound } : safety.reorder(body, bound, rule.loc);
  if (rule.isDefault) {
    const vs = new Set<number>();
    for (const s of topLevelSlots(value)) vs.add(s);
    if (vs.size)
      throw new RegoError(
        'rego_compile_error',
        'default rule value cannot contain variables',
        rule.loc,
      );
  }
  for (const t of [...suffix, ...(key ? [key] : []), value]) {
    const r = safety.reorderTerm(t, ordered.bound, rule.loc);
    safety.checkBound(r, ordered.bound, rule.loc);
  }
  const c: CRule = {
    kind: p.kind,
    path: p.path,
    suffix,
    key,
    setLeaf: p.kind === 'object' && head.contains,
    value,
    args,
    deferredArgs,
    argSlots: plainSlots(args),
    body: ordered.body,
    nslots: 0,
    isDefault: rule.isDefault,
    elseRule: undefined,
    loc: rule.loc,
  };
  if (rule.elseRule) c.elseRule = compileRule(p, rule.elseRule, ctx);
  c.nslots = res.nslots;
  return c;
}

function plainSlots(args: RTerm[] | undefined): number[] | undefined {
  if (!args) return undefined;
  const slots = args.map((a) => (a.t === 'local' ? a.slot : -1));
  if (slots.includes(-1) || new Set(slots).size !== slots.length) return undefined;
  return slots;
}

function isComputed(t: RTerm): boolean {
  if (t.t === 'call' || t.t === 'template') return true;
  return children(t).some(isComputed);
}

/** Variables outside comprehensions (which carry their own bindings). */
function topLevelSlots(t: RTerm): number[] {
  const out: number[] = [];
  const visit = (x: RTerm): void => {
    if (x.t === 'local') out.push(x.slot);
    if (x.t === 'arraycompr' || x.t === 'setcompr' || x.t === 'objectcompr') return;
    for (const c of children(x)) visit(c);
  };
  visit(t);
  return out;
}

function slotsOf(t: RTerm): number[] {
  const out: number[] = [];
  const visit = (x: RTerm): void => {
    if (x.t === 'local') out.push(x.slot);
    for (const c of children(x)) visit(c);
  };
  visit(t);
  return out;
}

function ensureNode(root: RuleNode, path: string[]): RuleNode {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string;
    let child = node.children.get(name);
    if (!child) {
      child = newNode(path.slice(0, i + 1));
      node.children.set(name, child);
    }
    node = child;
  }
  return node;
}

function insert(root: RuleNode, r: CRule): void {
  const node = ensureNode(root, r.path);
  if (r.isDefault) {
    if (node.defaultRule)
      throw new RegoError(
        'rego_type_error',
        `multiple default rules data.${r.path.join('.')} found`,
        r.loc,
      );
    node.defaultRule = r;
    return;
  }
  switch (r.kind) {
    case 'complete':
      node.complete.push(r);
      break;
    case 'set':
      node.sets.push(r);
      break;
    case 'object':
      node.objects.push(r);
      break;
    case 'function':
      node.funcs.push(r);
      break;
  }
}

function checkTree(node: RuleNode, errors: RegoError[]): void {
  const kinds = [node.complete, node.sets, node.objects, node.funcs].filter(
    (k) => k.length > 0,
  ).length;
  const first = node.complete[0] ?? node.sets[0] ?? node.objects[0] ?? node.funcs[0];
  if (kinds > 1 && first)
    errors.push(
      new RegoError(
        'rego_type_error',
        `conflicting rules data.${node.path.join('.')} found`,
        first.loc,
      ),
    );
  if (node.funcs.length) {
    const arity = node.funcs[0]?.args?.length;
    for (const f of node.funcs)
      if (f.args?.length !== arity)
        errors.push(
          new RegoError(
            'rego_type_error',
            `conflicting rules data.${node.path.join('.')} found`,
            f.loc,
          ),
        );
  }
  if ((node.complete.length || node.funcs.length) && node.children.size && first)
    errors.push(
      new RegoError(
        'rego_type_error',
        `rule data.${node.path.join('.')} conflicts with [data.${node.path.join('.')}.${[...node.children.keys()][0]}]`,
        first.loc,
      ),
    );
  for (const c of node.children.values()) checkTree(c, errors);
}

function lookupNode(root: RuleNode, path: string[]): RuleNode | undefined {
  let n: RuleNode | undefined = root;
  for (const p of path) {
    n = n?.children.get(p);
    if (!n) return undefined;
  }
  return n;
}

function checkCalls(r: CRule, root: RuleNode, errors: RegoError[]): void {
  const visitTerm = (t: RTerm): void => {
    if (t.t === 'call' && t.fn.kind === 'user') {
      const n = lookupNode(root, t.fn.path);
      if (!n || (n.funcs.length === 0 && !n.defaultRule))
        errors.push(new RegoError('rego_type_error', `undefined function ${t.fn.name}`, t.loc));
    }
    if (t.t === 'arraycompr' || t.t === 'setcompr' || t.t === 'objectcompr') visitBody(t.body);
    for (const c of children(t)) visitTerm(c);
  };
  const visitBody = (b: RExpr[]): void => {
    for (const e of b) {
      for (const t of exprTerms(e)) visitTerm(t);
      for (const w of e.withs) visitTerm(w.value);
      for (const sub of nestedBodies(e)) visitBody(sub);
    }
  };
  visitBody(r.body);
  for (const t of [...r.suffix, r.value, ...(r.key ? [r.key] : [])]) visitTerm(t);
  if (r.elseRule) checkCalls(r.elseRule, root, errors);
}

export function compileQueryText(
  policy: CompiledPolicy,
  text: string,
  file = 'query',
): CompiledQuery {
  let exprs;
  try {
    exprs = parseQuery(
      text,
      { regoVersion: policy.regoVersion, experimental: policy.experimental },
      file,
    );
  } catch (e) {
    if (e instanceof RegoError) throw new RegoCompileErrors([e]);
    throw e;
  }
  const ctx: ModuleCtx = {
    file,
    pkg: [],
    ruleNames: new Set(),
    imports: new Map(),
    builtins: policy.builtins,
    userFns: collectFns(policy.root),
  };
  try {
    const res = new Resolver(ctx);
    const scope = new Scope(undefined, 0);
    res.predeclare(exprs, scope);
    const body = res.body(exprs, scope);
    const safety = new Safety(res.slotDepth, res.slotNames, res.bodyDepth);
    const ordered = safety.reorder(body, new Set(), exprs[0]?.loc ?? { file, row: 1, col: 1 });
    const outputs = [...scope.vars.entries()]
      .filter(([n]) => n !== '_' && !n.startsWith('__'))
      .sort((a, b) => a[1] - b[1])
      .map(([name, slot]) => ({ name, slot }));
    const errors: RegoError[] = [];
    const fake: CRule = {
      kind: 'complete',
      path: [],
      suffix: [],
      key: undefined,
      setLeaf: false,
      value: { t: 'const', v: true },
      args: undefined,
      deferredArgs: [],
      argSlots: undefined,
      body: ordered.body,
      nslots: res.nslots,
      isDefault: false,
      elseRule: undefined,
      loc: { file, row: 1, col: 1 },
    };
    checkCalls(fake, policy.root, errors);
    if (errors.length) throw new RegoCompileErrors(errors);
    return { body: ordered.body, nslots: res.nslots, outputs };
  } catch (e) {
    if (e instanceof RegoError && !(e instanceof RegoCompileErrors))
      throw new RegoCompileErrors([e]);
    throw e;
  }
}

function collectFns(root: RuleNode): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (n: RuleNode): void => {
    if (n.funcs.length) out.set(n.path.join('.'), n.funcs[0]?.args?.length ?? 0);
    for (const c of n.children.values()) visit(c);
  };
  visit(root);
  return out;
}
