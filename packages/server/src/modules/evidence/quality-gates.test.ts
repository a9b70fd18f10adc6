import { describe, expect, it } from 'vitest';
import type { FindingRow, WaiverRow } from './evidence-store.ts';
import type { EvidenceSummary } from './evidence-summary.ts';
import { findingStatus } from './finding-status.ts';
import { evaluateQualityGates } from './quality-gates.ts';

const row = (
  fingerprint: string,
  tool: string,
  severity: string,
  extra: Partial<FindingRow> = {},
): FindingRow => ({
  report_id: 'r',
  seq: 0,
  fingerprint,
  tool,
  rule_id: `rule-${fingerprint}`,
  message: 'm',
  path: 'src/a.ts',
  start_line: 1,
  severity,
  level: null,
  baseline_state: null,
  suppressed: 0,
  ...extra,
});
const waiver = (extra: Partial<WaiverRow>): WaiverRow => ({
  id: 'wvr_1',
  project: 'shop',
  environment: null,
  fingerprint: null,
  rule_id: null,
  reason: 'r',
  state: 'approved',
  requested_by: 'user:a',
  requested_at: '',
  expires_at: '',
  decided_by: 'user:b',
  decided_at: '',
  comment: null,
  ...extra,
});

describe('finding status against the release in the environment', () => {
  it('counts a fingerprint once across scanners (highest severity), and tells new, existing and fixed apart', () => {
    const s = findingStatus(
      [
        row('a', 'semgrep', 'medium'),
        row('a', 'codeql', 'high'),
        row('b', 'trivy', 'critical'),
        row('c', 'x', 'low', { suppressed: 1 }),
      ],
      [row('b', 'trivy', 'critical'), row('gone', 'trivy', 'high')],
      [],
      'prod',
    );
    expect(s.total).toBe(2);
    expect(s.items[0]).toMatchObject({
      fingerprint: 'a',
      status: 'new',
      severity: 'high',
      tools: ['semgrep', 'codeql'],
    });
    expect(s.new).toMatchObject({ high: 1, critical: 0 });
    expect(s.existing).toMatchObject({ critical: 1 });
    expect(s.fixed).toBe(1);
    expect(s.suppressed).toBe(1);
  });

  it('a waiver covers its fingerprint or rule, in its environment only', () => {
    const findings = [row('a', 't', 'high'), row('b', 't', 'high')];
    const byRule = findingStatus(findings, [], [waiver({ rule_id: 'rule-b' })], 'prod');
    expect(byRule.items.find((f) => f.fingerprint === 'b')!.waiver).toBe('wvr_1');
    expect(byRule.new.high).toBe(1);
    const elsewhere = findingStatus(
      findings,
      [],
      [waiver({ fingerprint: 'a', environment: 'qa' })],
      'prod',
    );
    expect(elsewhere.waived).toBe(0);
    expect(elsewhere.new.high).toBe(2);
  });
});

const summary = (over: Partial<EvidenceSummary>): EvidenceSummary => ({
  schema: 'https://custody.dev/evidence-summary/v1',
  project: 'shop',
  environment: 'prod',
  artifacts: [],
  baseline: null,
  reports: [],
  attestations: [],
  tests: {
    reports: 1,
    tests: 10,
    passed: 10,
    failures: 0,
    errors: 0,
    skipped: 0,
    flaky: 0,
    failed: [],
  },
  coverage: {
    reports: 1,
    lines: { found: 100, hit: 79, percent: 79 },
    branches: { found: 10, hit: 5, percent: 50 },
    baselineLinesPercent: 82,
    drop: 3,
  },
  findings: {
    total: 0,
    suppressed: 0,
    waived: 0,
    fixed: 0,
    new: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
    existing: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
    items: [],
  },
  sbom: {
    reports: 1,
    components: 2,
    licenses: ['MIT', 'AGPL-3.0-only OR MIT'],
    componentsByLicense: { 'AGPL-3.0-only OR MIT': ['pkg:npm/x@1'] },
  },
  ...over,
});

describe('quality gates', () => {
  it('nothing set, nothing checked', () => {
    expect(evaluateQualityGates(undefined, summary({}))).toEqual([]);
  });

  it('blocks on each gate with its own code, naming what failed', () => {
    const reasons = evaluateQualityGates(
      {
        tests: { required: true, maxFailures: 0, minTests: 20 },
        coverage: { minLines: 80, maxDrop: 2 },
        sbom: { required: true, deniedLicenses: ['agpl-3.0-only'] },
      },
      summary({
        tests: {
          reports: 1,
          tests: 10,
          passed: 9,
          failures: 0,
          errors: 1,
          skipped: 0,
          flaky: 0,
          failed: [
            { name: 'pays', className: 'shop.Pay', file: null, outcome: 'error', message: null },
          ],
        },
      }),
    );
    expect(reasons.map((r) => r.code)).toEqual([
      'QUALITY_TESTS_FAILED',
      'QUALITY_TESTS_TOO_FEW',
      'QUALITY_COVERAGE_LOW',
      'QUALITY_COVERAGE_DROP',
      'QUALITY_LICENSE_DENIED',
    ]);
    expect(reasons[0]!.message).toContain('shop.Pay.pays');
    expect(reasons[4]!.message).toContain('pkg:npm/x@1');
  });

  it('missing evidence blocks where it is required', () => {
    const none = summary({
      tests: {
        reports: 0,
        tests: 0,
        passed: 0,
        failures: 0,
        errors: 0,
        skipped: 0,
        flaky: 0,
        failed: [],
      },
      sbom: { reports: 0, components: 0, licenses: [], componentsByLicense: {} },
    });
    const gates = {
      tests: { required: true, maxFailures: 0, minTests: 1 },
      sbom: { required: true },
    };
    expect(evaluateQualityGates(gates, none).map((r) => r.code)).toEqual([
      'QUALITY_TESTS_MISSING',
      'QUALITY_SBOM_MISSING',
    ]);
    const optional = {
      tests: { required: false, maxFailures: 0, minTests: 1 },
      sbom: { required: false },
    };
    expect(evaluateQualityGates(optional, none)).toEqual([]);
  });
});
