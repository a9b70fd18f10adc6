import { parseCobertura } from './cobertura.ts';
import { parseCycloneDxJson } from './cyclonedx-json.ts';
import { parseCycloneDxXml } from './cyclonedx-xml.ts';
import { detectJsonFormat, detectXmlFormat, encodingOf, looksLikeLcov } from './detect-format.ts';
import { EvidenceError } from './evidence-error.ts';
import { parseJunit } from './junit.ts';
import { parseLcov } from './lcov.ts';
import { resolveLimits, type EvidenceLimits } from './limits.ts';
import { decodeReport } from './report-text.ts';
import type { EvidenceFormat, ParsedReport } from './report-types.ts';
import { parseJson } from './safe-json.ts';
import { parseSarif } from './sarif.ts';
import { parseSpdx } from './spdx.ts';

export interface ParseInput {
  bytes: Uint8Array;
  // Named in every error, as the step declared it.
  fileName: string;
  // What the step declared; `sbom` is CycloneDX or SPDX; absent means "detect it".
  format?: EvidenceFormat | 'sbom';
  limits?: Partial<EvidenceLimits>;
}

// The one entry point, used by the server on upload and by `custody evidence parse`.
export function parseReport(input: ParseInput): ParsedReport {
  const limits = resolveLimits(input.limits);
  const src = { file: input.fileName, ...(input.format ? { format: input.format } : {}) };
  if (input.bytes.length > limits.maxBytes) {
    throw new EvidenceError(
      'EVIDENCE_TOO_LARGE',
      `${input.bytes.length} bytes is over the limit of ${limits.maxBytes}`,
      src,
    );
  }
  const text = decodeReport(input.bytes, src);
  const encoding = encodingOf(text);
  if (encoding === 'json') {
    const doc = parseJson(text, src, limits);
    const format = expect(input.format, detectJsonFormat(doc), src, 'json');
    if (format === 'sarif') return parseSarif(doc, src);
    if (format === 'cyclonedx') return parseCycloneDxJson(doc, src);
    if (format === 'spdx') return parseSpdx(doc, src);
    throw wrongEncoding(format, 'JSON', src);
  }
  if (encoding === 'xml') {
    const format = expect(input.format, detectXmlFormat(text), src, 'xml');
    if (format === 'junit') return parseJunit(text, src, limits);
    if (format === 'cobertura') return parseCobertura(text, src, limits);
    if (format === 'cyclonedx') return parseCycloneDxXml(text, src, limits);
    throw wrongEncoding(format, 'XML', src);
  }
  const format = expect(input.format, looksLikeLcov(text) ? 'lcov' : undefined, src, 'text');
  if (format === 'lcov') return parseLcov(text, src);
  // A declared XML or JSON format whose file is neither: let its parser say where it breaks.
  if (format === 'junit') return parseJunit(text, src, limits);
  if (format === 'cobertura') return parseCobertura(text, src, limits);
  const doc = parseJson(text, src, limits);
  if (format === 'sarif') return parseSarif(doc, src);
  return format === 'cyclonedx' ? parseCycloneDxJson(doc, src) : parseSpdx(doc, src);
}

// The declared format wins when the file does not look like another one; a file that is
// plainly something else is refused rather than misread.
function expect(
  declared: EvidenceFormat | 'sbom' | undefined,
  detected: EvidenceFormat | undefined,
  src: { file: string; format?: string },
  encoding: 'json' | 'xml' | 'text',
): EvidenceFormat {
  if (declared === undefined) {
    if (detected) return detected;
    throw new EvidenceError(
      'EVIDENCE_UNKNOWN_FORMAT',
      `this ${encoding === 'text' ? 'text' : encoding.toUpperCase()} file is none of junit, lcov, cobertura, sarif, cyclonedx, spdx`,
      src,
    );
  }
  if (declared === 'sbom') {
    if (detected === 'cyclonedx' || detected === 'spdx') return detected;
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      detected
        ? `declared an SBOM, but this is a ${detected} report`
        : 'this is neither a CycloneDX nor an SPDX document',
      src,
    );
  }
  if (detected && detected !== declared) {
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      `declared ${declared}, but this is a ${detected} report`,
      src,
    );
  }
  return declared;
}

function wrongEncoding(
  format: EvidenceFormat,
  encoding: string,
  src: { file: string; format?: string },
) {
  return new EvidenceError('EVIDENCE_WRONG_FORMAT', `a ${format} report is not ${encoding}`, src);
}
