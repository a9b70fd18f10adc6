import { expect } from 'vitest';
import { EvidenceError, parseReport, type ParseInput, type ParsedReport } from './index.ts';

export const bytesOf = (s: string) => new TextEncoder().encode(s);

export function parse(
  text: string,
  format?: ParseInput['format'],
  fileName = 'report',
): ParsedReport {
  return parseReport({ bytes: bytesOf(text), fileName, ...(format ? { format } : {}) });
}

// The error a refused report gets (and that it is refused).
export function refusal(input: ParseInput): EvidenceError {
  try {
    parseReport(input);
  } catch (err) {
    expect(err).toBeInstanceOf(EvidenceError);
    return err as EvidenceError;
  }
  throw new Error(`${input.fileName} was accepted`);
}

export function refusalOf(
  text: string,
  format?: ParseInput['format'],
  fileName = 'report',
): EvidenceError {
  return refusal({ bytes: bytesOf(text), fileName, ...(format ? { format } : {}) });
}
