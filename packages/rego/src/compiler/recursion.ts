// Detects recursive rules, which Rego forbids, by walking rule dependencies.
import { RegoError } from '../errors.ts';
import { hasRules, type CRule, type RExpr, type RTerm, type RuleNode } from './ir.ts';
import { children, exprTerms, nestedBodies } from './safety.ts';

export function checkRecursion(root: RuleNode, errors: RegoError[]): void {
  const deps = new Map<RuleNode, Set<RuleNode>>();
  const ruleNodes: RuleNode[] = [];
  const collect = (n: RuleNode): void => {
    if (hasRules(n)) ruleNodes.push(n);
    for (const c of n.children.values()) collect(c);
  };
  collect(root);

  const below = (n: RuleNode, out: Set<RuleNode>): void => {
    if (hasRules(n)) out.add(n);
    for (const c of n.children.values()) below(c, out);
  };
  const refTargets = (path: RTerm[], out: Set<RuleNode>): void => {
    let n: RuleNode = root;
    for (const p of path) {
      if (hasRules(n)) {
        out.add(n);
        return;
      }
      // Dynamic keys are resolved at evaluation time (which also guards recursion).
      if (p.t !== 'const' || typeof p.v !== 'string') return;
      const c = n.children.get(p.v);
      if (!c) return;
      n = c;
    }
    below(n, out);
  };
  const visitTerm = (t: RTerm, out: Set<RuleNode>): void => {
    if (t.t === 'data') refTargets(t.path, out);
    if (t.t === 'call' && t.fn.kind === 'user')
      refTargets(
        t.fn.path.map((v) => ({ t: 'const', v })),
        out,
      );
    if (t.t === 'arraycompr' || t.t === 'setcompr' || t.t === 'objectcompr') visitBody(t.body, out);
    for (const c of children(t)) visitTerm(c, out);
  };
  const visitBody = (b: RExpr[], out: Set<RuleNode>): void => {
    for (const e of b) {
      for (const t of exprTerms(e)) visitTerm(t, out);
      for (const w of e.withs) visitTerm(w.value, out);
      for (const sub of nestedBodies(e)) visitBody(sub, out);
    }
  };
  const visitRule = (r: CRule, out: Set<RuleNode>): void => {
    visitBody(r.body, out);
    for (const t of [...r.suffix, r.value, ...(r.key ? [r.key] : []), ...(r.args ?? [])])
      visitTerm(t, out);
    if (r.elseRule) visitRule(r.elseRule, out);
  };
  for (const n of ruleNodes) {
    const out = new Set<RuleNode>();
    for (const r of [...n.complete, ...n.sets, ...n.objects, ...n.funcs]) visitRule(r, out);
    if (n.defaultRule) visitRule(n.defaultRule, out);
    deps.set(n, out);
  }
  const state = new Map<RuleNode, number>();
  const stack: RuleNode[] = [];
  const name = (n: RuleNode): string => 'data.' + n.path.join('.');
  const dfs = (n: RuleNode): boolean => {
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const s = state.get(d);
      if (s === 1) {
        const cycle = stack.slice(stack.indexOf(d)).map(name);
        const first = d.complete[0] ?? d.sets[0] ?? d.objects[0] ?? d.funcs[0] ?? d.defaultRule;
        errors.push(
          new RegoError(
            'rego_recursion_error',
            `rule ${name(d)} is recursive: ${[...cycle, name(d)].join(' -> ')}`,
            first?.loc,
          ),
        );
        return true;
      }
      if (s === undefined && dfs(d)) return true;
    }
    stack.pop();
    state.set(n, 2);
    return false;
  };
  for (const n of ruleNodes) if (!state.has(n) && dfs(n)) return;
}
