// Operators (comparison, arithmetic, set algebra, membership), aggregates and type
// checks: the builtins the language itself leans on.
import { builtinError, typeError } from '../errors.ts';
import {
  RObject,
  RSet,
  compare,
  equal,
  formatNumber,
  normInt,
  typeName,
  type Value,
} from '../value.ts';
import {
  arith,
  arr,
  collection,
  int,
  isInt,
  num,
  operandErr,
  toBig,
  utf8Len,
  type Num,
} from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

function numOrSet(name: string, args: Value[], op: '+' | '-' | '*'): Value {
  const a = args[0] as Value;
  const b = args[1] as Value;
  if (
    (typeof a === 'number' || typeof a === 'bigint') &&
    (typeof b === 'number' || typeof b === 'bigint')
  )
    return arith(a, b, op);
  if (name === 'minus' && a instanceof RSet && b instanceof RSet) {
    const out = new RSet();
    for (const x of a.values()) if (!b.has(x)) out.add(x);
    return out;
  }
  const want = name === 'minus' ? 'one of {number, set}' : 'number';
  if (!(typeof a === 'number' || typeof a === 'bigint' || (name === 'minus' && a instanceof RSet)))
    throw operandErr(0, want, a);
  if (name === 'minus' && a instanceof RSet) throw operandErr(1, 'set', b);
  throw operandErr(1, 'number', b);
}

function divide(a: Num, b: Num): Num {
  if (Number(b) === 0) throw builtinError('divide by zero');
  if (isInt(a) && isInt(b)) {
    const x = toBig(a);
    const y = toBig(b);
    if (x % y === 0n) return normInt(x / y);
  }
  return Number(a) / Number(b);
}

function rem(a: Num, b: Num): Num {
  if (!isInt(a) || !isInt(b)) throw builtinError('modulo on floating-point number');
  if (Number(b) === 0) throw builtinError('modulo by zero');
  if (typeof a === 'number' && typeof b === 'number') return a % b === 0 ? 0 : a % b;
  return normInt(toBig(a) % toBig(b));
}

function round(x: Num): Num {
  if (typeof x === 'bigint') return x;
  const r = Math.sign(x) * Math.round(Math.abs(x));
  return r === 0 ? 0 : r;
}

function countOf(v: Value): number {
  if (typeof v === 'string') return utf8Len(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof RObject || v instanceof RSet) return v.size;
  throw operandErr(0, 'one of {array, object, set, string}', v);
}

function numbersOf(args: Value[]): Num[] {
  return collection(args, 0, 'one of {array, set}').map((x) => {
    if (typeof x !== 'number' && typeof x !== 'bigint')
      throw operandErr(0, 'array or set of numbers', x);
    return x;
  });
}

function range(a: number, b: number, step: number): Value[] {
  const out: Value[] = [];
  if (a <= b) for (let i = a; i <= b; i += step) out.push(i);
  else for (let i = a; i >= b; i -= step) out.push(i);
  return out;
}

