import { parseDuration } from '../../platform/duration.ts';
import {
  dayNumber,
  formatLocal,
  fromFloating,
  parseLocal,
  toInstant,
  toLocal,
  type LocalDateTime,
} from './local-time.ts';
import type { FreezeWindowSpec } from './freeze-spec.ts';
import { occurrences, parseRrule, type RecurrenceRule } from './rrule.ts';

export interface Occurrence {
  readonly start: Date;
  readonly end: Date;
  readonly localStart: string;
  readonly localEnd: string;
  readonly why: string;
}

const dayMs = 86_400_000;
const defaultStart: LocalDateTime = { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0 };

// A window's schedule, parsed once per resource version. Whole days of a duration are nominal
// (wall clock), the rest exact, as iCal durations are: a 24h window opening at local
// midnight closes at the next local midnight even on the 23- or 25-hour days of a
// daylight-saving change, while a 1h window lasts one hour even if it opens in the gap.
export class FreezeSchedule {
  private readonly rule: RecurrenceRule | undefined;
  private readonly durationMs: number;
  private readonly start: LocalDateTime;
  private readonly exclusions: { start: number; end: number }[];

  constructor(private readonly spec: FreezeWindowSpec) {
    const zone = spec.timeZone;
    if (spec.schedule.recurring) {
      const parsed = parseRrule(spec.schedule.recurring.rrule);
      if (!parsed.ok) throw new Error(parsed.error);
      this.rule = parsed.rule;
      this.durationMs = parseDuration(spec.schedule.recurring.duration)!;
      this.start = spec.schedule.recurring.start
        ? parseLocal(spec.schedule.recurring.start)!
        : defaultStart;
    } else {
      this.start = parseLocal(spec.schedule.start!)!;
      this.durationMs = 0;
    }
    this.exclusions = spec.exclusions.map((e) => ({
      start: toInstant(parseLocal(e.start)!, zone),
      end: toInstant(parseLocal(e.end)!, zone),
    }));
  }

  // The occurrence in force at `at`, if any (the latest one to open when several overlap).
  occurrenceAt(at: Date): Occurrence | undefined {
    const zone = this.spec.timeZone;
    const t = at.getTime();
    if (this.exclusions.some((e) => e.start <= t && t < e.end)) return undefined;
    if (!this.rule) {
      const endLocal = parseLocal(this.spec.schedule.end!)!;
      const start = toInstant(this.start, zone);
      const end = toInstant(endLocal, zone);
      if (t < start || t >= end) return undefined;
      return {
        start: new Date(start),
        end: new Date(end),
        localStart: formatLocal(this.start),
        localEnd: formatLocal(endLocal),
        why: `one-off freeze ${formatLocal(this.start)} to ${formatLocal(endLocal)} ${zone}`,
      };
    }
    const local = toLocal(t, zone);
    const today = dayNumber(local.year, local.month, local.day);
    const from = today - Math.ceil(this.durationMs / dayMs) - 1;
    const starts = occurrences(this.rule, this.start, zone, from, today);
    for (let i = starts.length - 1; i >= 0; i--) {
      const s = starts[i]!;
      const startLocal = fromFloating(s);
      const days = Math.floor(this.durationMs / dayMs);
      const start = toInstant(startLocal, zone);
      const end =
        (days > 0 ? toInstant(fromFloating(s + days * dayMs), zone) : start) +
        (this.durationMs - days * dayMs);
      const endLocal = toLocal(end, zone);
      if (start <= t && t < end) {
        return {
          start: new Date(start),
          end: new Date(end),
          localStart: formatLocal(startLocal),
          localEnd: formatLocal(endLocal),
          why: `recurring freeze ${this.spec.schedule.recurring!.rrule} from ${formatLocal(startLocal)} to ${formatLocal(endLocal)} ${zone}`,
        };
      }
    }
    return undefined;
  }
}
