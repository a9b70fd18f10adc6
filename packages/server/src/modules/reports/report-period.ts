import { DomainError } from '../../platform/errors.ts';
import { reportErrors } from './errors.ts';

export interface ReportPeriod {
  // ISO instants: `from` inclusive, `to` exclusive.
  readonly from: string;
  readonly to: string;
}

const day = /^\d{4}-\d{2}-\d{2}$/;
const maxSpanMs = 5 * 366 * 24 * 3600 * 1000;

// A date alone means the whole day in UTC, so `--to 2026-09-30` includes the 30th.
function instant(text: string, end: boolean): Date {
  if (day.test(text)) {
    const d = new Date(`${text}T00:00:00.000Z`);
    if (end) d.setUTCDate(d.getUTCDate() + 1);
    return d;
  }
  return new Date(text);
}

export function parsePeriod(from: string, to: string): ReportPeriod {
  const start = instant(from, false);
  const end = instant(to, true);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()))
    throw new DomainError(
      reportErrors.REPORTS_PERIOD_INVALID,
      `cannot read ${from} … ${to} as dates`,
    );
  if (start >= end)
    throw new DomainError(reportErrors.REPORTS_PERIOD_INVALID, `${from} is not before ${to}`);
  if (end.getTime() - start.getTime() > maxSpanMs)
    throw new DomainError(reportErrors.REPORTS_PERIOD_INVALID, 'a report covers at most 5 years');
  return { from: start.toISOString(), to: end.toISOString() };
}
