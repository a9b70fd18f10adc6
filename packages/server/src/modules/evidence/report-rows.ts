import type { ParsedReport } from '@custody/evidence';
import type { ComponentRow, CoverageFileRow, FindingRow, TestCaseRow } from './evidence-store.ts';

const cap = (s: string | undefined, n: number) => (s === undefined ? null : s.slice(0, n));

// The rows a parsed report is kept as: every test case, coverage file, finding, component.
export function detailRows(
  reportId: string,
  report: ParsedReport,
): {
  cases?: TestCaseRow[];
  coverage?: CoverageFileRow[];
  findings?: FindingRow[];
  components?: ComponentRow[];
} {
  switch (report.format) {
    case 'junit':
      return {
        cases: report.cases.map((c, seq) => ({
          report_id: reportId,
          seq,
          name: c.name.slice(0, 1000),
          class_name: cap(c.className, 1000),
          file: cap(c.file, 1000),
          suite: cap(c.suite, 1000),
          duration_ms: c.durationMs === undefined ? null : Math.round(c.durationMs),
          outcome: c.outcome,
          message: cap(c.message, 4000),
          flaky: c.flaky ? 1 : 0,
        })),
      };
    case 'lcov':
    case 'cobertura':
      return {
        coverage: report.files.map((f, seq) => ({
          report_id: reportId,
          seq,
          path: f.path.slice(0, 2000),
          lines_found: f.lines.found,
          lines_hit: f.lines.hit,
          branches_found: f.branches.found,
          branches_hit: f.branches.hit,
        })),
      };
    case 'sarif':
      return { findings: findingRows(reportId, report.findings) };
    case 'cyclonedx':
    case 'spdx':
      return {
        findings: findingRows(reportId, report.findings),
        components: report.components.map((c, seq) => ({
          report_id: reportId,
          seq,
          name: c.name.slice(0, 1000),
          version: cap(c.version, 200),
          purl: cap(c.purl, 2000),
          type: cap(c.type, 100),
          licenses: JSON.stringify(c.licenses),
        })),
      };
  }
}

function findingRows(
  reportId: string,
  findings: Extract<ParsedReport, { format: 'sarif' }>['findings'],
): FindingRow[] {
  return findings.map((f, seq) => ({
    report_id: reportId,
    seq,
    fingerprint: f.fingerprint,
    tool: f.tool.slice(0, 200),
    rule_id: f.ruleId.slice(0, 500),
    message: f.message.slice(0, 4000),
    path: cap(f.location?.path, 2000),
    start_line: f.location?.startLine ?? null,
    severity: f.severity,
    level: f.level ?? null,
    baseline_state: f.baselineState ?? null,
    suppressed: f.suppressed ? 1 : 0,
  }));
}
