import { EvidenceError } from './evidence-error.ts';
import type { Component, ParsedReport } from './report-types.ts';
import type { ReportSource } from './report-text.ts';
import { arrayOf, isObject, stringOf, type Json } from './safe-json.ts';

const supported = ['SPDX-2.2', 'SPDX-2.3'];
const noLicense = new Set(['NOASSERTION', 'NONE', '']);

// SPDX 2.3 JSON (2.2 shares the shape). The figures are the top-level arrays as written;
// relationships only implied by documentDescribes or hasFiles are not added.
export function parseSpdx(doc: unknown, src: ReportSource): ParsedReport {
  const at = { ...src, format: 'spdx' };
  if (!isObject(doc) || typeof doc.spdxVersion !== 'string') {
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      'this is not an SPDX document (no "spdxVersion")',
      {
        ...at,
        pointer: '/spdxVersion',
      },
    );
  }
  if (!supported.includes(doc.spdxVersion)) {
    throw new EvidenceError(
      'EVIDENCE_UNSUPPORTED_VERSION',
      `spdxVersion ${JSON.stringify(doc.spdxVersion)} is not one of ${supported.join(', ')}`,
      { ...at, pointer: '/spdxVersion' },
    );
  }
  for (const key of ['packages', 'files', 'relationships'] as const) {
    if (doc[key] !== undefined && !Array.isArray(doc[key])) {
      throw new EvidenceError('EVIDENCE_MALFORMED', `"${key}" must be an array`, {
        ...at,
        pointer: `/${key}`,
      });
    }
  }
  const packages = arrayOf(doc.packages);
  const components: Component[] = packages.map((p, i) => componentOf(p, `/packages/${i}`, at));
  return {
    format: 'spdx',
    file: src.file,
    figures: {
      spdxVersion: doc.spdxVersion,
      packages: packages.length,
      files: arrayOf(doc.files).length,
      relationships: arrayOf(doc.relationships).length,
    },
    components,
    findings: [],
  };
}

function componentOf(p: unknown, pointer: string, at: { file: string; format: string }): Component {
  if (!isObject(p) || typeof p.name !== 'string') {
    throw new EvidenceError('EVIDENCE_MALFORMED', 'a package has no "name"', { ...at, pointer });
  }
  const c: Component = { name: p.name, licenses: [] };
  const version = stringOf(p.versionInfo);
  if (version) c.version = version;
  const purl = (arrayOf(p.externalRefs).filter(isObject) as Json[]).find(
    (r) => r.referenceType === 'purl',
  )?.referenceLocator;
  if (typeof purl === 'string') c.purl = purl;
  const purpose = stringOf(p.primaryPackagePurpose);
  if (purpose) c.type = purpose.toLowerCase();
  for (const key of ['licenseConcluded', 'licenseDeclared']) {
    const l = stringOf(p[key]);
    if (l && !noLicense.has(l) && !c.licenses.includes(l)) c.licenses.push(l);
  }
  return c;
}
