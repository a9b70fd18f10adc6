import { describe, expect, it } from 'vitest';
import { DomainError } from '../../platform/errors.ts';
import { parsePeriod } from './report-period.ts';
import { toCsv } from './report-table.ts';

describe('report tables', () => {
  it('writes RFC 4180 CSV and keeps formulas inert', () => {
    const csv = toCsv({
      columns: ['id', 'note', 'count', 'ok'],
      rows: [
        { id: 'a', note: 'plain', count: 3, ok: true },
        { id: 'b', note: 'has "quotes", commas\nand lines', count: 0, ok: false },
        { id: 'c', note: '=HYPERLINK("http://x")', count: -1, ok: null },
      ],
    });
    expect(csv).toBe(
      'id,note,count,ok\r\n' +
        'a,plain,3,true\r\n' +
        'b,"has ""quotes"", commas\nand lines",0,false\r\n' +
        'c,"\'=HYPERLINK(""http://x"")",-1,\r\n',
    );
  });

  it('reads a period of whole days, the end day included', () => {
    expect(parsePeriod('2026-07-01', '2026-09-30')).toEqual({
      from: '2026-07-01T00:00:00.000Z',
      to: '2026-10-01T00:00:00.000Z',
    });
    for (const [from, to] of [
      ['2026-09-30', '2026-07-01'],
      ['yesterday', '2026-07-01'],
      ['2010-01-01', '2026-01-01'],
    ] as const) {
      expect(() => parsePeriod(from, to)).toThrow(DomainError);
    }
  });
});
