// SBOM attestations as in-toto Statements v1 (github.com/in-toto/attestation,
// spec/predicates/cyclonedx.md and spdx.md): the subjects are the artifacts the SBOM
// describes, the predicate is the SBOM.
//
// - CycloneDX JSON: predicateType https://cyclonedx.org/bom, predicate = the BOM document.
// - SPDX JSON:      predicateType https://spdx.dev/Document, predicate = the SPDX document.
// - An SBOM that is not JSON (CycloneDX XML, SPDX RDF/XML), or a JSON one whose parsed document
//   is not at hand, cannot be a predicate (a predicate is a JSON object). It is attested by
//   reference under the same predicateType, so `cosign --type cyclonedx` still selects it:
//   `{ mediaType, digest: { sha256 }, specVersion, components }`. The digest pins the exact
//   SBOM file, which is kept with the run's evidence; `components` is the count the server
//   parsed from it. This is a Custody convention, documented in docs/reference/attestations.md.
import { makeStatement, type InTotoStatement, type InTotoSubject } from './in-toto.ts';
import { checkName, checkSha256, checkSubjects, invalidPredicate } from './predicate-checks.ts';

export const CYCLONEDX_BOM = 'https://cyclonedx.org/bom';
export const SPDX_DOCUMENT = 'https://spdx.dev/Document';

export type SbomFormat = 'cyclonedx' | 'spdx';
export type SbomEncoding = 'json' | 'xml';

/** Media types of SBOM files attested by reference. */
export const sbomMediaTypes: Readonly<Record<SbomFormat, Readonly<Record<SbomEncoding, string>>>> =
  {
    cyclonedx: {
      json: 'application/vnd.cyclonedx+json',
      xml: 'application/vnd.cyclonedx+xml',
    },
    spdx: { json: 'application/spdx+json', xml: 'application/spdx+xml' },
  };

export interface SbomInput {
  readonly subject: readonly InTotoSubject[];
  readonly format: SbomFormat;
  readonly encoding: SbomEncoding;
  /** SHA-256 of the SBOM file as stored. */
  readonly sha256: string;
  readonly specVersion: string;
  /** How many components the SBOM lists. */
  readonly components: number;
  /** The parsed document (JSON SBOMs): it becomes the predicate. */
  readonly document?: unknown;
}

export function sbomPredicateType(format: SbomFormat): string {
  switch (format) {
    case 'cyclonedx':
      return CYCLONEDX_BOM;
    case 'spdx':
      return SPDX_DOCUMENT;
    default:
      return invalidPredicate('SBOM', `unknown format ${String(format as unknown)}`);
  }
}

const what = 'SBOM';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function makeSbomStatement(input: SbomInput): InTotoStatement {
  const subject = checkSubjects(what, input.subject);
  const predicateType = sbomPredicateType(input.format);
  const mediaType = sbomMediaTypes[input.format][input.encoding];
  if (mediaType === undefined)
    invalidPredicate(what, `unknown encoding ${String(input.encoding as unknown)}`);
  checkSha256(`${what} file`, input.sha256);
  checkName(`${what} specVersion`, input.specVersion);
  if (!Number.isSafeInteger(input.components) || input.components < 0)
    invalidPredicate(what, 'components must be a count');
  if (input.encoding === 'json' && input.document !== undefined) {
    if (!isObject(input.document)) invalidPredicate(what, 'a JSON SBOM document must be an object');
    return makeStatement({ subject, predicateType, predicate: input.document });
  }
  return makeStatement({
    subject,
    predicateType,
    predicate: {
      mediaType,
      digest: { sha256: input.sha256 },
      specVersion: input.specVersion,
      components: input.components,
    },
  });
}
