// A subset of Go's fmt verbs, as OPA's sprintf exposes them: %v %s %d %f %e %g %x %X
// %o %b %q %t %c %%, with flags, width and precision.
import { builtinError } from '../errors.ts';
import { formatNumber, formatValue, type Value } from '../value.ts';

function pad(s: string, width: number | undefined, left: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (left) return s + ' '.repeat(width - s.length);
  if (zero) {
    const neg = s.startsWith('-') || s.startsWith('+');
    const body = neg ? s.slice(1) : s;
    return (neg ? s[0] : '') + '0'.repeat(width - s.length) + body;
  }
  return ' '.repeat(width - s.length) + s;
}

function isInteger(v: Value): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

function defaultText(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(v);
  return formatValue(v);
}

function goExp(s: string): string {
  // JS writes 1e+21, Go writes 1e+21 too but pads exponent to two digits.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

export function sprintf(format: string, args: Value[]): string {
  let out = '';
  let ai = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    let j = i + 1;
    let left = false;
    let zero = false;
    let plus = false;
    let space = false;
    let sharp = false;
    for (; j < format.length; j++) {
      const f = format[j];
      if (f === '-') left = true;
      else if (f === '0') zero = true;
      else if (f === '+') plus = true;
      else if (f === ' ') space = true;
      else if (f === '#') sharp = true;
      else break;
    }
    let width: number | undefined;
    let prec: number | undefined;
    const wm = /^\d+/.exec(format.slice(j));
    if (wm) {
      width = Number(wm[0]);
      j += wm[0].length;
    }
    if (format[j] === '.') {
      const pm = /^\d*/.exec(format.slice(j + 1)) as RegExpExecArray;
      prec = Number(pm[0] || '0');
      j += 1 + pm[0].length;
    }
    const verb = format[j];
    i = j;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const v = args[ai++] as Value;
    let s: string;
    switch (verb) {
      case 'v':
      case 's':
        s = defaultText(v);
        if (prec !== undefined && verb === 's') s = [...s].slice(0, prec).join('');
        break;
      case 'd':
        if (isInteger(v))
          s =
            (plus && Number(v) >= 0 ? '+' : space && Number(v) >= 0 ? ' ' : '') +
            BigInt(v).toString();
        else s = `%!d(${typeName(v)}=${defaultText(v)})`;
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (typeof v !== 'number' && typeof v !== 'bigint') {
          s = `%!${verb}(${typeName(v)}=${defaultText(v)})`;
          break;
        }
        const n = Number(v);
        if (verb === 'f' || verb === 'F') s = n.toFixed(prec ?? 6);
        else if (verb === 'e' || verb === 'E') s = goExp(n.toExponential(prec ?? 6));
        else s = prec !== undefined ? String(Number(n.toPrecision(prec))) : formatNumber(v);
        if (verb === 'E' || verb === 'G') s = s.toUpperCase();
        if (plus && n >= 0) s = '+' + s;
        break;
      }
      case 'x':
      case 'X':
      case 'o':
      case 'b': {
        const base = verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
        if (isInteger(v)) s = BigInt(v).toString(base);
        else if (typeof v === 'string')
          s = [...Buffer.from(v, 'utf8')].map((b) => b.toString(16).padStart(2, '0')).join('');
        else {
          s = `%!${verb}(${typeName(v)}=${defaultText(v)})`;
          break;
        }
        if (sharp && base === 16) s = '0x' + s;
        if (verb === 'X') s = s.toUpperCase();
        break;
      }
      case 'q':
        s = typeof v === 'string' ? JSON.stringify(v) : `%!q(${typeName(v)}=${defaultText(v)})`;
        break;
      case 't':
        s = typeof v === 'boolean' ? String(v) : `%!t(${typeName(v)}=${defaultText(v)})`;
        break;
      case 'c':
        s = isInteger(v)
          ? String.fromCodePoint(Number(v))
          : `%!c(${typeName(v)}=${defaultText(v)})`;
        break;
      case 'T':
        s = typeName(v);
        break;
      default:
        s = `%!${verb}(${typeName(v)}=${defaultText(v)})`;
    }
    out += pad(s, width, left, zero && !left && verb !== 's' && verb !== 'v');
  }
  if (ai < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(ai)
        .map((a) => `${typeName(a)}=${defaultText(a)}`)
        .join(', ') +
      ')';
  }
  return out;
}

function typeName(v: Value): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number' || typeof v === 'bigint')
    return Number.isInteger(Number(v)) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'ast.Value';
}

export function checkFormat(f: unknown): void {
  if (typeof f !== 'string') throw builtinError('format must be a string');
}
