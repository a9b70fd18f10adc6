// Operand checks and numeric helpers shared by builtin families. Error texts follow
// OPA's ("operand 1 must be string but got number") because policies and tests match on them.
import { typeError } from '../errors.ts';
import { RObject, RSet, normInt, typeName, type Value } from '../value.ts';

export type Num = number | bigint;

export function operandErr(i: number, want: string, got: Value): Error {
  return typeError(`operand ${i + 1} must be ${want} but got ${typeName(got)}`);
}

export function str(args: Value[], i: number): string {
  const v = args[i] as Value;
  if (typeof v !== 'string') throw operandErr(i, 'string', v);
  return v;
}

export function num(args: Value[], i: number): Num {
  const v = args[i] as Value;
  if (typeof v !== 'number' && typeof v !== 'bigint') throw operandErr(i, 'number', v);
  return v;
}

export function int(args: Value[], i: number): number {
  const v = num(args, i);
  if (typeof v === 'bigint') return Number(v);
  if (!Number.isInteger(v))
    throw typeError(`operand ${i + 1} must be integer number but got floating-point number`);
  return v;
}

export function arr(args: Value[], i: number): Value[] {
  const v = args[i] as Value;
  if (!Array.isArray(v)) throw operandErr(i, 'array', v);
  return v;
}

export function obj(args: Value[], i: number): RObject {
  const v = args[i] as Value;
  if (!(v instanceof RObject)) throw operandErr(i, 'object', v);
  return v;
}

export function set(args: Value[], i: number): RSet {
  const v = args[i] as Value;
  if (!(v instanceof RSet)) throw operandErr(i, 'set', v);
  return v;
}

export function bool(args: Value[], i: number): boolean {
  const v = args[i] as Value;
  if (typeof v !== 'boolean') throw operandErr(i, 'boolean', v);
  return v;
}

/** Array or set operand, as a list of members. */
export function collection(args: Value[], i: number, want = 'one of {array, set}'): Value[] {
  const v = args[i] as Value;
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.values();
  throw operandErr(i, want, v);
}

export function strings(args: Value[], i: number, what = 'one of {array, set}'): string[] {
  const items = collection(args, i, what);
  return items.map((x) => {
    if (typeof x !== 'string') throw operandErr(i, `${what} of strings`, x);
    return x;
  });
}

export function isInt(n: Num): boolean {
  return typeof n === 'bigint' || Number.isInteger(n);
}

export function toBig(n: Num): bigint {
  return typeof n === 'bigint' ? n : BigInt(n);
}

/** Integer-exact when both operands are integers, float otherwise. */
export function arith(a: Num, b: Num, op: '+' | '-' | '*'): Num {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = op === '+' ? a + b : op === '-' ? a - b : a * b;
    if (Number.isSafeInteger(r) || !Number.isInteger(a) || !Number.isInteger(b)) return r;
  }
  if (isInt(a) && isInt(b) && Number.isFinite(Number(a)) && Number.isFinite(Number(b))) {
    const x = toBig(a);
    const y = toBig(b);
    return normInt(op === '+' ? x + y : op === '-' ? x - y : x * y);
  }
  const x = Number(a);
  const y = Number(b);
  return op === '+' ? x + y : op === '-' ? x - y : x * y;
}

export function toNum(n: Num): number {
  return Number(n);
}

/** Normalizes a float result: integral values within range stay numbers. */
export function numResult(x: number): Num {
  return x;
}

export function mkObject(entries: [string, Value][]): RObject {
  const o = new RObject();
  for (const [k, v] of entries) o.set(k, v);
  return o;
}

export function utf8Len(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
