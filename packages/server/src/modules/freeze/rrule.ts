import {
  dateOfDay,
  dayNumber,
  daysInMonth,
  floating,
  fromFloating,
  toInstant,
  weekdayOfDay,
  type LocalDateTime,
} from './local-time.ts';

// A focused evaluator for the RFC 5545 RRULE subset freeze calendars need: FREQ
// DAILY/WEEKLY/MONTHLY/YEARLY, INTERVAL, BYDAY (with ordinals), BYMONTH, BYMONTHDAY,
// BYSETPOS, COUNT, UNTIL, WKST. Occurrences are computed on the local wall clock of the
// window's zone and turned into instants at the end, so daylight-saving changes never move
// a window (see docs/adr for why this is not the `rrule` package).

export type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';

export interface WeekdayRule {
  readonly weekday: number; // 0 = Monday … 6 = Sunday
  readonly ordinal: number | null; // 1 = first, -1 = last, null = every
}

export interface RecurrenceRule {
  readonly freq: Frequency;
  readonly interval: number;
  readonly byDay?: readonly WeekdayRule[] | undefined;
  readonly byMonth?: readonly number[] | undefined;
  readonly byMonthDay?: readonly number[] | undefined;
  readonly bySetPos?: readonly number[] | undefined;
  readonly count?: number | undefined;
  readonly until?: { readonly utcMs: number } | { readonly local: LocalDateTime } | undefined;
  readonly wkst: number;
}

const weekdays = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const dayMs = 86_400_000;
const maxPeriods = 100_000;

export type ParseResult = { ok: true; rule: RecurrenceRule } | { ok: false; error: string };

function intList(
  value: string,
  min: number,
  max: number,
  allowNegative: boolean,
): number[] | string {
  const out: number[] = [];
  for (const part of value.split(',')) {
    if (!/^[+-]?\d+$/.test(part)) return `"${part}" is not a number`;
    const n = Number(part);
    const abs = Math.abs(n);
    if (n === 0 || abs < min || abs > max || (!allowNegative && n < 0))
      return `${n} is out of range`;
    out.push(n);
  }
  return out;
}

export function parseRrule(text: string): ParseResult {
  const body = text.trim().replace(/^RRULE:/i, '');
  const parts = new Map<string, string>();
  for (const item of body.split(';')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, error: `"${item}" is not NAME=VALUE` };
    const name = item.slice(0, eq).toUpperCase();
    if (parts.has(name)) return { ok: false, error: `${name} is given twice` };
    parts.set(name, item.slice(eq + 1).toUpperCase());
  }
  const supported = new Set([
    'FREQ',
    'INTERVAL',
    'BYDAY',
    'BYMONTH',
    'BYMONTHDAY',
    'BYSETPOS',
    'COUNT',
    'UNTIL',
    'WKST',
  ]);
  for (const name of parts.keys())
    if (!supported.has(name))
      return {
        ok: false,
        error: `${name} is not supported (supported: ${[...supported].join(', ')})`,
      };
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY' && freq !== 'MONTHLY' && freq !== 'YEARLY')
    return { ok: false, error: 'FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY' };
  let interval = 1;
  if (parts.has('INTERVAL')) {
    const v = parts.get('INTERVAL')!;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1000)
      return { ok: false, error: 'INTERVAL must be a whole number from 1 to 1000' };
    interval = Number(v);
  }
  let byDay: WeekdayRule[] | undefined;
  if (parts.has('BYDAY')) {
    byDay = [];
    for (const item of parts.get('BYDAY')!.split(',')) {
      const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
      if (!m) return { ok: false, error: `BYDAY "${item}" is not like MO, 1MO or -1FR` };
      const ordinal = m[1] === undefined ? null : Number(m[1]);
      if (ordinal !== null && (ordinal === 0 || Math.abs(ordinal) > 53))
        return { ok: false, error: `BYDAY ordinal ${ordinal} is out of range` };
      if (ordinal !== null && (freq === 'DAILY' || freq === 'WEEKLY'))
        return { ok: false, error: `BYDAY ordinals need FREQ=MONTHLY or YEARLY` };
      byDay.push({ weekday: weekdays.indexOf(m[2]!), ordinal });
    }
  }
  const lists: Record<string, number[] | undefined> = {};
  for (const [name, min, max, neg] of [
    ['BYMONTH', 1, 12, false],
    ['BYMONTHDAY', 1, 31, true],
    ['BYSETPOS', 1, 366, true],
  ] as const) {
    if (!parts.has(name)) continue;
    const r = intList(parts.get(name)!, min, max, neg);
    if (typeof r === 'string') return { ok: false, error: `${name}: ${r}` };
    lists[name] = r;
  }
  if (lists.BYMONTHDAY && freq === 'WEEKLY')
    return { ok: false, error: 'BYMONTHDAY cannot be used with FREQ=WEEKLY' };
  if (lists.BYSETPOS && !byDay && !lists.BYMONTHDAY && !lists.BYMONTH)
    return { ok: false, error: 'BYSETPOS needs another BYxxx rule part' };
  let count: number | undefined;
  if (parts.has('COUNT')) {
    const v = parts.get('COUNT')!;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10_000)
      return { ok: false, error: 'COUNT must be a whole number from 1 to 10000' };
    count = Number(v);
  }
  let until: RecurrenceRule['until'];
  if (parts.has('UNTIL')) {
    if (count !== undefined) return { ok: false, error: 'COUNT and UNTIL cannot both be given' };
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(parts.get('UNTIL')!);
    if (!m)
      return { ok: false, error: 'UNTIL must be YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ' };
    const t: LocalDateTime = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: m[4] ? Number(m[4]) : 23,
      minute: m[5] ? Number(m[5]) : 59,
      second: m[6] ? Number(m[6]) : 59,
    };
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysInMonth(t.year, t.month))
      return { ok: false, error: 'UNTIL is not a valid date' };
    until = m[7] ? { utcMs: floating(t) } : { local: t };
  }
  let wkst = 0;
  if (parts.has('WKST')) {
    wkst = weekdays.indexOf(parts.get('WKST')!);
    if (wkst < 0) return { ok: false, error: 'WKST must be MO, TU, WE, TH, FR, SA or SU' };
  }
  return {
    ok: true,
    rule: {
      freq,
      interval,
      byDay,
      byMonth: lists.BYMONTH,
      byMonthDay: lists.BYMONTHDAY,
      bySetPos: lists.BYSETPOS,
      count,
      until,
      wkst,
    },
  };
}

