import { createHash } from 'node:crypto';
import type { FindingLocation } from './report-types.ts';

const hash = (parts: string[]) =>
  `sha256:${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;

// SARIF partialFingerprints, when present, are the tool's own stable identity of a result
// (they survive line moves); they are taken with the rule, in key order.
export function fingerprintOfPartials(ruleId: string, partials: Record<string, string>): string {
  const keys = Object.keys(partials).sort();
  return hash(['pf', ruleId, ...keys.map((k) => `${k}=${partials[k]}`)]);
}

// Otherwise rule + normalized location + a hash of the snippet's non-blank text: no tool
// name, so two scanners reporting the same rule at the same place count once.
export function fingerprintOfLocation(
  ruleId: string,
  location: FindingLocation | undefined,
  snippet: string | undefined,
): string {
  const text = snippet?.replace(/\s+/g, ' ').trim() ?? '';
  return hash([
    'loc',
    ruleId,
    normalizePath(location?.path ?? ''),
    text ? '' : String(location?.startLine ?? ''),
    text ? createHash('sha256').update(text).digest('hex') : '',
  ]);
}

// `file:///src/a.ts`, `./src/a.ts` and `src\a.ts` are the same file.
export function normalizePath(p: string): string {
  let s = p.replace(/^file:\/\//i, '').replace(/\\/g, '/');
  try {
    s = decodeURIComponent(s);
  } catch {
    // Not percent-encoded after all: keep it as written.
  }
  return s
    .replace(/^\.\//, '')
    .replace(/^\/+/, '')
    .replace(/\/{2,}/g, '/');
}
