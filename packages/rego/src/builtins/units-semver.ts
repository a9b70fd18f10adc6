// units.* (exact decimal scaling, so "0.0000005M" is exactly 0.5) and semver.*.
import { builtinError } from '../errors.ts';
import { normInt, type Value } from '../value.ts';
import { str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

/** Parses a decimal number into mantissa × 10^exp without rounding. */
function decimal(text: string): { m: bigint; e: number } | undefined {
  const r = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!r || (!r[2] && !r[3])) return undefined;
  const frac = r[3] ?? '';
  let m = BigInt((r[2] || '0') + frac);
  if (r[1] === '-') m = -m;
  const e = Number(r[4] ?? '0') - frac.length;
  return { m, e };
}

function toValue(m: bigint, e: number, integer: boolean): Value {
  if (e >= 0) return normInt(m * 10n ** BigInt(e));
  if (integer) return normInt(m / 10n ** BigInt(-e));
  const d = 10n ** BigInt(-e);
  if (m % d === 0n) return normInt(m / d);
  return Number(`${m}e${e}`);
}

const SI: Record<string, number> = { '': 0, k: 3, m: 6, g: 9, t: 12, p: 15, e: 18 };
const BIN: Record<string, number> = { ki: 1, mi: 2, gi: 3, ti: 4, pi: 5, ei: 6 };

function scale(name: string, raw: string, bytes: boolean): Value {
  if (/\s/.test(raw)) throw builtinError(`${name}: spaces not allowed in resource strings`);
  const s = raw.replace(/"/g, '');
  const m = /^([0-9.eE+-]*?)([a-zA-Z]*)$/.exec(s);
  const numPart = m?.[1] ?? '';
  let unit = m?.[2] ?? '';
  if (numPart === '')
    throw builtinError(bytes ? `${name}: no byte amount provided` : `${name}: no amount provided`);
  const d = decimal(numPart);
  if (!d)
    throw builtinError(
      bytes
        ? `${name}: could not parse byte amount to a number`
        : `${name}: could not parse amount to a number`,
    );
  if (Math.abs(d.e) > 1000) throw builtinError(`${name}: exponent too large`);
  let { m: mant, e } = d;
  if (!bytes && unit === 'm') return toValue(mant, e - 3, false);
  unit = unit.toLowerCase();
  if (bytes && unit.endsWith('b')) unit = unit.slice(0, -1);
  if (unit in SI) e += SI[unit] as number;
  else if (unit in BIN) mant *= 1024n ** BigInt(BIN[unit] as number);
  else throw builtinError(`${name}: unknown unit ${raw.slice(numPart.length)}`);
  return toValue(mant, e, bytes);
}

interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string[];
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function parseSemver(s: string): SemVer | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  return {
    major: BigInt(m[1] as string),
    minor: BigInt(m[2] as string),
    patch: BigInt(m[3] as string),
    pre: m[4] ? m[4].split('.') : [],
  };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePre(a: string[], b: string[]): number {
  if (!a.length && !b.length) return 0;
  if (!a.length) return 1;
  if (!b.length) return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    let c: number;
    if (xn && yn) c = cmpBig(BigInt(x), BigInt(y));
    else if (xn) c = -1;
    else if (yn) c = 1;
    else c = x < y ? -1 : x > y ? 1 : 0;
    if (c) return c;
  }
  return a.length - b.length === 0 ? 0 : a.length < b.length ? -1 : 1;
}

export const unitsSemverBuiltins: BuiltinTable = {
  'units.parse': def('units.parse', 1, (a) => scale('units.parse', str(a, 0), false)),
  'units.parse_bytes': def('units.parse_bytes', 1, (a) =>
    scale('units.parse_bytes', str(a, 0), true),
  ),
  'semver.is_valid': def(
    'semver.is_valid',
    1,
    (a) => typeof a[0] === 'string' && parseSemver(a[0]) !== undefined,
  ),
  'semver.compare': def('semver.compare', 2, (a) => {
    const x = str(a, 0);
    const y = str(a, 1);
    const p = parseSemver(x);
    if (!p) throw builtinError(`operand 1: string ${JSON.stringify(x)} is not a valid SemVer`);
    const q = parseSemver(y);
    if (!q) throw builtinError(`operand 2: string ${JSON.stringify(y)} is not a valid SemVer`);
    return (
      cmpBig(p.major, q.major) ||
      cmpBig(p.minor, q.minor) ||
      cmpBig(p.patch, q.patch) ||
      comparePre(p.pre, q.pre)
    );
  }),
};
