export { parseReport, type ParseInput } from './parse-report.ts';
export { detectFormat } from './detect-format.ts';
export { dedupeFindings, compareFindings } from './dedupe.ts';
export {
  EvidenceError,
  evidenceErrorCodes,
  type EvidenceErrorCode,
  type EvidenceErrorPlace,
} from './evidence-error.ts';
export { defaultEvidenceLimits, type EvidenceLimits } from './limits.ts';
export { severityOfScore, severityOfLevel } from './severity.ts';
export {
  evidenceFormats,
  type Component,
  type CoverageFigures,
  type CoverageFile,
  type CycloneDxFigures,
  type EvidenceFormat,
  type Finding,
  type FindingLocation,
  type JunitFigures,
  type ParsedReport,
  type SarifFigures,
  type SarifLevel,
  type Severity,
  type SpdxFigures,
  type TestCase,
  type TestOutcome,
} from './report-types.ts';
