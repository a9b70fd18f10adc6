// Every way a report is refused, one stable code each (docs/reference/evidence.md#error-codes).
export const evidenceErrorCodes = [
  'EVIDENCE_MALFORMED',
  'EVIDENCE_WRONG_FORMAT',
  'EVIDENCE_UNKNOWN_FORMAT',
  'EVIDENCE_XML_DTD_REFUSED',
  'EVIDENCE_TOO_LARGE',
  'EVIDENCE_TOO_DEEP',
  'EVIDENCE_SARIF_VERSION',
  'EVIDENCE_UNSUPPORTED_VERSION',
  'EVIDENCE_SCHEMA_INVALID',
] as const;

export type EvidenceErrorCode = (typeof evidenceErrorCodes)[number];

// Where in the file the problem is: a line (and column) for text and XML, a JSON pointer
// for JSON. The message always names the file and the format.
export interface EvidenceErrorPlace {
  line?: number;
  column?: number;
  pointer?: string;
}

export class EvidenceError extends Error {
  readonly code: EvidenceErrorCode;
  readonly file: string;
  readonly format: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly pointer: string | undefined;

  constructor(
    code: EvidenceErrorCode,
    detail: string,
    at: { file: string; format?: string | undefined } & EvidenceErrorPlace,
  ) {
    super(`${at.file}${placeText(at)}: ${at.format ? `${at.format}: ` : ''}${detail}`);
    this.name = 'EvidenceError';
    this.code = code;
    this.file = at.file;
    this.format = at.format;
    this.line = at.line;
    this.column = at.column;
    this.pointer = at.pointer;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      file: this.file,
      ...(this.format ? { format: this.format } : {}),
      ...(this.line !== undefined ? { line: this.line } : {}),
      ...(this.column !== undefined ? { column: this.column } : {}),
      ...(this.pointer !== undefined ? { pointer: this.pointer } : {}),
    };
  }
}

function placeText(p: EvidenceErrorPlace): string {
  if (p.line !== undefined) return `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}`;
  if (p.pointer !== undefined) return `#${p.pointer}`;
  return '';
}
