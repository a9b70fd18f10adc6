// Rule values: memoized per evaluation (each complete rule, set and object is built
// once), with conflicts reported as OPA does.
import { type CRule, type RTerm, type RuleNode } from '../compiler/ir.ts';
import { RegoError } from '../errors.ts';
import { RObject, RSet, equal, type Value } from '../value.ts';
import { insertNested, mergeValues, namespaces } from './documents.ts';
import { type Evaluator, type Frame, type K, UNDEF } from './evaluator.ts';
import { compiledRule, compiledSetRule } from './rule-closures.ts';
import { nodeValue } from './data.ts';
import { evalItems, evalTerm } from './terms.ts';
import { unifyTV } from './unify.ts';

const COMPLETE_CONFLICT = 'complete rules must not produce multiple outputs';

export function ruleValue(ev: Evaluator, node: RuleNode): Value | undefined {
  const cache = ev.env.cache;
  const c = cache.get(node);
  if (c !== undefined) return c === UNDEF ? undefined : c;
  if (ev.inProgress.has(node))
    throw new RegoError('rego_recursion_error', `rule data.${node.path.join('.')} is recursive`);
  ev.inProgress.add(node);
  let v: Value | undefined;
  try {
    if (node.complete.length || (node.defaultRule && !node.sets.length && !node.objects.length))
      v = completeValue(ev, node);
    else if (node.sets.length) v = setValue(ev, node);
    else if (node.objects.length) v = objectValue(ev, node);
  } finally {
    ev.inProgress.delete(node);
  }
  cache.set(node, v === undefined ? UNDEF : v);
  return v;
}

export function completeValue(ev: Evaluator, node: RuleNode): Value | undefined {
  let result: Value | undefined;
  for (const r of node.complete) {
    const v = compiledRule(r, ev.policy.root, COMPLETE_CONFLICT)(ev, undefined);
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
    evalTerm(ev, d, new Array(node.defaultRule.nslots), (v) => {
      result = v;
      return true;
    });
  }
  return result;
}

/** Evaluates a rule and its else chain; values within one rule must agree. */
export function evalRuleChain(
  ev: Evaluator,
  r: CRule,
  args: Value[] | undefined,
  conflictMsg: string,
): Value | undefined {
  const f: Frame = new Array(r.nslots);
  const st: { result: Value | undefined } = { result: undefined };
  if (args && r.argSlots) {
    const slots = r.argSlots;
    for (let i = 0; i < slots.length; i++) f[slots[i] as number] = args[i];
    ev.evalBody(r.body, f, () => emitValue(ev, r, f, st, conflictMsg));
  } else if (args && r.deferredArgs.some(Boolean)) {
    const params = r.args ?? [];
    const now = params.filter((_, i) => !r.deferredArgs[i]);
    const later = params.filter((_, i) => r.deferredArgs[i]);
    const nowArgs = args.filter((_, i) => !r.deferredArgs[i]);
    const laterArgs = args.filter((_, i) => r.deferredArgs[i]);
    unifyArgs(ev, now, nowArgs, 0, f, () =>
      ev.evalBody(r.body, f, () =>
        unifyArgs(ev, later, laterArgs, 0, f, () => emitValue(ev, r, f, st, conflictMsg)),
      ),
    );
  } else if (args)
    unifyArgs(ev, r.args ?? [], args, 0, f, () =>
      ev.evalBody(r.body, f, () => emitValue(ev, r, f, st, conflictMsg)),
    );
  else ev.evalBody(r.body, f, () => emitValue(ev, r, f, st, conflictMsg));
  const result = st.result;
  if (result === undefined && r.elseRule) return evalRuleChain(ev, r.elseRule, args, conflictMsg);
  return result;
}

export function emitValue(
  ev: Evaluator,
  r: CRule,
  f: Frame,
  st: { result: Value | undefined },
  conflictMsg: string,
): boolean {
  return evalTerm(ev, r.value, f, (v) => {
    if (st.result !== undefined && !equal(st.result, v))
      throw new RegoError('eval_conflict_error', conflictMsg, r.loc);
    st.result = v;
    return false;
  });
}

export function unifyArgs(
  ev: Evaluator,
  params: RTerm[],
  args: Value[],
  i: number,
  f: Frame,
  k: K,
): boolean {
  if (i === params.length) return k();
  return unifyTV(ev, params[i] as RTerm, args[i] as Value, f, () =>
    unifyArgs(ev, params, args, i + 1, f, k),
  );
}

export function setValue(ev: Evaluator, node: RuleNode): Value {
  const out = new RSet();
  for (const r of node.sets) compiledSetRule(r, ev.policy.root)(ev, out);
  return out;
}

export function objectValue(ev: Evaluator, node: RuleNode): Value {
  const out = new RObject();
  namespaces.add(out);
  for (const r of node.objects) {
    const f: Frame = new Array(r.nslots);
    const chain = (rule: CRule, fr: Frame): boolean => {
      let found = false;
      ev.evalBody(rule.body, fr, () =>
        evalItems(ev, rule.suffix, 0, new Array(rule.suffix.length), fr, (keys) =>
          evalTerm(ev, rule.setLeaf ? (rule.key as RTerm) : rule.value, fr, (v) => {
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
    const cv = nodeValue(ev, child, undefined, [...node.path, name]);
    if (cv === undefined) continue;
    const prev = out.get(name);
    out.set(name, prev === undefined ? cv : mergeValues(prev, cv, node.objects[0]?.loc));
  }
  return out;
}
