// The short predicate type names `cosign verify-blob-attestation --type` accepts, mapped to
// their URIs, so `custody attestation verify --type` reads the same way.
import { CYCLONEDX_BOM, SPDX_DOCUMENT } from './sbom-predicate.ts';
import { SLSA_PROVENANCE_V1 } from './slsa-provenance.ts';
import { TEST_RESULT_V01 } from './test-result-predicate.ts';
import { LedgerError } from './errors.ts';

export const predicateTypeAliases: Readonly<Record<string, string>> = {
  slsaprovenance1: SLSA_PROVENANCE_V1,
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  spdx: SPDX_DOCUMENT,
  spdxjson: SPDX_DOCUMENT,
  cyclonedx: CYCLONEDX_BOM,
  cyclonedxxml: CYCLONEDX_BOM,
  // Not a cosign name (cosign takes the URI): Custody's short name for test results.
  testresult: TEST_RESULT_V01,
};

/** A short name from predicateTypeAliases, or a predicate type URI as it is. */
export function resolvePredicateType(nameOrUri: string): string {
  if (Object.hasOwn(predicateTypeAliases, nameOrUri)) return predicateTypeAliases[nameOrUri]!;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(nameOrUri)) return nameOrUri;
  throw new LedgerError(
    'LEDGER_PREDICATE_INVALID',
    `unknown predicate type ${nameOrUri}: use a URI or one of ${Object.keys(predicateTypeAliases).join(', ')}`,
  );
}
