import { defineErrors } from '../../platform/errors.ts';

// The report codes are @custody/evidence's (the CLI prints the same ones for
// `custody evidence parse`); the server declares them here with how to solve each.
export const evidenceErrors = defineErrors({
  EVIDENCE_MALFORMED: {
    category: 'invalid',
    message: 'The report is not well-formed for its format',
    solve:
      'Check the report with `custody evidence parse FILE --type TYPE`: the message names the file, the format and the line or JSON pointer where it breaks. Mark the evidence entry `optional: true` if the step may leave it broken.',
  },
  EVIDENCE_WRONG_FORMAT: {
    category: 'invalid',
    message: 'The report is of another format than its evidence entry declares',
    solve:
      'Declare the type the tool writes (`junit`, `lcov`, `cobertura`, `sarif`, `sbom`, `cyclonedx`, `spdx`), or `file` to keep it unparsed.',
  },
  EVIDENCE_UNKNOWN_FORMAT: {
    category: 'invalid',
    message: 'The report is none of the formats Custody parses',
    solve: 'Give its type with `--type`, or declare it as `file` evidence to keep it unparsed.',
  },
  EVIDENCE_XML_DTD_REFUSED: {
    category: 'invalid',
    message: 'The XML report declares entities in a DTD, which is never processed',
    solve:
      'Remove the `<!DOCTYPE … [ <!ENTITY …> ]>` internal subset: reports never need entities, and expanding them is how XXE and "billion laughs" attacks work.',
  },
  EVIDENCE_TOO_LARGE: {
    category: 'too_large',
    message: 'The report is larger than the evidence size limit',
    solve:
      'Split the report, or raise `fileMaxBytes` (CUSTODY_FILE_MAX_BYTES, default 32 MiB) in the server configuration.',
  },
  EVIDENCE_TOO_DEEP: {
    category: 'invalid',
    message: 'The report nests deeper than the evidence depth limit',
    solve: 'Reports from real tools nest a few levels; check what wrote this one.',
  },
  EVIDENCE_SARIF_VERSION: {
    category: 'invalid',
    message: 'The SARIF log is not version 2.1.0',
    solve: 'Have the tool write SARIF 2.1.0 (`"version": "2.1.0"`), the version Custody validates.',
  },
  EVIDENCE_SCHEMA_INVALID: {
    category: 'invalid',
    message: 'The report does not follow its format’s schema',
    solve: 'The message gives the JSON pointer of the first value the schema refuses.',
  },
  EVIDENCE_WAIVER_NOT_FOUND: {
    category: 'not_found',
    message: 'No such waiver',
    solve: 'List waivers with `custody waiver list --project P`.',
  },
  EVIDENCE_WAIVER_INVALID: {
    category: 'invalid',
    message: 'A waiver names one finding (fingerprint) or one rule, a reason and an expiry',
    solve:
      'Give `fingerprint` or `rule` (not both), a non-empty `reason`, and `expiresIn` (e.g. 30d) of at most the maximum (90 days by default, `waiverMaxDays`).',
  },
  EVIDENCE_WAIVER_SERVICE_ACCOUNT_FORBIDDEN: {
    category: 'forbidden',
    message: 'Service accounts never request or approve waivers',
    solve: 'A person holding `evidence.waiver.request` or `evidence.waiver.approve` must do it.',
  },
  EVIDENCE_WAIVER_SELF_APPROVAL_FORBIDDEN: {
    category: 'forbidden',
    message: 'The person who requested a waiver cannot approve it',
    solve: 'Someone else with `evidence.waiver.approve` must approve it (four eyes).',
  },
  EVIDENCE_WAIVER_NOT_PENDING: {
    category: 'conflict',
    message: 'The waiver was already decided or has expired',
    solve: 'Request a new waiver.',
  },
  EVIDENCE_ENVIRONMENT_NOT_FOUND: {
    category: 'not_found',
    message: 'No such environment in the project',
    solve: 'List environments with `custody get environments --project P`.',
  },
});

export type EvidenceErrorCode = keyof typeof evidenceErrors;
