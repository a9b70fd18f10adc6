import type { QualityGates } from '../projects/index.ts';
import type { EvidenceSummary } from './evidence-summary.ts';
import { severities, type SeverityCounts } from './finding-status.ts';

export interface QualityReason {
  code: string;
  message: string;
  unblock: string;
}

const listed = (names: string[], max = 5) =>
  names.slice(0, max).join(', ') + (names.length > max ? ` and ${names.length - max} more` : '');

// Each gate the environment sets, read against the evidence of the artifacts being deployed.
export function evaluateQualityGates(
  gates: QualityGates | undefined,
  s: EvidenceSummary,
): QualityReason[] {
  if (!gates) return [];
  return [
    ...testsGate(gates.tests, s),
    ...coverageGate(gates.coverage, s),
    ...findingsGate(gates.findings, s),
    ...sbomGate(gates.sbom, s),
  ];
}

function testsGate(g: QualityGates['tests'], s: EvidenceSummary): QualityReason[] {
  if (!g) return [];
  const t = s.tests;
  if (t.reports === 0)
    return g.required
      ? [
          {
            code: 'QUALITY_TESTS_MISSING',
            message:
              'qualityGates.tests: no test report (JUnit) was recorded by the build of the artifacts',
            unblock:
              'add a step that records `evidence: [{ type: junit, path: … }]` to the build and run it again',
          },
        ]
      : [];
  const out: QualityReason[] = [];
  const failing = t.failures + t.errors;
  if (failing > g.maxFailures) {
    const names = t.failed.map((c) => (c.className ? `${c.className}.${c.name}` : c.name));
    out.push({
      code: 'QUALITY_TESTS_FAILED',
      message: `qualityGates.tests.maxFailures is ${g.maxFailures}: ${failing} of ${t.tests} tests failed (${listed(names)})`,
      unblock: 'fix the failing tests and build again; `custody tests RUN` lists them',
    });
  }
  if (t.tests < g.minTests)
    out.push({
      code: 'QUALITY_TESTS_TOO_FEW',
      message: `qualityGates.tests.minTests is ${g.minTests}: the build ran ${t.tests}`,
      unblock: 'record the test reports of the whole suite',
    });
  return out;
}

function coverageGate(g: QualityGates['coverage'], s: EvidenceSummary): QualityReason[] {
  if (!g) return [];
  const c = s.coverage;
  if (c.reports === 0)
    return [
      {
        code: 'QUALITY_COVERAGE_MISSING',
        message:
          'qualityGates.coverage: no coverage report (lcov, Cobertura) was recorded by the build',
        unblock: 'record `evidence: [{ type: lcov | cobertura, path: … }]` in the build',
      },
    ];
  const out: QualityReason[] = [];
  if (g.minLines !== undefined && (c.lines.percent ?? 0) < g.minLines)
    out.push({
      code: 'QUALITY_COVERAGE_LOW',
      message: `qualityGates.coverage.minLines is ${g.minLines}%: lines covered ${c.lines.percent ?? 0}% (${c.lines.hit}/${c.lines.found})`,
      unblock: 'cover more lines with tests',
    });
  if (g.minBranches !== undefined && (c.branches.percent ?? 0) < g.minBranches)
    out.push({
      code: 'QUALITY_COVERAGE_LOW',
      message: `qualityGates.coverage.minBranches is ${g.minBranches}%: branches covered ${c.branches.percent ?? 0}% (${c.branches.hit}/${c.branches.found})`,
      unblock: 'cover more branches with tests',
    });
  if (g.maxDrop !== undefined && c.drop !== null && c.drop > g.maxDrop)
    out.push({
      code: 'QUALITY_COVERAGE_DROP',
      message: `qualityGates.coverage.maxDrop is ${g.maxDrop}%: line coverage fell ${c.drop} points (from ${c.baselineLinesPercent}% in the release now in ${s.environment} to ${c.lines.percent}%)`,
      unblock: 'bring coverage back up before releasing',
    });
  return out;
}

function findingsGate(g: QualityGates['findings'], s: EvidenceSummary): QualityReason[] {
  if (!g) return [];
  const out: QualityReason[] = [];
  const over = (limits: Partial<SeverityCounts> | undefined, counts: SeverityCounts) =>
    severities.filter((sev) => limits?.[sev] !== undefined && counts[sev] > limits[sev]!);
  const unwaived = s.findings.items.filter((f) => !f.waiver);
  const describe = (items: typeof unwaived) =>
    listed(
      items.map(
        (f) =>
          `${f.severity} ${f.ruleId} (${f.tools.join('+')}) at ${f.location.path ?? '?'}${f.location.startLine ? `:${f.location.startLine}` : ''} [${f.fingerprint.slice(0, 12)}]`,
      ),
    );
  for (const sev of over(g.maxNew, s.findings.new)) {
    const items = unwaived.filter((f) => f.status === 'new' && f.severity === sev);
    out.push({
      code: 'QUALITY_FINDINGS_NEW',
      message: `qualityGates.findings.maxNew.${sev} is ${g.maxNew![sev]}: ${s.findings.new[sev]} new ${sev} finding(s): ${describe(items)}`,
      unblock: `fix them, or have a waiver requested (custody waiver request) and approved by a second person`,
    });
  }
  const total: SeverityCounts = { ...s.findings.new };
  for (const sev of severities) total[sev] += s.findings.existing[sev];
  for (const sev of over(g.maxTotal, total)) {
    const items = unwaived.filter((f) => f.severity === sev);
    out.push({
      code: 'QUALITY_FINDINGS_TOTAL',
      message: `qualityGates.findings.maxTotal.${sev} is ${g.maxTotal![sev]}: ${total[sev]} unwaived ${sev} finding(s): ${describe(items)}`,
      unblock: 'fix them, or have a waiver requested and approved by a second person',
    });
  }
  return out;
}

function sbomGate(g: QualityGates['sbom'], s: EvidenceSummary): QualityReason[] {
  if (!g) return [];
  if (s.sbom.reports === 0)
    return g.required
      ? [
          {
            code: 'QUALITY_SBOM_MISSING',
            message: 'qualityGates.sbom: no SBOM (CycloneDX, SPDX) was recorded by the build',
            unblock: 'record `evidence: [{ type: sbom, path: … }]` in the build',
          },
        ]
      : [];
  const denied = new Set((g.deniedLicenses ?? []).map((l) => l.toLowerCase()));
  const out: QualityReason[] = [];
  for (const license of s.sbom.licenses) {
    // A license expression is denied when any of its identifiers is.
    const ids = license.split(/\s+(?:AND|OR|WITH)\s+|[()]/i).map((x) => x.trim().toLowerCase());
    if (!ids.some((id) => denied.has(id))) continue;
    out.push({
      code: 'QUALITY_LICENSE_DENIED',
      message: `qualityGates.sbom.deniedLicenses: ${license} is used by ${listed(s.sbom.componentsByLicense[license] ?? [])}`,
      unblock:
        'replace those components, or change the environment’s deniedLicenses (a reviewed change)',
    });
  }
  return out;
}
