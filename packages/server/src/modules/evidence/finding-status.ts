import type { FindingRow, WaiverRow } from './evidence-store.ts';

export const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof severities)[number];
export type SeverityCounts = Record<Severity, number>;

export interface FindingView {
  fingerprint: string;
  tools: string[];
  ruleId: string;
  message: string;
  location: { path: string | null; startLine: number | null };
  severity: Severity;
  status: 'new' | 'existing';
  // The approved, unexpired waiver that covers it, if any.
  waiver: string | null;
}

const rank = (s: string) => {
  const i = severities.indexOf(s as Severity);
  return i < 0 ? severities.length : i;
};
const zero = (): SeverityCounts => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0 });

// One finding per fingerprint, however many scanners or reports found it (the highest severity
// wins); suppressed in the report (SARIF `suppressions`) counts apart and never blocks.
function dedupe(rows: readonly FindingRow[]): {
  open: Map<string, FindingView>;
  suppressed: Set<string>;
} {
  const open = new Map<string, FindingView>();
  const suppressed = new Set<string>();
  for (const r of rows) {
    if (r.suppressed) {
      suppressed.add(r.fingerprint);
      continue;
    }
    const seen = open.get(r.fingerprint);
    if (seen) {
      if (!seen.tools.includes(r.tool)) seen.tools.push(r.tool);
      if (rank(r.severity) < rank(seen.severity)) seen.severity = r.severity as Severity;
      continue;
    }
    open.set(r.fingerprint, {
      fingerprint: r.fingerprint,
      tools: [r.tool],
      ruleId: r.rule_id,
      message: r.message,
      location: { path: r.path, startLine: r.start_line },
      severity: (rank(r.severity) < severities.length ? r.severity : 'info') as Severity,
      status: 'new',
      waiver: null,
    });
  }
  for (const f of open.keys()) suppressed.delete(f);
  return { open, suppressed };
}

export function waiverCovers(
  w: Pick<WaiverRow, 'environment' | 'fingerprint' | 'rule_id'>,
  f: Pick<FindingView, 'fingerprint' | 'ruleId'>,
  environment: string | null,
): boolean {
  if (w.environment !== null && w.environment !== environment) return false;
  return w.fingerprint !== null ? w.fingerprint === f.fingerprint : w.rule_id === f.ruleId;
}

// Status against the release now in the environment: `new` (not in the release's evidence),
// `existing` (in both), `fixed` (only in the release's).
export function findingStatus(
  candidate: readonly FindingRow[],
  baseline: readonly FindingRow[],
  waivers: readonly WaiverRow[],
  environment: string | null,
): {
  total: number;
  suppressed: number;
  waived: number;
  fixed: number;
  new: SeverityCounts;
  existing: SeverityCounts;
  items: FindingView[];
} {
  const now = dedupe(candidate);
  const before = dedupe(baseline).open;
  const counts = { new: zero(), existing: zero() };
  let waived = 0;
  const items = [...now.open.values()];
  for (const f of items) {
    f.status = before.has(f.fingerprint) ? 'existing' : 'new';
    f.waiver = waivers.find((w) => waiverCovers(w, f, environment))?.id ?? null;
    if (f.waiver) waived++;
    else counts[f.status][f.severity]++;
  }
  items.sort(
    (a, b) =>
      (a.status === b.status ? 0 : a.status === 'new' ? -1 : 1) ||
      rank(a.severity) - rank(b.severity) ||
      (a.fingerprint < b.fingerprint ? -1 : 1),
  );
  const fixed = [...before.keys()].filter((fp) => !now.open.has(fp)).length;
  return {
    total: items.length,
    suppressed: now.suppressed.size,
    waived,
    fixed,
    new: counts.new,
    existing: counts.existing,
    items,
  };
}
