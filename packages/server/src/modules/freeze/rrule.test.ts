import { describe, expect, it } from 'vitest';
import { FreezeSchedule } from './freeze-schedule.ts';
import { freezeWindowSpecSchema, type FreezeWindowSpec } from './freeze-spec.ts';
import { toInstant } from './local-time.ts';
import { parseRrule } from './rrule.ts';

const ny = 'America/New_York';

function schedule(raw: Record<string, unknown>): FreezeSchedule {
  return new FreezeSchedule(
    freezeWindowSpecSchema.parse({
      scope: { environmentTypes: ['production'] },
      timeZone: ny,
      ...raw,
    }) as FreezeWindowSpec,
  );
}

const weekend = () =>
  schedule({ schedule: { recurring: { rrule: 'FREQ=WEEKLY;BYDAY=SA,SU', duration: '24h' } } });

// Local wall-clock time in New York → instant, independently of the code under test.
const at = (iso: string) => new Date(iso);

describe('local time in a zone', () => {
  it('maps a reading in the spring-forward gap with the offset before the change', () => {
    const t = toInstant({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, ny);
    expect(new Date(t).toISOString()).toBe('2026-03-08T07:30:00.000Z');
  });
  it('maps a reading in the fall-back fold to the earlier instant', () => {
    const t = toInstant({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, ny);
    expect(new Date(t).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('weekend freeze in America/New_York across daylight-saving changes', () => {
  it('blocks Saturday 10:00 local and lets Friday 10:00 pass, before and after March DST', () => {
    const s = weekend();
    expect(s.occurrenceAt(at('2026-03-06T15:00:00Z'))).toBeUndefined(); // Fri 10:00 EST
    expect(s.occurrenceAt(at('2026-03-07T15:00:00Z'))?.localStart).toBe('2026-03-07T00:00'); // Sat 10:00 EST
    expect(s.occurrenceAt(at('2026-03-08T14:00:00Z'))?.localStart).toBe('2026-03-08T00:00'); // Sun 10:00 EDT
    expect(s.occurrenceAt(at('2026-03-13T14:00:00Z'))).toBeUndefined(); // Fri 10:00 EDT
    expect(s.occurrenceAt(at('2026-03-14T14:00:00Z'))?.localStart).toBe('2026-03-14T00:00'); // Sat 10:00 EDT
  });
  it('closes at local midnight on the 23-hour Sunday and opens at local midnight Saturday', () => {
    const s = weekend();
    expect(s.occurrenceAt(at('2026-03-09T04:30:00Z'))).toBeUndefined(); // Mon 00:30 EDT
    expect(s.occurrenceAt(at('2026-03-09T03:30:00Z'))).toBeDefined(); // Sun 23:30 EDT
    expect(s.occurrenceAt(at('2026-03-07T04:59:59Z'))).toBeUndefined(); // Fri 23:59:59 EST
    expect(s.occurrenceAt(at('2026-03-07T05:00:00Z'))).toBeDefined(); // Sat 00:00 EST
  });
  it('blocks Saturday 10:00 and lets Friday 10:00 pass around the November change', () => {
    const s = weekend();
    expect(s.occurrenceAt(at('2026-10-30T14:00:00Z'))).toBeUndefined(); // Fri 10:00 EDT
    const sat = s.occurrenceAt(at('2026-10-31T14:00:00Z')); // Sat 10:00 EDT
    expect(sat?.start.toISOString()).toBe('2026-10-31T04:00:00.000Z');
    expect(s.occurrenceAt(at('2026-11-02T04:30:00Z'))).toBeDefined(); // Sun 23:30 EST (25-hour day)
    expect(s.occurrenceAt(at('2026-11-02T05:00:00Z'))).toBeUndefined(); // Mon 00:00 EST
    expect(s.occurrenceAt(at('2026-11-06T15:00:00Z'))).toBeUndefined(); // Fri 10:00 EST
    expect(s.occurrenceAt(at('2026-11-07T15:00:00Z'))?.localStart).toBe('2026-11-07T00:00'); // Sat 10:00 EST
  });
});

describe('the last three business days of each quarter', () => {
  const quarter = () =>
    schedule({
      schedule: {
        recurring: {
          rrule: 'FREQ=MONTHLY;BYMONTH=3,6,9,12;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-3,-2,-1',
          duration: '24h',
        },
      },
    });
  const frozenOn = (s: FreezeSchedule, date: string) =>
    s.occurrenceAt(at(`${date}T16:00:00Z`)) !== undefined; // noon in New York
  it('freezes 27, 30, 31 March 2026 and nothing else around them', () => {
    const s = quarter();
    expect(
      [
        '2026-03-25',
        '2026-03-26',
        '2026-03-27',
        '2026-03-28',
        '2026-03-29',
        '2026-03-30',
        '2026-03-31',
        '2026-04-01',
      ].map((d) => frozenOn(s, d)),
    ).toEqual([false, false, true, false, false, true, true, false]);
  });
  it('freezes the right days in June, September and December, and none in other months', () => {
    const s = quarter();
    expect(
      ['2026-06-25', '2026-06-26', '2026-06-29', '2026-06-30'].map((d) => frozenOn(s, d)),
    ).toEqual([false, true, true, true]);
    expect(
      ['2026-09-25', '2026-09-28', '2026-09-29', '2026-09-30'].map((d) => frozenOn(s, d)),
    ).toEqual([false, true, true, true]);
    expect(
      ['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31'].map((d) => frozenOn(s, d)),
    ).toEqual([false, true, true, true]);
    expect(['2026-05-27', '2026-05-28', '2026-05-29'].map((d) => frozenOn(s, d))).toEqual([
      false,
      false,
      false,
    ]);
  });
});

describe('other RRULE parts', () => {
  it('one-off windows use the local time of their zone', () => {
    const s = schedule({ schedule: { start: '2026-12-24T00:00', end: '2026-12-27T00:00' } });
    expect(s.occurrenceAt(at('2026-12-24T04:59:00Z'))).toBeUndefined();
    expect(s.occurrenceAt(at('2026-12-24T05:00:00Z'))?.why).toContain('one-off');
    expect(s.occurrenceAt(at('2026-12-27T04:59:00Z'))).toBeDefined();
    expect(s.occurrenceAt(at('2026-12-27T05:00:00Z'))).toBeUndefined();
  });
  it('ordinal BYDAY, INTERVAL, COUNT and UNTIL', () => {
    const lastFriday = schedule({
      schedule: {
        recurring: { rrule: 'FREQ=MONTHLY;BYDAY=-1FR', duration: '8h', start: '2026-01-01T09:00' },
      },
    });
    expect(lastFriday.occurrenceAt(at('2026-01-30T15:00:00Z'))?.localStart).toBe(
      '2026-01-30T09:00',
    );
    expect(lastFriday.occurrenceAt(at('2026-01-30T13:00:00Z'))).toBeUndefined(); // 08:00 local
    expect(lastFriday.occurrenceAt(at('2026-01-23T15:00:00Z'))).toBeUndefined();
    const everyOtherMonday = schedule({
      schedule: {
        recurring: {
          rrule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO',
          duration: '24h',
          start: '2026-01-05T00:00',
        },
      },
    });
    expect(everyOtherMonday.occurrenceAt(at('2026-01-05T17:00:00Z'))).toBeDefined();
    expect(everyOtherMonday.occurrenceAt(at('2026-01-12T17:00:00Z'))).toBeUndefined();
    expect(everyOtherMonday.occurrenceAt(at('2026-01-19T17:00:00Z'))).toBeDefined();
    const twice = schedule({
      schedule: {
        recurring: { rrule: 'FREQ=DAILY;COUNT=2', duration: '1h', start: '2026-02-01T12:00' },
      },
    });
    expect(twice.occurrenceAt(at('2026-02-02T17:30:00Z'))).toBeDefined();
    expect(twice.occurrenceAt(at('2026-02-03T17:30:00Z'))).toBeUndefined();
    const until = schedule({
      schedule: {
        recurring: { rrule: 'FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24;UNTIL=20271231', duration: '2d' },
      },
    });
    expect(until.occurrenceAt(at('2027-12-25T17:00:00Z'))).toBeDefined();
    expect(until.occurrenceAt(at('2028-12-25T17:00:00Z'))).toBeUndefined();
  });
  it('exclusions take a window out of force', () => {
    const s = schedule({
      schedule: { recurring: { rrule: 'FREQ=WEEKLY;BYDAY=SA,SU', duration: '24h' } },
      exclusions: [{ start: '2026-03-07T08:00', end: '2026-03-07T12:00' }],
    });
    expect(s.occurrenceAt(at('2026-03-07T15:00:00Z'))).toBeUndefined();
    expect(s.occurrenceAt(at('2026-03-07T18:00:00Z'))).toBeDefined();
  });
  it('refuses malformed and unsupported rules with a reason', () => {
    expect(parseRrule('FREQ=HOURLY')).toMatchObject({ ok: false });
    expect(parseRrule('FREQ=WEEKLY;BYHOUR=3')).toMatchObject({
      ok: false,
      error: expect.stringContaining('BYHOUR'),
    });
    expect(parseRrule('FREQ=WEEKLY;BYDAY=1MO')).toMatchObject({ ok: false });
    expect(parseRrule('FREQ=DAILY;COUNT=2;UNTIL=20260101')).toMatchObject({ ok: false });
    expect(parseRrule('RRULE:FREQ=MONTHLY;BYDAY=-1FR')).toMatchObject({ ok: true });
    const bad = freezeWindowSpecSchema.safeParse({
      scope: {},
      timeZone: 'Mars/Olympus',
      schedule: { recurring: { rrule: 'FREQ=SOMETIMES', duration: 'long' } },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'schedule.recurring.duration',
      'schedule.recurring.rrule',
      'scope',
      'timeZone',
    ]);
  });
});

describe('more calendars and DST edges', () => {
  const rule = (rrule: string, duration = '24h', start?: string) =>
    schedule({ schedule: { recurring: { rrule, duration, ...(start ? { start } : {}) } } });
  const noonNy = (date: string) => at(`${date}T17:00:00Z`); // noon EST; 13:00 EDT is fine too
  it('Thanksgiving (fourth Thursday of November), last day of the month, first business day', () => {
    const thanksgiving = rule('FREQ=YEARLY;BYMONTH=11;BYDAY=4TH');
    expect(thanksgiving.occurrenceAt(noonNy('2026-11-26'))?.localStart).toBe('2026-11-26T00:00');
    expect(thanksgiving.occurrenceAt(noonNy('2026-11-19'))).toBeUndefined();
    expect(thanksgiving.occurrenceAt(noonNy('2027-11-25'))?.localStart).toBe('2027-11-25T00:00');
    const monthEnd = rule('FREQ=MONTHLY;BYMONTHDAY=-1');
    expect(monthEnd.occurrenceAt(noonNy('2026-02-28'))).toBeDefined();
    expect(monthEnd.occurrenceAt(noonNy('2026-02-27'))).toBeUndefined();
    expect(monthEnd.occurrenceAt(noonNy('2026-04-30'))).toBeDefined();
    const firstBusinessDay = rule('FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1');
    expect(firstBusinessDay.occurrenceAt(noonNy('2026-08-03'))).toBeDefined(); // 1 Aug is a Saturday
    expect(firstBusinessDay.occurrenceAt(noonNy('2026-08-01'))).toBeUndefined();
    expect(firstBusinessDay.occurrenceAt(noonNy('2026-09-01'))).toBeDefined();
  });
  it('an hour-long window that opens in the spring-forward gap still lasts one hour', () => {
    const s = rule('FREQ=DAILY', '1h', '2026-03-01T02:30');
    const occ = s.occurrenceAt(at('2026-03-08T07:45:00Z')); // 03:45 EDT
    expect(occ?.start.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(occ?.end.toISOString()).toBe('2026-03-08T08:30:00.000Z');
    expect(s.occurrenceAt(at('2026-03-08T08:45:00Z'))).toBeUndefined();
    expect(s.occurrenceAt(at('2026-03-09T06:45:00Z'))).toBeDefined(); // 02:45 EDT next day
  });
  it('a window at 01:30 on the fall-back day opens at the first 01:30', () => {
    const s = rule('FREQ=DAILY', '1h', '2026-10-01T01:30');
    const occ = s.occurrenceAt(at('2026-11-01T05:45:00Z')); // 01:45 EDT
    expect(occ?.start.toISOString()).toBe('2026-11-01T05:30:00.000Z');
    expect(occ?.end.toISOString()).toBe('2026-11-01T06:30:00.000Z');
    expect(s.occurrenceAt(at('2026-11-01T06:45:00Z'))).toBeUndefined(); // the second 01:45 (EST)
  });
  it('works in zones with other rules: Europe/Berlin and Australia/Sydney', () => {
    const berlin = new FreezeSchedule(
      freezeWindowSpecSchema.parse({
        scope: { projects: ['payments'] },
        timeZone: 'Europe/Berlin',
        schedule: { recurring: { rrule: 'FREQ=WEEKLY;BYDAY=SA,SU', duration: '24h' } },
      }) as FreezeWindowSpec,
    );
    expect(berlin.occurrenceAt(at('2026-03-27T22:59:00Z'))).toBeUndefined(); // Fri 23:59 CET
    expect(berlin.occurrenceAt(at('2026-03-27T23:00:00Z'))).toBeDefined(); // Sat 00:00 CET
    expect(berlin.occurrenceAt(at('2026-03-29T21:59:00Z'))).toBeDefined(); // Sun 23:59 CEST
    expect(berlin.occurrenceAt(at('2026-03-29T22:00:00Z'))).toBeUndefined(); // Mon 00:00 CEST
    const sydney = new FreezeSchedule(
      freezeWindowSpecSchema.parse({
        scope: { projects: ['payments'] },
        timeZone: 'Australia/Sydney',
        schedule: { start: '2026-04-05T00:00', end: '2026-04-06T00:00' }, // DST ends 5 April 03:00
      }) as FreezeWindowSpec,
    );
    const occ = sydney.occurrenceAt(at('2026-04-05T12:00:00Z'));
    expect(occ?.start.toISOString()).toBe('2026-04-04T13:00:00.000Z'); // +11
    expect(occ?.end.toISOString()).toBe('2026-04-05T14:00:00.000Z'); // +10
  });
});
