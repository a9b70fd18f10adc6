import { fingerprintOfLocation } from './fingerprint.ts';
import type { Finding, Severity } from './report-types.ts';
import { parseScore, severityOfName, severityOfScore } from './severity.ts';

// One vulnerability as both encodings give it.
export interface VulnerabilityEntry {
  id: string;
  description?: string;
  ratings: { score?: string | number; severity?: string; method?: string }[];
  affects: string[];
}

const rank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

// One finding per vulnerability and affected component. The severity is the highest CVSS
// score among the ratings, else the highest stated severity; the location is the
// component's purl, so the same CVE in the same package found by another scanner counts once.
export function vulnerabilityFindings(
  vulns: VulnerabilityEntry[],
  purlOfRef: Map<string, string>,
  tool: string,
): Finding[] {
  const out: Finding[] = [];
  for (const v of vulns) {
    const severity = severityOf(v);
    const targets = v.affects.length > 0 ? v.affects : [''];
    for (const ref of targets) {
      const path = purlOfRef.get(ref) ?? ref;
      const location = path ? { path } : undefined;
      out.push({
        tool,
        ruleId: v.id,
        message: v.description?.slice(0, 4000) ?? v.id,
        ...(location ? { location } : {}),
        severity,
        fingerprint: fingerprintOfLocation(v.id, location, undefined),
        suppressed: false,
      });
    }
  }
  return out;
}

function severityOf(v: VulnerabilityEntry): Severity {
  let best: Severity | undefined;
  const take = (s: Severity | undefined) => {
    if (s && (best === undefined || rank[s] > rank[best])) best = s;
  };
  for (const r of v.ratings) {
    const score = /^cvss/i.test(r.method ?? 'CVSS') ? parseScore(r.score) : undefined;
    if (score !== undefined) take(severityOfScore(score));
  }
  if (best === undefined) for (const r of v.ratings) take(severityOfName(r.severity));
  return best ?? 'info';
}
