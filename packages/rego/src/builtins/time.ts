// time.* builtins. Timestamps are int64 nanoseconds (bigint); layouts follow Go's
// reference-time notation ("2006-01-02T15:04:05Z07:00").
import { builtinError } from '../errors.ts';
import { normInt, type Value } from '../value.ts';
import { int, num, operandErr, str } from './helpers.ts';
import { def, type BuiltinTable } from './types.ts';

const MIN_NS = -9223372036854775808n;
const MAX_NS = 9223372036854775807n;

const NAMED: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  Kitchen: '3:04PM',
  Stamp: 'Jan _2 15:04:05',
  StampMilli: 'Jan _2 15:04:05.000',
  StampMicro: 'Jan _2 15:04:05.000000',
  StampNano: 'Jan _2 15:04:05.000000000',
  DateTime: '2006-01-02 15:04:05',
  DateOnly: '2006-01-02',
  TimeOnly: '15:04:05',
};

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const TOKENS = [
  'January',
  'Monday',
  '2006',
  '-07:00:00',
  '-0700',
  '-07:00',
  'Z07:00:00',
  'Z0700',
  'Z07:00',
  'Z07',
  '-07',
  'Jan',
  'Mon',
  'MST',
  '002',
  '__2',
  '01',
  '02',
  '03',
  '04',
  '05',
  '06',
  '15',
  '_2',
  'PM',
  'pm',
  '1',
  '2',
  '3',
  '4',
  '5',
];

type Tok = { lit: string } | { tok: string; frac?: number; fracOpt?: boolean };

function lex(layout: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let lit = '';
  while (i < layout.length) {
    const rest = layout.slice(i);
    const fm = /^[.,](0+|9+)(?![0-9])/.exec(rest);
    if (fm && /[0-9]/.test(layout[i - 1] ?? '')) {
      if (lit) out.push({ lit });
      lit = '';
      out.push({
        tok: 'frac',
        frac: (fm[1] as string).length,
        fracOpt: (fm[1] as string)[0] === '9',
      });
      i += fm[0].length;
      continue;
    }
    const t = TOKENS.find((x) => rest.startsWith(x));
    if (t !== undefined) {
      if (lit) out.push({ lit });
      lit = '';
      out.push({ tok: t });
      i += t.length;
      continue;
    }
    lit += layout[i];
    i++;
  }
  if (lit) out.push({ lit });
  return out;
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  offsetSec: number;
}

function toNs(p: Parts): bigint {
  const ms = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.min, p.sec);
  const d = new Date(ms);
  if (p.year >= 0 && p.year < 100) d.setUTCFullYear(p.year);
  const ns = BigInt(d.getTime()) * 1000000n + BigInt(p.nsec) - BigInt(p.offsetSec) * 1000000000n;
  if (ns < MIN_NS || ns > MAX_NS) throw builtinError('time outside of valid range');
  return ns;
}