export const coreBuiltins: BuiltinTable = {
  equal: def('equal', 2, (a) => equal(a[0] as Value, a[1] as Value)),
  neq: def('neq', 2, (a) => !equal(a[0] as Value, a[1] as Value)),
  lt: def('lt', 2, (a) => compare(a[0] as Value, a[1] as Value) < 0),
  lte: def('lte', 2, (a) => compare(a[0] as Value, a[1] as Value) <= 0),
  gt: def('gt', 2, (a) => compare(a[0] as Value, a[1] as Value) > 0),
  gte: def('gte', 2, (a) => compare(a[0] as Value, a[1] as Value) >= 0),
  plus: def('plus', 2, (a) => numOrSet('plus', a, '+')),
  minus: def('minus', 2, (a) => numOrSet('minus', a, '-')),
  mul: def('mul', 2, (a) => numOrSet('mul', a, '*')),
  div: def('div', 2, (a) => divide(num(a, 0), num(a, 1))),
  rem: def('rem', 2, (a) => rem(num(a, 0), num(a, 1))),
  abs: def('abs', 1, (a) => {
    const x = num(a, 0);
    return typeof x === 'bigint' ? (x < 0n ? -x : x) : Math.abs(x);
  }),
  round: def('round', 1, (a) => round(num(a, 0))),
  ceil: def('ceil', 1, (a) => {
    const x = num(a, 0);
    return typeof x === 'bigint' ? x : Math.ceil(x) || 0;
  }),
  floor: def('floor', 1, (a) => {
    const x = num(a, 0);
    return typeof x === 'bigint' ? x : Math.floor(x);
  }),
  or: def('or', 2, (a) => {
    const x = a[0] as Value;
    const y = a[1] as Value;
    if (!(x instanceof RSet)) throw operandErr(0, 'set', x);
    if (!(y instanceof RSet)) throw operandErr(1, 'set', y);
    const out = x.copy();
    for (const v of y.values()) out.add(v);
    return out;
  }),
  and: def('and', 2, (a) => {
    const x = a[0] as Value;
    const y = a[1] as Value;
    if (!(x instanceof RSet)) throw operandErr(0, 'set', x);
    if (!(y instanceof RSet)) throw operandErr(1, 'set', y);
    const out = new RSet();
    for (const v of x.values()) if (y.has(v)) out.add(v);
    return out;
  }),
  'internal.member_2': def('internal.member_2', 2, (a) => {
    const x = a[0] as Value;
    const c = a[1] as Value;
    if (c instanceof RSet) return c.has(x);
    if (Array.isArray(c)) return c.some((y) => equal(x, y));
    if (c instanceof RObject) return [...c.map.values()].some((e) => equal(x, e[1]));
    return false;
  }),
  'internal.member_3': def('internal.member_3', 3, (a) => {
    const k = a[0] as Value;
    const v = a[1] as Value;
    const c = a[2] as Value;
    if (Array.isArray(c))
      return (
        typeof k === 'number' &&
        Number.isInteger(k) &&
        k >= 0 &&
        k < c.length &&
        equal(c[k] as Value, v)
      );
    if (c instanceof RObject) {
      const x = c.get(k);
      return x !== undefined && equal(x, v);
    }
    // A set member is its own key.
    if (c instanceof RSet) return equal(k, v) && c.has(v);
    return false;
  }),
  'internal.first': def('internal.first', 1, (a) => (Array.isArray(a[0]) ? a[0][0] : undefined)),
  count: def('count', 1, (a) => countOf(a[0] as Value)),
  sum: def('sum', 1, (a) => numbersOf(a).reduce<Num>((s, x) => arith(s, x, '+'), 0)),
  product: def('product', 1, (a) => numbersOf(a).reduce<Num>((s, x) => arith(s, x, '*'), 1)),
  max: def('max', 1, (a) => {
    const xs = collection(a, 0);
    if (!xs.length) return undefined;
    return xs.reduce((m, x) => (compare(x, m) > 0 ? x : m));
  }),
  min: def('min', 1, (a) => {
    const xs = collection(a, 0);
    if (!xs.length) return undefined;
    return xs.reduce((m, x) => (compare(x, m) < 0 ? x : m));
  }),
  sort: def('sort', 1, (a) => [...collection(a, 0)].sort(compare)),
  all: def('all', 1, (a) => collection(a, 0).every((x) => x === true)),
  any: def('any', 1, (a) => collection(a, 0).some((x) => x === true)),
  'numbers.range': def('numbers.range', 2, (a) => range(int(a, 0), int(a, 1), 1)),
  'numbers.range_step': def('numbers.range_step', 3, (a) => {
    const step = int(a, 2);
    if (step <= 0) throw builtinError('step must be a positive integer');
    return range(int(a, 0), int(a, 1), step);
  }),
  is_number: def('is_number', 1, (a) => typeName(a[0] as Value) === 'number'),
  is_string: def('is_string', 1, (a) => typeof a[0] === 'string'),
  is_boolean: def('is_boolean', 1, (a) => typeof a[0] === 'boolean'),
  is_array: def('is_array', 1, (a) => Array.isArray(a[0])),
  is_set: def('is_set', 1, (a) => a[0] instanceof RSet),
  is_object: def('is_object', 1, (a) => a[0] instanceof RObject),
  is_null: def('is_null', 1, (a) => a[0] === null),
  type_name: def('type_name', 1, (a) => typeName(a[0] as Value)),
  to_number: def('to_number', 1, (a) => {
    const v = a[0] as Value;
    if (v === null) return 0;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number' || typeof v === 'bigint') return v;
    if (typeof v === 'string') {
      const t = v.trim();
      // Go's ParseFloat accepts these, and OPA rejects the result as a type error.
      if (/^[+-]?(inf|infinity|nan)$/i.test(t))
        throw typeError(`to_number: invalid number ${JSON.stringify(v)}`);
      if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t))
        throw builtinError(`strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
      if (/^[-+]?\d+$/.test(t)) {
        const n = Number(t);
        return Number.isSafeInteger(n) ? n : normInt(BigInt(t));
      }
      return Number(t);
    }
    throw operandErr(0, 'one of {null, boolean, number, string}', v);
  }),
  'bits.or': def('bits.or', 2, (a) => bits(a, (x, y) => x | y)),
  'bits.and': def('bits.and', 2, (a) => bits(a, (x, y) => x & y)),
  'bits.xor': def('bits.xor', 2, (a) => bits(a, (x, y) => x ^ y)),
  'bits.negate': def('bits.negate', 1, (a) => normInt(~toBig(intOperand(a, 0)))),
  'bits.lsh': def('bits.lsh', 2, (a) => shift(a, (x, y) => x << y)),
  'bits.rsh': def('bits.rsh', 2, (a) => shift(a, (x, y) => x >> y)),
  print: {
    name: 'print',
    arity: -1,
    fn: (a, ctx) => {
      ctx.print(a.map((x) => (typeof x === 'string' ? x : formatPrint(x))).join(' '));
      return true;
    },
  },
  trace: def('trace', 1, (a, ctx) => {
    ctx.print(String(a[0]));
    return true;
  }),
};

function formatPrint(v: Value): string {
  if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(v);
  return JSON.stringify(v) ?? String(v);
}

function intOperand(a: Value[], i: number): Num {
  const v = num(a, i);
  if (!isInt(v))
    throw typeError(`operand ${i + 1} must be integer number but got floating-point number`);
  return v;
}

/** Shifts take an unsigned count, as Go's shift operators do. */
function shift(a: Value[], f: (x: bigint, y: bigint) => bigint): Value {
  const y = toBig(intOperand(a, 1));
  if (y < 0n)
    throw typeError('operand 2 must be an unsigned integer number but got a negative integer');
  return normInt(f(toBig(intOperand(a, 0)), y));
}

function bits(a: Value[], f: (x: bigint, y: bigint) => bigint): Value {
  return normInt(f(toBig(intOperand(a, 0)), toBig(intOperand(a, 1))));
}

export { arr };
