// Resolved, evaluator-ready forms. Variables are frame slots, names are resolved to
// data paths, builtins or locals, and body expressions are already in a safe order.
import type { Loc } from '../ast.ts';
import type { BuiltinDef } from '../builtins/types.ts';
import type { Value } from '../value.ts';

export type FnRef =
  | { kind: 'builtin'; name: string; def: BuiltinDef }
  | { kind: 'user'; name: string; path: string[]; arity: number };

export type RTerm =
  | { t: 'const'; v: Value }
  | { t: 'local'; slot: number; name: string }
  | { t: 'input'; path: RTerm[] }
  | { t: 'data'; path: RTerm[] }
  | { t: 'ref'; head: RTerm; path: RTerm[] }
  | { t: 'array'; items: RTerm[] }
  | { t: 'object'; items: [RTerm, RTerm][] }
  | { t: 'set'; items: RTerm[] }
  | { t: 'arraycompr'; term: RTerm; body: RExpr[] }
  | { t: 'setcompr'; term: RTerm; body: RExpr[] }
  | { t: 'objectcompr'; key: RTerm; value: RTerm; body: RExpr[] }
  | { t: 'call'; fn: FnRef; args: RTerm[]; loc: Loc }
  | { t: 'template'; parts: (string | RTerm)[] };

export type WithTarget =
  | { kind: 'input'; path: string[] }
  | { kind: 'data'; path: string[] }
  | { kind: 'fn'; name: string };

export interface RWith {
  target: WithTarget;
  value: RTerm;
  /** When the replacement is itself a function. */
  fnValue: FnRef | undefined;
}

export type RExprBody =
  | { k: 'term'; term: RTerm }
  | { k: 'unify'; a: RTerm; b: RTerm }
  | { k: 'somein'; key: RTerm | undefined; value: RTerm; domain: RTerm }
  | { k: 'every'; key: RTerm | undefined; value: RTerm; domain: RTerm; body: RExpr[] }
  | { k: 'group'; body: RExpr[] }
  | { k: 'and'; left: RExpr[]; right: RExpr[] }
  | { k: 'or'; left: RExpr[]; right: RExpr[] }
  | { k: 'true' };

export type RExpr = RExprBody & { neg: boolean; withs: RWith[]; loc: Loc };

export type RuleKind = 'complete' | 'set' | 'object' | 'function';

export interface CRule {
  kind: RuleKind;
  /** Path of the rule-tree node that holds the rule. */
  path: string[];
  /** Object rules: key terms below the node path (first one is dynamic). */
  suffix: RTerm[];
  key: RTerm | undefined;
  /** Object rules whose leaf is a set (`p[x] contains y`). */
  setLeaf: boolean;
  value: RTerm;
  args: RTerm[] | undefined;
  /** Params holding calls or templates are matched after the body binds their variables. */
  deferredArgs: boolean[];
  /** Slots of params when every param is a distinct plain variable (fast binding). */
  argSlots: number[] | undefined;
  body: RExpr[];
  nslots: number;
  isDefault: boolean;
  elseRule: CRule | undefined;
  loc: Loc;
}

export interface RuleNode {
  path: string[];
  children: Map<string, RuleNode>;
  complete: CRule[];
  sets: CRule[];
  objects: CRule[];
  funcs: CRule[];
  defaultRule: CRule | undefined;
}

export function newNode(path: string[]): RuleNode {
  return {
    path,
    children: new Map(),
    complete: [],
    sets: [],
    objects: [],
    funcs: [],
    defaultRule: undefined,
  };
}

export function hasRules(n: RuleNode): boolean {
  return (
    n.complete.length > 0 ||
    n.sets.length > 0 ||
    n.objects.length > 0 ||
    n.funcs.length > 0 ||
    n.defaultRule !== undefined
  );
}

export interface CompiledQuery {
  body: RExpr[];
  nslots: number;
  /** User-visible query variables, in order of first appearance. */
  outputs: { name: string; slot: number }[];
}

export function isFuncNode(n: RuleNode): boolean {
  return n.funcs.length > 0 || n.defaultRule?.args !== undefined;
}
