import { EvidenceError } from './evidence-error.ts';
import { jsonErrorOffset } from './json-error-offset.ts';
import type { EvidenceLimits } from './limits.ts';
import { lineColumnAt, type ReportSource } from './report-text.ts';

// JSON.parse, after a scan that refuses nesting beyond the limit (a deep document would
// otherwise exhaust the stack); a syntax error is reported at its line and column.
export function parseJson(text: string, src: ReportSource, limits: EvidenceLimits): unknown {
  checkDepth(text, src, limits.maxDepth);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const reason = (err as Error).message;
    const offset = jsonErrorOffset(text);
    throw new EvidenceError('EVIDENCE_MALFORMED', `not valid JSON: ${reason}`, {
      ...src,
      ...lineColumnAt(text, offset),
    });
  }
}

function checkDepth(text: string, src: ReportSource, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        throw new EvidenceError('EVIDENCE_TOO_DEEP', `values nest deeper than ${maxDepth} levels`, {
          ...src,
          ...lineColumnAt(text, i),
        });
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const stringOf = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
