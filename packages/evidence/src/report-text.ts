import { EvidenceError } from './evidence-error.ts';

export interface ReportSource {
  file: string;
  format?: string;
}

// Reports are UTF-8 (or UTF-16 with a byte-order mark, as some .NET tools write). Invalid
// bytes are refused rather than replaced, so a binary file is never half-read as text.
export function decodeReport(bytes: Uint8Array, src: ReportSource): string {
  let label = 'utf-8';
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [label, start] = ['utf-16le', 2];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [label, start] = ['utf-16be', 2];
  else label = declaredXmlEncoding(bytes) ?? 'utf-8';
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes.subarray(start));
  } catch {
    throw new EvidenceError('EVIDENCE_MALFORMED', `the bytes are not valid ${label} text`, src);
  }
}

// `<?xml version="1.0" encoding="ISO-8859-1"?>`: honoured for the single-byte encodings
// TextDecoder knows; anything else is read as UTF-8.
function declaredXmlEncoding(bytes: Uint8Array): string | undefined {
  const head = String.fromCharCode(...bytes.subarray(0, 100));
  const m = /^<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']/.exec(head);
  if (!m) return undefined;
  const label = m[1]!.toLowerCase();
  if (label === 'utf-8' || label === 'utf8') return undefined;
  try {
    new TextDecoder(label);
    return label;
  } catch {
    return undefined;
  }
}

// 1-based line and column of a character offset.
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}
