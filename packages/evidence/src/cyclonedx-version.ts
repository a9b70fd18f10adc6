import { EvidenceError, type EvidenceErrorPlace } from './evidence-error.ts';

const supported = ['1.2', '1.3', '1.4', '1.5', '1.6'];

// 1.4–1.6 are what tools write today; 1.2 and 1.3 share the same component model.
export function checkCycloneDxVersion(
  v: string | undefined,
  at: { file: string; format?: string } & EvidenceErrorPlace,
): string {
  if (v === undefined || !supported.includes(v)) {
    throw new EvidenceError(
      'EVIDENCE_UNSUPPORTED_VERSION',
      `CycloneDX spec version ${JSON.stringify(v ?? null)} is not one of ${supported.join(', ')}`,
      at,
    );
  }
  return v;
}
