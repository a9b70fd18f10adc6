// rego.parse_module returns a module as OPA's AST JSON (terms as {type, value},
// expressions as {index, terms}), so policies that inspect other policies see the
// shapes OPA documents. rego.metadata.* calls are resolved by the parser; the
// entries here only answer when a call was left in a query.
import type { Expr, Module, Rule, Term } from '../ast.ts';
import { RegoError, builtinError } from '../errors.ts';
import { parseModule } from '../parser.ts';
import { RSet, fromJS, isNumber, type JSONValue } from '../value.ts';
import { str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

type J = JSONValue;

/** Operators and builtins are refs to their dotted name (`internal.member_2`). */
function nameRef(name: string): J {
  const [head, ...rest] = name.split('.');
  return {
    type: 'ref',
    value: [
      { type: 'var', value: head ?? name },
      ...rest.map((p) => ({ type: 'string', value: p })),
    ],
  };
}

function scalar(v: unknown): J {
  if (v === null) return { type: 'null' };
  if (typeof v === 'boolean') return { type: 'boolean', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number' || typeof v === 'bigint') return { type: 'number', value: v };
  if (v instanceof RSet) return { type: 'set', value: v.values().map(scalar) };
  return { type: 'null' };
}

function term(t: Term): J {
  switch (t.type) {
    case 'scalar':
      return isNumber(t.value) ? { type: 'number', value: t.value } : scalar(t.value);
    case 'var':
      return { type: 'var', value: t.name };
    case 'ref':
      return { type: 'ref', value: [term(t.head), ...t.path.map(term)] };
    case 'array':
      return { type: 'array', value: t.items.map(term) };
    case 'set':
      return { type: 'set', value: t.items.map(term) };
    case 'object':
      return { type: 'object', value: t.items.map(([k, v]) => [term(k), term(v)]) };
    case 'arraycompr':
      return { type: 'arraycomprehension', value: { term: term(t.term), body: body(t.body) } };
    case 'setcompr':
      return { type: 'setcomprehension', value: { term: term(t.term), body: body(t.body) } };
    case 'objectcompr':
      return {
        type: 'objectcomprehension',
        value: { key: term(t.key), value: term(t.value), body: body(t.body) },
      };
    case 'call':
      return { type: 'call', value: [callee(t.fn), ...t.args.map(term)] };
    case 'template':
      return {
        type: 'templatestring',
        value: t.parts.map((p) => (typeof p === 'string' ? scalar(p) : term(p))),
      };
  }
}

function callee(fn: Term): J {
  return fn.type === 'var' ? nameRef(fn.name) : term(fn);
}

function exprTerms(e: Expr): J {
  switch (e.kind) {
    case 'term':
      // A call written as an expression is the expression's operator and operands.
      return e.term.type === 'call' ? [callee(e.term.fn), ...e.term.args.map(term)] : term(e.term);
    case 'unify':
      return [nameRef('eq'), term(e.left), term(e.right)];
    case 'assign':
      return [nameRef('assign'), term(e.left), term(e.right)];
    case 'some':
      return { symbols: e.vars.map(term) };
    case 'somein':
      return {
        symbols: [
          {
            type: 'call',
            value: [
              nameRef(e.key ? 'internal.member_3' : 'internal.member_2'),
              ...(e.key ? [term(e.key)] : []),
              term(e.value),
              term(e.domain),
            ],
          },
        ],
      };
    case 'every': {
      const o: { [k: string]: J } = {
        value: term(e.value),
        domain: term(e.domain),
        body: body(e.body),
      };
      if (e.key) o['key'] = term(e.key);
      return o;
    }
    case 'group':
      return { body: body(e.body) };
    case 'and':
    case 'or':
      return { [e.kind]: [expr(e.left, 0), expr(e.right, 1)] };
  }
}

function expr(e: Expr, index: number): J {
  const o: { [k: string]: J } = { index, terms: exprTerms(e) };
  if (e.negated) o['negated'] = true;
  if (e.with.length)
    o['with'] = e.with.map((w) => ({ target: term(w.target), value: term(w.value) }));
  return o;
}

function body(b: Expr[]): J {
  return b.map((e, i) => expr(e, i));
}

function rule(r: Rule): J {
  const h = r.head;
  const first = h.ref[0];
  const head: { [k: string]: J } = {
    name: first?.type === 'var' ? first.name : '',
    ref: h.ref.map(term),
  };
  if (h.args) head['args'] = h.args.map(term);
  if (h.key) head['key'] = term(h.key);
  // A rule without a value (and not a partial set) has the value true, as in OPA's AST.
  if (h.value) head['value'] = term(h.value);
  else if (!h.key) head['value'] = { type: 'boolean', value: true };
  if (h.assign) head['assign'] = true;
  const o: { [k: string]: J } = { head, body: body(r.body) };
  if (r.isDefault) o['default'] = true;
  if (r.elseRule) o['else'] = rule(r.elseRule);
  return o;
}

export function moduleJSON(m: Module): J {
  const o: { [k: string]: J } = {
    package: {
      path: [{ type: 'var', value: 'data' }, ...m.pkg.map((p) => ({ type: 'string', value: p }))],
    },
  };
  if (m.imports.length)
    o['imports'] = m.imports.map((i) => {
      const imp: { [k: string]: J } = { path: term(i.path) };
      if (i.alias) imp['alias'] = i.alias;
      return imp;
    });
  if (m.rules.length) o['rules'] = m.rules.map(rule);
  return o;
}

export const regoModuleBuiltins: BuiltinTable = {
  'rego.parse_module': def('rego.parse_module', 2, (a) => {
    const file = str(a, 0);
    const src = str(a, 1);
    let m: Module;
    try {
      m = parseModule(src, file, { regoVersion: 'v1' });
    } catch (e) {
      if (e instanceof RegoError) throw builtinError(e.message);
      throw e;
    }
    return fromJS(moduleJSON(m));
  }),
  'rego.metadata.rule': def('rego.metadata.rule', 0, () => fromJS({})),
  'rego.metadata.chain': def('rego.metadata.chain', 0, () => []),
};