function parseTime(layout: string, value: string): bigint {
  const toks = lex(NAMED[layout] ?? layout);
  const p: Parts = { year: 1, month: 1, day: 1, hour: 0, min: 0, sec: 0, nsec: 0, offsetSec: 0 };
  let pm: boolean | undefined;
  let i = 0;
  const bad = (): never => {
    throw builtinError(
      `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse`,
    );
  };
  const digits = (min: number, max: number): number => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(value.slice(i));
    if (!m) return bad();
    i += m[0].length;
    return Number(m[0]);
  };
  for (let ti = 0; ti < toks.length; ti++) {
    const t = toks[ti] as Tok;
    if ('lit' in t) {
      if (!value.startsWith(t.lit, i)) bad();
      i += t.lit.length;
      // Go accepts fractional seconds after a seconds field even when the layout has none.
      continue;
    }
    switch (t.tok) {
      case '2006':
        p.year = digits(4, 4);
        break;
      case '06': {
        const y = digits(2, 2);
        p.year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case '01':
        p.month = digits(2, 2);
        break;
      case '1':
        p.month = digits(1, 2);
        break;
      case 'Jan':
      case 'January': {
        const names = MONTHS.map((m) => (t.tok === 'Jan' ? m.slice(0, 3) : m));
        const idx = names.findIndex(
          (m) => value.slice(i, i + m.length).toLowerCase() === m.toLowerCase(),
        );
        if (idx < 0) bad();
        i += (names[idx] as string).length;
        p.month = idx + 1;
        break;
      }
      case 'Mon':
      case 'Monday': {
        const names = DAYS.map((m) => (t.tok === 'Mon' ? m.slice(0, 3) : m));
        const idx = names.findIndex(
          (m) => value.slice(i, i + m.length).toLowerCase() === m.toLowerCase(),
        );
        if (idx < 0) bad();
        i += (names[idx] as string).length;
        break;
      }
      case '02':
        p.day = digits(2, 2);
        break;
      case '_2':
        if (value[i] === ' ') i++;
        p.day = digits(1, 2);
        break;
      case '2':
        p.day = digits(1, 2);
        break;
      case '002':
        digits(3, 3);
        break;
      case '15':
        p.hour = digits(1, 2);
        break;
      case '03':
        p.hour = digits(2, 2);
        break;
      case '3':
        p.hour = digits(1, 2);
        break;
      case '04':
        p.min = digits(2, 2);
        break;
      case '4':
        p.min = digits(1, 2);
        break;
      case '05':
      case '5': {
        p.sec = digits(t.tok === '05' ? 2 : 1, 2);
        const next = toks[ti + 1];
        if (!(next && 'tok' in next && next.tok === 'frac')) {
          const fm = /^[.,](\d+)/.exec(value.slice(i));
          if (fm) {
            p.nsec = Number(((fm[1] as string) + '000000000').slice(0, 9));
            i += fm[0].length;
          }
        }
        break;
      }
      case 'frac': {
        const fm = /^[.,](\d+)/.exec(value.slice(i));
        if (!fm) {
          if (t.fracOpt) break;
          bad();
        }
        p.nsec = Number((((fm as RegExpExecArray)[1] as string) + '000000000').slice(0, 9));
        i += (fm as RegExpExecArray)[0].length;
        break;
      }
      case 'PM':
      case 'pm': {
        const s = value.slice(i, i + 2).toUpperCase();
        if (s !== 'AM' && s !== 'PM') bad();
        pm = s === 'PM';
        i += 2;
        break;
      }
      case 'MST': {
        const m = /^[A-Z]{3,5}/.exec(value.slice(i));
        if (!m) bad();
        i += (m as RegExpExecArray)[0].length;
        break;
      }
      default: {
        // Zone offsets.
        if (t.tok.startsWith('Z') && value[i] === 'Z') {
          i++;
          p.offsetSec = 0;
          break;
        }
        const m = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?/.exec(value.slice(i));
        if (!m) bad();
        const mm = m as RegExpExecArray;
        i += mm[0].length;
        const sign = mm[1] === '-' ? -1 : 1;
        p.offsetSec = sign * (Number(mm[2]) * 3600 + Number(mm[3] ?? 0) * 60 + Number(mm[4] ?? 0));
      }
    }
  }
  if (i !== value.length)
    throw builtinError(
      `parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(value.slice(i))}`,
    );
  if (pm !== undefined) {
    if (pm && p.hour < 12) p.hour += 12;
    if (!pm && p.hour === 12) p.hour = 0;
  }
  if (p.month < 1 || p.month > 12)
    throw builtinError(`parsing time ${JSON.stringify(value)}: month out of range`);
  if (p.day < 1 || p.day > 31 || p.hour > 23 || p.min > 59 || p.sec > 59)
    throw builtinError(`parsing time ${JSON.stringify(value)}: day out of range`);
  return toNs(p);
}

/** Offset in seconds east of UTC for a zone at an instant. */
function zoneOffset(tz: string, ms: number): number {
  if (tz === '' || tz === 'UTC') return 0;
  if (tz === 'Local') return -new Date(ms).getTimezoneOffset() * 60;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw builtinError(`unknown time zone ${tz}`);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 1000);
}

interface Broken {
  ns: bigint;
  tz: string;
  date: Date;
  nsec: number;
  offset: number;
}

function breakDown(ns: bigint, tz: string): Broken {
  const ms = Number(ns / 1000000n) - (ns % 1000000n < 0n ? 1 : 0);
  let nsec = Number(ns % 1000000000n);
  if (nsec < 0) nsec += 1000000000;
  const offset = zoneOffset(tz, ms);
  return { ns, tz, date: new Date(ms + offset * 1000), nsec, offset };
}

