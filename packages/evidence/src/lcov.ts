import { EvidenceError } from './evidence-error.ts';
import type { CoverageFile, Counted, ParsedReport } from './report-types.ts';
import type { ReportSource } from './report-text.ts';

interface Record_ {
  path: string;
  lf?: number;
  lh?: number;
  brf?: number;
  brh?: number;
  fnf?: number;
  fnh?: number;
  da: Counted;
  brda: Counted;
}

// The geninfo tracefile format: one record per `SF:` … `end_of_record`. LF/LH (BRF/BRH) are
// used when present, else the DA (BRDA) lines are counted. Records add up as written.
export function parseLcov(text: string, src: ReportSource): ParsedReport {
  const at = { ...src, format: 'lcov' };
  const files: CoverageFile[] = [];
  const fn = { found: 0, hit: 0 };
  let rec: Record_ | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const bad = (detail: string): never => {
      throw new EvidenceError('EVIDENCE_MALFORMED', detail, { ...at, line: i + 1, column: 1 });
    };
    if (line === 'end_of_record') {
      if (!rec) bad('end_of_record without an SF: record');
      files.push(close(rec!, fn));
      rec = undefined;
      continue;
    }
    const colon = line.indexOf(':');
    const key = colon > 0 ? line.slice(0, colon) : '';
    if (!/^[A-Z][A-Z_]*$/.test(key)) {
      if (files.length === 0 && !rec) {
        throw new EvidenceError(
          'EVIDENCE_WRONG_FORMAT',
          'this is not an lcov tracefile (no TN:/SF: lines)',
          {
            ...at,
            line: i + 1,
            column: 1,
          },
        );
      }
      bad(`not an lcov line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    const value = line.slice(colon + 1);
    if (key === 'SF') {
      if (rec) bad('SF: inside a record that has no end_of_record');
      rec = { path: value, da: { found: 0, hit: 0 }, brda: { found: 0, hit: 0 } };
      continue;
    }
    if (key === 'TN' || key === 'VER') continue;
    if (!rec) bad(`${key}: outside an SF: record`);
    recordLine(rec!, key, value, bad);
  }
  if (rec) {
    throw new EvidenceError(
      'EVIDENCE_MALFORMED',
      `the record of ${rec.path} has no end_of_record`,
      {
        ...at,
        line: lines.length,
      },
    );
  }
  if (files.length === 0) {
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      'this is not an lcov tracefile (no SF: record)',
      at,
    );
  }
  const sum = (pick: (f: CoverageFile) => Counted) =>
    files.reduce((t, f) => ({ found: t.found + pick(f).found, hit: t.hit + pick(f).hit }), {
      found: 0,
      hit: 0,
    });
  return {
    format: 'lcov',
    file: src.file,
    figures: {
      lines: sum((f) => f.lines),
      branches: sum((f) => f.branches),
      files: files.length,
      functions: fn,
    },
    files,
  };
}

function recordLine(rec: Record_, key: string, value: string, bad: (d: string) => never): void {
  const int = (s: string | undefined) => {
    const n = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(n))
      bad(`${key}: needs a number, got ${JSON.stringify(s)}`);
    return n;
  };
  switch (key) {
    case 'DA': {
      const [, count] = value.split(',');
      rec.da.found++;
      if (int(count) > 0) rec.da.hit++;
      return;
    }
    case 'BRDA': {
      const parts = value.split(',');
      if (parts.length < 4) bad('BRDA: needs line,block,branch,taken');
      rec.brda.found++;
      const taken = parts[3]!;
      if (taken !== '-' && int(taken) > 0) rec.brda.hit++;
      return;
    }
    case 'LF':
      rec.lf = int(value);
      return;
    case 'LH':
      rec.lh = int(value);
      return;
    case 'BRF':
      rec.brf = int(value);
      return;
    case 'BRH':
      rec.brh = int(value);
      return;
    case 'FNF':
      rec.fnf = int(value);
      return;
    case 'FNH':
      rec.fnh = int(value);
      return;
    default:
      // FN, FNDA, FNL, FNA and later additions carry nothing the figures use.
      return;
  }
}

function close(rec: Record_, fn: Counted): CoverageFile {
  fn.found += rec.fnf ?? 0;
  fn.hit += rec.fnh ?? 0;
  return {
    path: rec.path,
    lines: { found: rec.lf ?? rec.da.found, hit: rec.lh ?? rec.da.hit },
    branches: { found: rec.brf ?? rec.brda.found, hit: rec.brh ?? rec.brda.hit },
  };
}
