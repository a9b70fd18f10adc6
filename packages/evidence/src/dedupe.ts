import type { Finding, Severity } from './report-types.ts';

const rank: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

// One finding per fingerprint, however many scanners or reports found it: the highest
// severity stands, every tool is kept, and it is suppressed only if every report says so.
export function dedupeFindings(findings: Iterable<Finding>): Finding[] {
  const byPrint = new Map<string, Finding>();
  for (const f of findings) {
    const seen = byPrint.get(f.fingerprint);
    if (!seen) {
      byPrint.set(f.fingerprint, { ...f, tools: [...(f.tools ?? [f.tool])] });
      continue;
    }
    if (rank[f.severity] > rank[seen.severity]) seen.severity = f.severity;
    for (const t of f.tools ?? [f.tool]) if (!seen.tools!.includes(t)) seen.tools!.push(t);
    seen.suppressed = seen.suppressed && f.suppressed;
  }
  return [...byPrint.values()];
}

// Against what is already known (the findings of the release in the environment): which of
// `current` are new, which persist, and which of `known` are gone.
export function compareFindings(
  current: Iterable<Finding>,
  known: Iterable<Pick<Finding, 'fingerprint'>>,
): { new: Finding[]; existing: Finding[]; fixed: string[] } {
  const before = new Set<string>();
  for (const k of known) before.add(k.fingerprint);
  const now = dedupeFindings(current);
  const out = { new: [] as Finding[], existing: [] as Finding[], fixed: [] as string[] };
  const seen = new Set<string>();
  for (const f of now) {
    seen.add(f.fingerprint);
    (before.has(f.fingerprint) ? out.existing : out.new).push(f);
  }
  for (const k of before) if (!seen.has(k)) out.fixed.push(k);
  return out;
}