/** Accepts `ns` or `[ns, tz]` / `[ns, tz, layout]`. */
function timeArg(args: Value[], i: number): { ns: bigint; tz: string; layout: string | undefined } {
  const v = args[i] as Value;
  const toNsValue = (x: Value): bigint => {
    if (typeof x === 'bigint') {
      // Timestamps are Go int64 nanoseconds.
      if (x > 9223372036854775807n || x < -9223372036854775808n)
        throw builtinError('timestamp too big');
      return x;
    }
    if (typeof x === 'number') {
      if (!Number.isFinite(x) || Math.abs(x) > 9.223372036854776e18)
        throw builtinError('timestamp too big');
      return BigInt(Math.trunc(x));
    }
    throw operandErr(i, 'number', x);
  };
  if (Array.isArray(v)) {
    if (v.length < 1 || v.length > 3) throw operandErr(i, 'array of 1 to 3 elements', v);
    const tz = v[1];
    const layout = v[2];
    if (tz !== undefined && typeof tz !== 'string') throw operandErr(i, 'string timezone', tz);
    if (layout !== undefined && typeof layout !== 'string')
      throw operandErr(i, 'string layout', layout);
    return { ns: toNsValue(v[0] as Value), tz: tz ?? '', layout };
  }
  return { ns: toNsValue(v), tz: '', layout: undefined };
}

function pad(n: number, w: number, c = '0'): string {
  return String(n).padStart(w, c);
}

function formatTime(b: Broken, layout: string): string {
  const d = b.date;
  let out = '';
  for (const t of lex(NAMED[layout] ?? layout)) {
    if ('lit' in t) {
      out += t.lit;
      continue;
    }
    const h = d.getUTCHours();
    const off = b.offset;
    const offAbs = Math.abs(off);
    const sign = off < 0 ? '-' : '+';
    const oh = pad(Math.floor(offAbs / 3600), 2);
    const om = pad(Math.floor((offAbs % 3600) / 60), 2);
    switch (t.tok) {
      case '2006':
        out += pad(d.getUTCFullYear(), 4);
        break;
      case '06':
        out += pad(d.getUTCFullYear() % 100, 2);
        break;
      case '01':
        out += pad(d.getUTCMonth() + 1, 2);
        break;
      case '1':
        out += d.getUTCMonth() + 1;
        break;
      case 'Jan':
        out += (MONTHS[d.getUTCMonth()] as string).slice(0, 3);
        break;
      case 'January':
        out += MONTHS[d.getUTCMonth()];
        break;
      case 'Mon':
        out += (DAYS[d.getUTCDay()] as string).slice(0, 3);
        break;
      case 'Monday':
        out += DAYS[d.getUTCDay()];
        break;
      case '02':
        out += pad(d.getUTCDate(), 2);
        break;
      case '_2':
        out += pad(d.getUTCDate(), 2, ' ');
        break;
      case '2':
        out += d.getUTCDate();
        break;
      case '15':
        out += pad(h, 2);
        break;
      case '03':
        out += pad(h % 12 === 0 ? 12 : h % 12, 2);
        break;
      case '3':
        out += h % 12 === 0 ? 12 : h % 12;
        break;
      case '04':
        out += pad(d.getUTCMinutes(), 2);
        break;
      case '4':
        out += d.getUTCMinutes();
        break;
      case '05':
        out += pad(d.getUTCSeconds(), 2);
        break;
      case '5':
        out += d.getUTCSeconds();
        break;
      case 'PM':
        out += h >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += h >= 12 ? 'pm' : 'am';
        break;
      case 'MST':
        out += b.tz === '' || b.tz === 'UTC' ? 'UTC' : off === 0 ? 'UTC' : `${sign}${oh}`;
        break;
      case 'frac': {
        let f = pad(b.nsec, 9).slice(0, t.frac);
        if (t.fracOpt) {
          f = f.replace(/0+$/, '');
          if (f) out += '.' + f;
        } else out += '.' + f;
        break;
      }
      case 'Z07:00':
      case 'Z0700':
      case 'Z07':
        if (off === 0) out += 'Z';
        else
          out +=
            t.tok === 'Z07:00'
              ? `${sign}${oh}:${om}`
              : t.tok === 'Z0700'
                ? `${sign}${oh}${om}`
                : `${sign}${oh}`;
        break;
      case '-07:00':
        out += `${sign}${oh}:${om}`;
        break;
      case '-0700':
        out += `${sign}${oh}${om}`;
        break;
      case '-07':
        out += `${sign}${oh}`;
        break;
      default:
        out += t.tok;
    }
  }
  return out;
}

