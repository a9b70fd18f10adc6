import type { EvidenceFormat } from './report-types.ts';
import { isObject } from './safe-json.ts';
import { sniffXmlRoot } from './safe-xml.ts';

export type Encoding = 'xml' | 'json' | 'text';

// What a report looks like from its first element or its top-level keys; undefined when it
// is none of the formats (the parser for a declared format then says why).
export function detectXmlFormat(text: string): EvidenceFormat | undefined {
  const root = sniffXmlRoot(text);
  if (!root) return undefined;
  if (root.name === 'testsuites' || root.name === 'testsuite') return 'junit';
  if (root.name === 'coverage') return 'cobertura';
  if (root.name === 'bom') return 'cyclonedx';
  return undefined;
}

export function detectJsonFormat(doc: unknown): EvidenceFormat | undefined {
  if (!isObject(doc)) return undefined;
  if (doc.bomFormat === 'CycloneDX') return 'cyclonedx';
  if (typeof doc.spdxVersion === 'string') return 'spdx';
  if (Array.isArray(doc.runs) || (typeof doc.$schema === 'string' && /sarif/i.test(doc.$schema))) {
    return 'sarif';
  }
  return undefined;
}

export function encodingOf(text: string): Encoding {
  const first = /\S/.exec(text)?.[0];
  if (first === '<') return 'xml';
  if (first === '{' || first === '[') return 'json';
  return 'text';
}

export function looksLikeLcov(text: string): boolean {
  return /^\s*(TN|SF):/m.test(text.slice(0, 64 * 1024));
}

// The file's own format, for `detectFormat(bytes)` callers that have only the bytes.
export function detectFormat(text: string): EvidenceFormat | undefined {
  const enc = encodingOf(text);
  if (enc === 'xml') return detectXmlFormat(text);
  if (enc === 'json') {
    try {
      return detectJsonFormat(JSON.parse(text));
    } catch {
      return undefined;
    }
  }
  return looksLikeLcov(text) ? 'lcov' : undefined;
}
