// What the parsers return: figures counted by each format's rules (docs/reference/evidence.md)
// and the per-item detail the server keeps (test cases, coverage files, findings, components).
export type EvidenceFormat = 'junit' | 'lcov' | 'cobertura' | 'sarif' | 'cyclonedx' | 'spdx';

export const evidenceFormats: readonly EvidenceFormat[] = [
  'junit',
  'lcov',
  'cobertura',
  'sarif',
  'cyclonedx',
  'spdx',
];

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type SarifLevel = 'error' | 'warning' | 'note' | 'none';
export type TestOutcome = 'passed' | 'failed' | 'error' | 'skipped';

export interface TestCase {
  name: string;
  className?: string;
  file?: string;
  suite?: string;
  durationMs?: number;
  outcome: TestOutcome;
  message?: string;
  // Failed at first and passed on a rerun (Surefire's flakyFailure/flakyError).
  flaky: boolean;
}

export interface JunitFigures {
  tests: number;
  passed: number;
  failures: number;
  errors: number;
  skipped: number;
  flaky: number;
  suites: number;
  durationMs: number;
}

export interface Counted {
  found: number;
  hit: number;
}

export interface CoverageFile {
  path: string;
  lines: Counted;
  branches: Counted;
}

export interface CoverageFigures {
  lines: Counted;
  branches: Counted;
  files: number;
  // lcov: function counts; Cobertura: the root's line-rate and branch-rate, as written.
  functions?: Counted;
  lineRate?: number | null;
  branchRate?: number | null;
}

export interface FindingLocation {
  path?: string;
  startLine?: number;
  startColumn?: number;
  endLine?: number;
}

export interface Finding {
  tool: string;
  ruleId: string;
  message: string;
  location?: FindingLocation;
  severity: Severity;
  level?: SarifLevel;
  fingerprint: string;
  baselineState?: string;
  suppressed: boolean;
  // After dedupe: every tool that reported this fingerprint.
  tools?: string[];
}

export interface SarifFigures {
  version: string;
  runs: number;
  results: number;
  levels: Record<SarifLevel, number>;
  rules: number;
  suppressed: number;
  baseline: Record<string, number>;
  tools: string[];
}

export interface Component {
  name: string;
  version?: string;
  purl?: string;
  type?: string;
  licenses: string[];
}

export interface CycloneDxFigures {
  specVersion: string;
  encoding: 'json' | 'xml';
  components: number;
  distinctPurls: number;
  dependencies: number;
  dependencyEdges: number;
  vulnerabilities: number;
}

export interface SpdxFigures {
  spdxVersion: string;
  packages: number;
  files: number;
  relationships: number;
}

export type ParsedReport =
  | { format: 'junit'; file: string; figures: JunitFigures; cases: TestCase[] }
  | { format: 'lcov' | 'cobertura'; file: string; figures: CoverageFigures; files: CoverageFile[] }
  | { format: 'sarif'; file: string; figures: SarifFigures; findings: Finding[] }
  | {
      format: 'cyclonedx';
      file: string;
      figures: CycloneDxFigures;
      components: Component[];
      findings: Finding[];
    }
  | {
      format: 'spdx';
      file: string;
      figures: SpdxFigures;
      components: Component[];
      findings: Finding[];
    };