// Day numbers of a range [first, last] matching BYDAY, with ordinals counted inside the range.
function expandByDay(first: number, last: number, byDay: readonly WeekdayRule[]): number[] {
  const out: number[] = [];
  for (const { weekday, ordinal } of byDay) {
    const matching: number[] = [];
    const offset = (weekday - weekdayOfDay(first) + 7) % 7;
    for (let d = first + offset; d <= last; d += 7) matching.push(d);
    if (ordinal === null) out.push(...matching);
    else {
      const pick = ordinal > 0 ? matching[ordinal - 1] : matching[matching.length + ordinal];
      if (pick !== undefined) out.push(pick);
    }
  }
  return out;
}

function monthDays(year: number, month: number, byMonthDay: readonly number[]): number[] {
  const len = daysInMonth(year, month);
  const first = dayNumber(year, month, 1);
  const out: number[] = [];
  for (const md of byMonthDay) {
    const d = md > 0 ? md : len + md + 1;
    if (d >= 1 && d <= len) out.push(first + d - 1);
  }
  return out;
}

function weekdayMatches(day: number, byDay: readonly WeekdayRule[] | undefined): boolean {
  return !byDay || byDay.some((b) => b.weekday === weekdayOfDay(day));
}

// Candidate days of the month, before BYSETPOS.
function daysOfMonth(
  rule: RecurrenceRule,
  year: number,
  month: number,
  start: LocalDateTime,
): number[] {
  if (rule.byMonthDay)
    return monthDays(year, month, rule.byMonthDay).filter((d) => weekdayMatches(d, rule.byDay));
  if (rule.byDay)
    return expandByDay(
      dayNumber(year, month, 1),
      dayNumber(year, month, daysInMonth(year, month)),
      rule.byDay,
    );
  return start.day <= daysInMonth(year, month) ? [dayNumber(year, month, start.day)] : [];
}

interface Period {
  readonly index: number;
  readonly firstDay: number;
}

function periodOf(rule: RecurrenceRule, day: number): number {
  const { year, month } = dateOfDay(day);
  switch (rule.freq) {
    case 'DAILY':
      return day;
    case 'WEEKLY':
      // Day 4 (1970-01-05) was a Monday.
      return Math.floor((day - (4 + rule.wkst)) / 7);
    case 'MONTHLY':
      return year * 12 + month - 1;
    case 'YEARLY':
      return year;
  }
}

