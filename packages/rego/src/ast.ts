// Syntax tree produced by the parser. The compiler resolves it into the forms in
// compiler/ir.ts; nothing here is evaluated directly.
import type { Value } from './value.ts';

export interface Loc {
  file: string;
  row: number;
  col: number;
}

export type Term =
  | { type: 'scalar'; value: Value; loc: Loc }
  | { type: 'var'; name: string; loc: Loc }
  | { type: 'ref'; head: Term; path: Term[]; loc: Loc }
  | { type: 'array'; items: Term[]; loc: Loc }
  | { type: 'object'; items: [Term, Term][]; loc: Loc }
  | { type: 'set'; items: Term[]; loc: Loc }
  | { type: 'arraycompr'; term: Term; body: Expr[]; loc: Loc }
  | { type: 'setcompr'; term: Term; body: Expr[]; loc: Loc }
  | { type: 'objectcompr'; key: Term; value: Term; body: Expr[]; loc: Loc }
  | { type: 'call'; fn: Term; args: Term[]; loc: Loc }
  | { type: 'template'; parts: (string | Term)[]; loc: Loc };

export interface With {
  target: Term;
  value: Term;
  loc: Loc;
}

export type ExprBody =
  | { kind: 'term'; term: Term }
  | { kind: 'unify'; left: Term; right: Term }
  | { kind: 'assign'; left: Term; right: Term }
  | { kind: 'some'; vars: Term[] }
  | { kind: 'somein'; key: Term | undefined; value: Term; domain: Term }
  | { kind: 'every'; key: Term | undefined; value: Term; domain: Term; body: Expr[] }
  | { kind: 'group'; body: Expr[] }
  | { kind: 'and'; left: Expr; right: Expr }
  | { kind: 'or'; left: Expr; right: Expr };

export type Expr = ExprBody & { negated: boolean; with: With[]; loc: Loc };

export interface RuleHead {
  /** Head reference: first element is the rule name var, rest are keys. */
  ref: Term[];
  args: Term[] | undefined;
  key: Term | undefined;
  value: Term | undefined;
  assign: boolean;
  contains: boolean;
}

export interface Rule {
  head: RuleHead;
  body: Expr[];
  isDefault: boolean;
  /** Set when the body was omitted: the rule holds unconditionally. */
  elseRule: Rule | undefined;
  loc: Loc;
  module: Module;
}

export interface Import {
  path: Term;
  alias: string | undefined;
  loc: Loc;
}

export interface Module {
  file: string;
  pkg: string[];
  pkgLoc: Loc;
  imports: Import[];
  rules: Rule[];
  regoVersion: 'v0' | 'v1';
}
