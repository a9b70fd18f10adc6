import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidenceError, parseReport, type EvidenceFormat, type ParsedReport } from './index.ts';

// Real reports from public projects (../shared/evidence-corpus, read at test time), each
// with figures an independent script counted; EXPECTED.tsv names where every file came from.
const corpus = path.resolve(import.meta.dirname, '../../../../shared/evidence-corpus');

interface Row {
  path: string;
  format: string;
  source: string;
  figures: Record<string, string>;
}

const rows: Row[] = readFileSync(path.join(corpus, 'EXPECTED.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim())
  .map((l) => {
    const [p, format, source, figures] = l.split('\t');
    return {
      path: p!,
      format: format!,
      source: source!,
      figures: Object.fromEntries(
        figures!.split(';').map((kv) => kv.split('=') as [string, string]),
      ),
    };
  });

const declared = (format: string) => format.replace(/-(json|xml)$/, '') as EvidenceFormat;

// The corpus's figure names → what the parser reports.
function actual(report: ParsedReport): Record<string, string> {
  switch (report.format) {
    case 'junit': {
      const f = report.figures;
      return {
        tests: `${f.tests}`,
        failures: `${f.failures}`,
        errors: `${f.errors}`,
        skipped: `${f.skipped}`,
      };
    }
    case 'lcov': {
      const f = report.figures;
      return {
        lines_found: `${f.lines.found}`,
        lines_hit: `${f.lines.hit}`,
        branches_found: `${f.branches.found}`,
        branches_hit: `${f.branches.hit}`,
      };
    }
    case 'cobertura': {
      const f = report.figures;
      return {
        line_rate: f.lineRate === null || f.lineRate === undefined ? 'absent' : `${f.lineRate}`,
        branch_rate:
          f.branchRate === null || f.branchRate === undefined ? 'absent' : `${f.branchRate}`,
        lines_total: `${f.lines.found}`,
        lines_hit: `${f.lines.hit}`,
      };
    }
    case 'sarif': {
      const f = report.figures;
      return {
        runs: `${f.runs}`,
        results: `${f.results}`,
        ...Object.fromEntries(Object.entries(f.levels).map(([k, v]) => [k, `${v}`])),
        distinct_rule_ids: `${f.rules}`,
      };
    }
    case 'cyclonedx': {
      const f = report.figures;
      return {
        spec_version: f.specVersion,
        components: `${f.components}`,
        distinct_purls: `${f.distinctPurls}`,
      };
    }
    case 'spdx': {
      const f = report.figures;
      return {
        spdx_version: f.spdxVersion,
        packages: `${f.packages}`,
        files: `${f.files}`,
        relationships: `${f.relationships}`,
      };
    }
  }
}

describe('the evidence corpus: real reports, independently counted', () => {
  const accepted = rows.filter((r) => r.figures.outcome !== 'reject');
  const rejected = rows.filter((r) => r.figures.outcome === 'reject');

  it('has every format and the hostile files', () => {
    expect(new Set(accepted.map((r) => declared(r.format)))).toEqual(
      new Set(['junit', 'lcov', 'cobertura', 'sarif', 'cyclonedx', 'spdx']),
    );
    expect(rejected.length).toBeGreaterThanOrEqual(3);
  });

  for (const row of accepted) {
    it(`${row.path} (${row.source.split('@')[0]}) gives the counted figures, declared and detected`, () => {
      const bytes = readFileSync(path.join(corpus, row.path));
      const asDeclared = parseReport({ bytes, fileName: row.path, format: declared(row.format) });
      expect(asDeclared.format).toBe(declared(row.format));
      expect(actual(asDeclared)).toEqual(row.figures);
      const detected = parseReport({ bytes, fileName: row.path });
      expect(actual(detected)).toEqual(row.figures);
    });
  }

  for (const row of rejected) {
    it(`${row.path} is refused with a code naming the file`, () => {
      const bytes = readFileSync(path.join(corpus, row.path));
      let err: unknown;
      try {
        parseReport({ bytes, fileName: row.path, format: declared(row.format) });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EvidenceError);
      expect((err as EvidenceError).file).toBe(row.path);
      expect((err as EvidenceError).message).toContain(row.path);
      expect((err as EvidenceError).line).toBeGreaterThan(0);
    });
  }
});
