// Wall-clock arithmetic in an IANA time zone with nothing but `Intl`: local date-times are
// plain fields, converted to instants only at the edges. Days are counted on the proleptic
// Gregorian calendar (Date.UTC used as a calendar, never as a clock).

export interface LocalDateTime {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number; // 1-31
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const dayMs = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

// The wall-clock reading of an instant in a zone.
export function toLocal(instantMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  return {
    year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

// Milliseconds of the local reading treated as if it were UTC (a "floating" time value).
export function floating(t: LocalDateTime): number {
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hour, t.minute, t.second, 0);
  return d.getTime();
}

export function fromFloating(ms: number): LocalDateTime {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

function offsetAt(instantMs: number, timeZone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return floating(toLocal(whole, timeZone)) - whole;
}

// The instant a wall-clock reading denotes. In a fold (the hour repeated when clocks go back)
// the earlier instant wins; in a gap (the hour skipped when clocks go forward) the reading is
// taken with the offset in force before the transition, so 02:30 becomes 03:30 — both as
// RFC 5545 section 3.3.5 prescribes.
export function toInstant(t: LocalDateTime, timeZone: string): number {
  const f = floating(t);
  const before = offsetAt(f - dayMs / 2, timeZone);
  const after = offsetAt(f + dayMs / 2, timeZone);
  const valid = [...new Set([before, after])]
    .map((o) => f - o)
    .filter((u) => offsetAt(u, timeZone) === f - u);
  if (valid.length > 0) return Math.min(...valid);
  return f - before;
}

// Day numbers: days since 1970-01-01 of a local date; 1970-01-01 was a Thursday.
export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(floating({ year, month, day, hour: 0, minute: 0, second: 0 }) / dayMs);
}

export function dateOfDay(n: number): { year: number; month: number; day: number } {
  const t = fromFloating(n * dayMs);
  return { year: t.year, month: t.month, day: t.day };
}

// 0 = Monday … 6 = Sunday.
export function weekdayOfDay(n: number): number {
  return (((n + 3) % 7) + 7) % 7;
}

export function daysInMonth(year: number, month: number): number {
  return (
    dayNumber(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) -
    dayNumber(year, month, 1)
  );
}

// `2026-12-24T00:00`, `2026-12-24T00:00:00` or `2026-12-24` (midnight), no offset: a local reading.
const localPattern = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

export function parseLocal(text: string): LocalDateTime | undefined {
  const m = localPattern.exec(text.trim());
  if (!m) return undefined;
  const t = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
  };
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysInMonth(t.year, t.month))
    return undefined;
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return undefined;
  return t;
}

export function formatLocal(t: LocalDateTime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.year, 4)}-${p(t.month)}-${p(t.day)}T${p(t.hour)}:${p(t.minute)}`;
}
