// Rules compiled to closures once: complete rules and functions become
// `(evaluator, args) => value`, set rules `(evaluator, out) => void`. A rule whose value
// is a constant stops at its first solution (later ones could only repeat it), which
// is what makes boolean helpers such as `is_admin(u) if { ... }` cheap.
import type { CRule, RTerm, RuleNode } from '../compiler/ir.ts';
import { RegoError } from '../errors.ts';
import { equal, type RSet, type Value } from '../value.ts';
import { compiledBody } from './body-closures.ts';
import type { Evaluator, Frame } from './evaluator.ts';
import { evalRuleChain } from './rules.ts';
import { mentionsPrint } from './print-scan.ts';
import { compiledTerm, eachValue } from './term-closures.ts';

export type RuleFn = (ev: Evaluator, args: Value[] | undefined) => Value | undefined;
export type SetRuleFn = (ev: Evaluator, out: RSet) => void;

const STOP = (): boolean => true;
const rules = new WeakMap<CRule, RuleFn>();
const sets = new WeakMap<CRule, SetRuleFn>();
const funcs = new WeakMap<RuleNode, RuleFn>();
const FUNCTION_CONFLICT = 'functions must not produce multiple outputs for same inputs';

/** A complete rule or function definition with its else chain. */
export function compiledRule(r: CRule, root: RuleNode, conflictMsg: string): RuleFn {
  let fn = rules.get(r);
  if (fn === undefined) {
    fn = compileRule(r, root, conflictMsg);
    rules.set(r, fn);
  }
  return fn;
}

function compileRule(r: CRule, root: RuleNode, conflictMsg: string): RuleFn {
  // Parameters that are patterns are unified by the interpreter.
  if (r.args && !r.argSlots) return (ev, args) => evalRuleChain(ev, r, args, conflictMsg);
  const body = compiledBody(r.body, root);
  const value = compiledTerm(r.value, root);
  const slots = r.argSlots ?? [];
  const nslots = r.nslots;
  const elseRule = r.elseRule;
  const orElse = (ev: Evaluator, args: Value[] | undefined): Value | undefined =>
    elseRule ? compiledRule(elseRule, root, conflictMsg)(ev, args) : undefined;
  // When the parameters are the only variables, in order, the body can never write
  // to its frame (bound slots are only compared), so the arguments serve as the frame.
  const argsAreFrame = slots.length === nslots && slots.every((s, i) => s === i);
  const frame = (args: Value[] | undefined): Frame => {
    if (argsAreFrame && args && args.length === nslots) return args;
    const f: Frame = new Array(nslots);
    if (args) for (let i = 0; i < slots.length; i++) f[slots[i] as number] = args[i];
    return f;
  };
  if (r.value.t === 'const' && !mentionsPrint(r.body)) {
    const c = r.value.v;
    return (ev, args) => (body(ev, frame(args), STOP) ? c : orElse(ev, args));
  }
  return (ev, args) => {
    const f = frame(args);
    let result: Value | undefined;
    body(ev, f, () =>
      eachValue(ev, f, value, (v) => {
        if (result !== undefined && !equal(result, v))
          throw new RegoError('eval_conflict_error', conflictMsg, r.loc);
        result = v;
        return false;
      }),
    );
    return result === undefined ? orElse(ev, args) : result;
  };
}

/** A user function: all its definitions must agree; the default applies when none does. */
export function compiledFunction(node: RuleNode, root: RuleNode): RuleFn {
  let fn = funcs.get(node);
  if (fn === undefined) {
    const defs = node.funcs.map((r) => compiledRule(r, root, FUNCTION_CONFLICT));
    const locs = node.funcs.map((r) => r.loc);
    const dflt = node.defaultRule;
    const fallback = dflt ? compiledTerm(dflt.value, root) : undefined;
    const only = defs.length === 1 && !dflt ? defs[0] : undefined;
    fn =
      only ??
      ((ev, args) => {
        let result: Value | undefined;
        for (let i = 0; i < defs.length; i++) {
          const v = (defs[i] as RuleFn)(ev, args);
          if (v === undefined) continue;
          if (result !== undefined && !equal(result, v))
            throw new RegoError('eval_conflict_error', FUNCTION_CONFLICT, locs[i]);
          result = v;
        }
        if (result === undefined && dflt && fallback) {
          eachValue(ev, new Array(dflt.nslots), fallback, (v) => {
            result = v;
            return true;
          });
        }
        return result;
      });
    funcs.set(node, fn);
  }
  return fn;
}

/** A partial set rule: adds each of its members to `out`. */
export function compiledSetRule(r: CRule, root: RuleNode): SetRuleFn {
  let fn = sets.get(r);
  if (fn === undefined) {
    const body = compiledBody(r.body, root);
    const key = compiledTerm(r.key as RTerm, root);
    const nslots = r.nslots;
    fn = (ev, out) => {
      const f: Frame = new Array(nslots);
      body(ev, f, () =>
        eachValue(ev, f, key, (v) => {
          out.add(v);
          return false;
        }),
      );
    };
    sets.set(r, fn);
  }
  return fn;
}
