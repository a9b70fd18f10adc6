// in-toto Statement v1 (github.com/in-toto/attestation, spec/v1/statement.md), carried in a
// DSSE envelope with payloadType application/vnd.in-toto+json. Only the four Statement
// fields are emitted, which is what cosign verify-blob-attestation accepts.
import { canonicalBytes } from './canonical-json.ts';
import { utf8Decode } from './bytes.ts';
import { LedgerError } from './errors.ts';
import {
  openEnvelope,
  signEnvelope,
  type DsseEnvelope,
  type DsseSigner,
  type DsseVerifier,
} from './dsse.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

export interface InTotoSubject {
  readonly name: string;
  /** Algorithm → lowercase hex digest, e.g. { sha256: '…' }. */
  readonly digest: Readonly<Record<string, string>>;
}

export interface InTotoStatement {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly InTotoSubject[];
  readonly predicateType: string;
  readonly predicate: Readonly<Record<string, unknown>>;
}

function invalid(message: string): never {
  throw new LedgerError('LEDGER_ENVELOPE_INVALID', `in-toto statement: ${message}`);
}

function checkStatement(s: unknown): InTotoStatement {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) invalid('not an object');
  const o = s as Record<string, unknown>;
  const extra = Object.keys(o).filter(
    (k) => !['_type', 'subject', 'predicateType', 'predicate'].includes(k),
  );
  if (extra.length) invalid(`unexpected fields ${extra.join(', ')}`);
  if (o._type !== IN_TOTO_STATEMENT_TYPE) invalid(`_type must be ${IN_TOTO_STATEMENT_TYPE}`);
  if (!Array.isArray(o.subject) || o.subject.length === 0)
    invalid('subject must be a non-empty array');
  for (const sub of o.subject as unknown[]) {
    const x = sub as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || typeof x.name !== 'string')
      invalid('each subject needs a name');
    const d = x.digest as Record<string, unknown>;
    if (typeof d !== 'object' || d === null || Object.keys(d).length === 0)
      invalid(`subject ${x.name} needs a digest`);
    for (const [alg, v] of Object.entries(d)) {
      if (typeof v !== 'string' || !/^[0-9a-f]+$/.test(v))
        invalid(`subject ${x.name} digest ${alg} must be lowercase hex`);
    }
    if (typeof d.sha256 === 'string' && d.sha256.length !== 64)
      invalid(`subject ${x.name} sha256 digest must be 64 hex digits`);
  }
  if (typeof o.predicateType !== 'string' || o.predicateType.length === 0)
    invalid('predicateType must be a non-empty string');
  if (typeof o.predicate !== 'object' || o.predicate === null || Array.isArray(o.predicate))
    invalid('predicate must be an object');
  return o as unknown as InTotoStatement;
}

/** Builds and checks a Statement v1. */
export function makeStatement(input: {
  subject: readonly InTotoSubject[];
  predicateType: string;
  predicate: Readonly<Record<string, unknown>>;
}): InTotoStatement {
  return checkStatement({
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: input.subject,
    predicateType: input.predicateType,
    predicate: input.predicate,
  });
}

/** Canonical JSON bytes of a statement (deterministic, so signatures are reproducible). */
export function statementBytes(statement: InTotoStatement): Uint8Array {
  return canonicalBytes(checkStatement(statement));
}

export function parseStatement(bytes: Uint8Array): InTotoStatement {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(bytes));
  } catch {
    invalid('payload is not JSON');
  }
  return checkStatement(value);
}

/** Signs a statement as a DSSE envelope with payloadType application/vnd.in-toto+json. */
export function signStatement(
  statement: InTotoStatement,
  signers: readonly DsseSigner[],
): DsseEnvelope {
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementBytes(statement), signers);
}

/** Verifies an attestation envelope and returns its statement. Throws LEDGER_ENVELOPE_INVALID. */
export function openStatement(
  envelope: DsseEnvelope,
  verifiers: readonly DsseVerifier[],
): InTotoStatement {
  const opened = openEnvelope(envelope, verifiers);
  if (opened.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    invalid(`payloadType must be ${IN_TOTO_PAYLOAD_TYPE}`);
  return parseStatement(opened.payload);
}
