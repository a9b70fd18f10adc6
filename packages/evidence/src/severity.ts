import type { SarifLevel, Severity } from './report-types.ts';

// CVSS v3/v4 qualitative ratings (also what GitHub applies to SARIF `security-severity`).
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

// Without a security severity, the SARIF level stands for it.
const byLevel: Record<SarifLevel, Severity> = {
  error: 'high',
  warning: 'medium',
  note: 'low',
  none: 'info',
};

export function severityOfLevel(level: SarifLevel): Severity {
  return byLevel[level];
}

// A scanner's own word ("CRITICAL", "moderate", "unknown").
export function severityOfName(name: string | undefined): Severity | undefined {
  switch (name?.toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
      return 'high';
    case 'medium':
    case 'moderate':
      return 'medium';
    case 'low':
      return 'low';
    case 'info':
    case 'none':
    case 'informational':
      return 'info';
    default:
      return undefined;
  }
}

export function parseScore(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 10 ? n : undefined;
}