function firstDayOf(rule: RecurrenceRule, index: number): number {
  switch (rule.freq) {
    case 'DAILY':
      return index;
    case 'WEEKLY':
      return 4 + rule.wkst + index * 7;
    case 'MONTHLY':
      return dayNumber(Math.floor(index / 12), (index % 12) + 1, 1);
    case 'YEARLY':
      return dayNumber(index, 1, 1);
  }
}

function candidates(rule: RecurrenceRule, period: Period, start: LocalDateTime): number[] {
  let days: number[];
  const startDay = dayNumber(start.year, start.month, start.day);
  switch (rule.freq) {
    case 'DAILY': {
      const d = period.firstDay;
      const { month } = dateOfDay(d);
      const ok =
        (!rule.byMonth || rule.byMonth.includes(month)) &&
        (!rule.byMonthDay || monthDays(dateOfDay(d).year, month, rule.byMonthDay).includes(d)) &&
        weekdayMatches(d, rule.byDay);
      days = ok ? [d] : [];
      break;
    }
    case 'WEEKLY': {
      days = [];
      const wanted = rule.byDay ? rule.byDay.map((b) => b.weekday) : [weekdayOfDay(startDay)];
      for (let i = 0; i < 7; i++) {
        const d = period.firstDay + i;
        if (!wanted.includes(weekdayOfDay(d))) continue;
        if (rule.byMonth && !rule.byMonth.includes(dateOfDay(d).month)) continue;
        days.push(d);
      }
      break;
    }
    case 'MONTHLY': {
      const { year, month } = dateOfDay(period.firstDay);
      days =
        rule.byMonth && !rule.byMonth.includes(month) ? [] : daysOfMonth(rule, year, month, start);
      break;
    }
    case 'YEARLY': {
      const { year } = dateOfDay(period.firstDay);
      if (rule.byMonth) {
        days = rule.byMonth.flatMap((m) => daysOfMonth(rule, year, m, start));
      } else if (rule.byMonthDay) {
        days = [];
        for (let m = 1; m <= 12; m++) days.push(...daysOfMonth(rule, year, m, start));
      } else if (rule.byDay) {
        days = expandByDay(dayNumber(year, 1, 1), dayNumber(year, 12, 31), rule.byDay);
      } else {
        days =
          start.day <= daysInMonth(year, start.month)
            ? [dayNumber(year, start.month, start.day)]
            : [];
      }
      break;
    }
  }
  days = [...new Set(days)].sort((a, b) => a - b);
  if (rule.bySetPos) {
    const picked = new Set<number>();
    for (const pos of rule.bySetPos) {
      const d = pos > 0 ? days[pos - 1] : days[days.length + pos];
      if (d !== undefined) picked.add(d);
    }
    days = [...picked].sort((a, b) => a - b);
  }
  return days;
}

// Local start times (floating ms) of occurrences whose start day lies in [fromDay, toDay].
export function occurrences(
  rule: RecurrenceRule,
  start: LocalDateTime,
  timeZone: string,
  fromDay: number,
  toDay: number,
): number[] {
  const startFloating = floating(start);
  const startDay = dayNumber(start.year, start.month, start.day);
  const timeOfDay = startFloating - startDay * dayMs;
  const firstIndex = periodOf(rule, startDay);
  let index = firstIndex;
  if (rule.count === undefined) {
    const wanted = periodOf(rule, Math.max(fromDay, startDay));
    index = firstIndex + Math.floor((wanted - firstIndex) / rule.interval) * rule.interval;
  }
  const out: number[] = [];
  let seen = 0;
  for (let n = 0; n < maxPeriods; n++, index += rule.interval) {
    const firstDay = firstDayOf(rule, index);
    if (firstDay > toDay) break;
    for (const day of candidates(rule, { index, firstDay }, start)) {
      const occ = day * dayMs + timeOfDay;
      if (occ < startFloating) continue;
      if (rule.until) {
        const past =
          'utcMs' in rule.until
            ? toInstant(fromFloating(occ), timeZone) > rule.until.utcMs
            : occ > floating(rule.until.local);
        if (past) return out;
      }
      seen++;
      if (rule.count !== undefined && seen > rule.count) return out;
      if (day >= fromDay && day <= toDay) out.push(occ);
    }
  }
  return out;
}
