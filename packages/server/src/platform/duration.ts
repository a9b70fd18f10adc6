// Durations as written in resources and flags: `90d`, `24h`, `1h30m`, `10m`, `30s`, `500ms`.
const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const pattern = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!pattern.test(trimmed)) return undefined;
  let total = 0;
  for (const m of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) {
    total += Number(m[1]) * (unitMs[m[2] ?? ''] ?? 0);
  }
  return total > 0 ? total : undefined;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
