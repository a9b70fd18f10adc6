import { parseDuration } from './duration.ts';

// A rate as written in the configuration: `600/1m` (at most 600 per minute, bursts up to 600)
// or `off`.
export interface Rate {
  readonly limit: number;
  readonly windowMs: number;
}

const pattern = /^(\d+)\/(\S+)$/;

export function parseRate(text: string): Rate | 'off' | undefined {
  const trimmed = text.trim();
  if (trimmed === 'off') return 'off';
  const m = pattern.exec(trimmed);
  if (!m) return undefined;
  const limit = Number(m[1]);
  const windowMs = parseDuration(m[2]!);
  if (!Number.isSafeInteger(limit) || limit < 1 || windowMs === undefined) return undefined;
  return { limit, windowMs };
}