function parseDuration(s: string): bigint {
  const units: Record<string, bigint> = {
    ns: 1n,
    us: 1000n,
    µs: 1000n,
    μs: 1000n,
    ms: 1000000n,
    s: 1000000000n,
    m: 60000000000n,
    h: 3600000000000n,
  };
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (!rest) throw builtinError(`time: invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  let totalBig = 0n;
  while (rest) {
    const m = /^(\d*(?:\.\d*)?)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m || m[1] === '' || m[1] === '.')
      throw builtinError(`time: invalid duration ${JSON.stringify(s)}`);
    const [whole, frac = ''] = (m[1] as string).split('.');
    const unit = units[m[2] as string] as bigint;
    totalBig += BigInt(whole || '0') * unit;
    if (frac) total += Number('0.' + frac) * Number(unit);
    rest = rest.slice(m[0].length);
  }
  const r = totalBig + BigInt(Math.round(total));
  return neg ? -r : r;
}

function addDate(ns: bigint, years: number, months: number, days: number): bigint {
  const b = breakDown(ns, '');
  const d = b.date;
  const nd = new Date(0);
  nd.setUTCFullYear(d.getUTCFullYear() + years, d.getUTCMonth() + months, d.getUTCDate() + days);
  nd.setUTCHours(d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0);
  const out = BigInt(nd.getTime()) * 1000000n + BigInt(b.nsec);
  if (out < MIN_NS || out > MAX_NS) throw builtinError('time outside of valid range');
  return out;
}

function diff(a: Broken, b: Broken): Value[] {
  // Order so that `from` <= `to`, then count calendar units like Go's AddDate inverse.
  let x = a;
  let y = b;
  if (x.ns > y.ns) [x, y] = [y, x];
  const dx = x.date;
  const dy = y.date;
  let year = dy.getUTCFullYear() - dx.getUTCFullYear();
  let month = dy.getUTCMonth() - dx.getUTCMonth();
  let day = dy.getUTCDate() - dx.getUTCDate();
  let hour = dy.getUTCHours() - dx.getUTCHours();
  let min = dy.getUTCMinutes() - dx.getUTCMinutes();
  let sec = dy.getUTCSeconds() - dx.getUTCSeconds();
  let nsec = y.nsec - x.nsec;
  if (nsec < 0) {
    nsec += 1e9;
    sec--;
  }
  if (sec < 0) {
    sec += 60;
    min--;
  }
  if (min < 0) {
    min += 60;
    hour--;
  }
  if (hour < 0) {
    hour += 24;
    day--;
  }
  if (day < 0) {
    const daysIn = new Date(Date.UTC(dx.getUTCFullYear(), dx.getUTCMonth() + 1, 0)).getUTCDate();
    day += daysIn;
    month--;
  }
  if (month < 0) {
    month += 12;
    year--;
  }
  return [year, month, day, hour, min, sec];
}

export const timeBuiltins: BuiltinTable = {
  'time.now_ns': def('time.now_ns', 0, (_a, ctx) => normInt(ctx.nowNs)),
  'time.parse_ns': def('time.parse_ns', 2, (a) => normInt(parseTime(str(a, 0), str(a, 1)))),
  'time.parse_rfc3339_ns': def('time.parse_rfc3339_ns', 1, (a) =>
    normInt(parseTime('RFC3339', str(a, 0))),
  ),
  'time.parse_duration_ns': def('time.parse_duration_ns', 1, (a) =>
    normInt(parseDuration(str(a, 0))),
  ),
  'time.date': def('time.date', 1, (a) => {
    const t = timeArg(a, 0);
    const d = breakDown(t.ns, t.tz).date;
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
  }),
  'time.clock': def('time.clock', 1, (a) => {
    const t = timeArg(a, 0);
    const d = breakDown(t.ns, t.tz).date;
    return [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  }),
  'time.weekday': def('time.weekday', 1, (a) => {
    const t = timeArg(a, 0);
    return DAYS[breakDown(t.ns, t.tz).date.getUTCDay()] as string;
  }),
  'time.add_date': def('time.add_date', 4, (a) => {
    const n = num(a, 0);
    const ns = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
    return normInt(addDate(ns, int(a, 1), int(a, 2), int(a, 3)));
  }),
  'time.diff': def('time.diff', 2, (a) => {
    const x = timeArg(a, 0);
    const y = timeArg(a, 1);
    // Both instants are read in the first one's zone, so only real elapsed time counts.
    return diff(breakDown(x.ns, x.tz), breakDown(y.ns, x.tz));
  }),
  // OPA's test builtin: blocks for a duration; used to show time.now_ns is fixed per query.
  'test.sleep': def('test.sleep', 1, (a) => {
    const ms = Number(parseDuration(str(a, 0)) / 1000000n);
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return null;
  }),
  'time.format': def('time.format', 1, (a) => {
    const t = timeArg(a, 0);
    return formatTime(breakDown(t.ns, t.tz), t.layout ?? 'RFC3339Nano');
  }),
};
