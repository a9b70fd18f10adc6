// Input checks shared by the predicate builders (slsa-provenance.ts, test-result-predicate.ts,
// sbom-predicate.ts). Internal: not exported from index.ts.
import { LedgerError } from './errors.ts';
import type { InTotoSubject } from './in-toto.ts';

export function invalidPredicate(what: string, message: string): never {
  throw new LedgerError('LEDGER_PREDICATE_INVALID', `${what}: ${message}`);
}

const sha256Hex = /^[0-9a-f]{64}$/;

/** A lowercase 64-digit SHA-256 hex digest, or throws LEDGER_PREDICATE_INVALID. */
export function checkSha256(what: string, value: string): string {
  if (typeof value !== 'string' || !sha256Hex.test(value))
    invalidPredicate(what, 'sha256 must be 64 lowercase hex digits');
  return value;
}

/** Artifacts as in-toto subjects: a name and its SHA-256, at least one, names unique. */
export function checkSubjects(what: string, subject: readonly InTotoSubject[]): InTotoSubject[] {
  if (!Array.isArray(subject) || subject.length === 0)
    invalidPredicate(what, 'at least one subject is required');
  const names = new Set<string>();
  return subject.map((s) => {
    if (typeof s?.name !== 'string' || s.name.length === 0)
      invalidPredicate(what, 'each subject needs a name');
    if (names.has(s.name)) invalidPredicate(what, `subject ${s.name} is given twice`);
    names.add(s.name);
    const digest: Record<string, string> = {};
    for (const [alg, v] of Object.entries(s.digest ?? {})) {
      if (typeof v !== 'string')
        invalidPredicate(what, `subject ${s.name} digest ${alg} must be hex`);
      digest[alg] = v;
    }
    if (digest.sha256 === undefined) invalidPredicate(what, `subject ${s.name} needs a sha256`);
    checkSha256(`${what} subject ${s.name}`, digest.sha256);
    return { name: s.name, digest };
  });
}

// RFC 3339 date-time in UTC ('Z'), as the in-toto Timestamp field type requires.
const rfc3339Utc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** An RFC 3339 UTC timestamp (`2026-12-01T10:00:00.000Z`), or throws. */
export function checkTimestamp(what: string, value: string): string {
  if (typeof value !== 'string' || !rfc3339Utc.test(value) || Number.isNaN(Date.parse(value)))
    invalidPredicate(what, `${String(value)} is not an RFC 3339 UTC timestamp (…T…Z)`);
  return value;
}

// A URI as the in-toto TypeURI / ResourceURI field types need: a scheme and something after it.
const uri = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

export function checkUri(what: string, value: string): string {
  if (typeof value !== 'string' || !uri.test(value))
    invalidPredicate(what, `${String(value)} is not a URI`);
  return value;
}

export function checkName(what: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) invalidPredicate(what, 'must not be empty');
  return value;
}
