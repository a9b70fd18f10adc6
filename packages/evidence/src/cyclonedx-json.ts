import { vulnerabilityFindings, type VulnerabilityEntry } from './cyclonedx-vulnerabilities.ts';
import { EvidenceError } from './evidence-error.ts';
import type { Component, ParsedReport } from './report-types.ts';
import type { ReportSource } from './report-text.ts';
import { arrayOf, isObject, stringOf, type Json } from './safe-json.ts';
import { checkCycloneDxVersion } from './cyclonedx-version.ts';

// CycloneDX JSON. Components are everything reachable through nested `components` from the
// top-level list; metadata.component and pedigree ancestors are not the product's parts.
export function parseCycloneDxJson(doc: unknown, src: ReportSource): ParsedReport {
  const at = { ...src, format: 'cyclonedx' };
  if (!isObject(doc) || doc.bomFormat !== 'CycloneDX') {
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      'this is not a CycloneDX BOM (bomFormat is not "CycloneDX")',
      {
        ...at,
        pointer: '/bomFormat',
      },
    );
  }
  const specVersion = checkCycloneDxVersion(stringOf(doc.specVersion), {
    ...at,
    pointer: '/specVersion',
  });
  const components: Component[] = [];
  const purlOfRef = new Map<string, string>();
  const walk = (list: unknown, pointer: string) => {
    arrayOf(list).forEach((c, i) => {
      if (!isObject(c)) return;
      const name = stringOf(c.name);
      if (name === undefined) {
        throw new EvidenceError('EVIDENCE_MALFORMED', 'a component has no name', {
          ...at,
          pointer: `${pointer}/${i}`,
        });
      }
      const comp: Component = { name, licenses: licensesOf(c.licenses) };
      const version = stringOf(c.version);
      if (version) comp.version = version;
      const purl = stringOf(c.purl);
      if (purl) comp.purl = purl;
      const type = stringOf(c.type);
      if (type) comp.type = type;
      components.push(comp);
      const ref = stringOf(c['bom-ref']);
      if (ref && purl) purlOfRef.set(ref, purl);
      walk(c.components, `${pointer}/${i}/components`);
    });
  };
  walk(doc.components, '/components');
  const deps = arrayOf(doc.dependencies).filter(isObject) as Json[];
  const vulns = (arrayOf(doc.vulnerabilities).filter(isObject) as Json[]).map(vulnerabilityOf);
  return {
    format: 'cyclonedx',
    file: src.file,
    figures: {
      specVersion,
      encoding: 'json',
      components: components.length,
      distinctPurls: new Set(components.map((c) => c.purl).filter(Boolean)).size,
      dependencies: deps.length,
      dependencyEdges: deps.reduce((n, d) => n + arrayOf(d.dependsOn).length, 0),
      vulnerabilities: vulns.length,
    },
    components,
    findings: vulnerabilityFindings(vulns, purlOfRef, toolOf(doc)),
  };
}

// `[{license: {id}}, {license: {name}}, {expression}]`.
function licensesOf(v: unknown): string[] {
  const out: string[] = [];
  for (const l of arrayOf(v)) {
    if (!isObject(l)) continue;
    const expr = stringOf(l.expression);
    if (expr) out.push(expr);
    const lic = isObject(l.license) ? l.license : undefined;
    const id = stringOf(lic?.id) ?? stringOf(lic?.name);
    if (id) out.push(id);
  }
  return out;
}

function vulnerabilityOf(v: Json): VulnerabilityEntry {
  const entry: VulnerabilityEntry = {
    id: stringOf(v.id) ?? stringOf(v['bom-ref']) ?? 'unknown',
    ratings: (arrayOf(v.ratings).filter(isObject) as Json[]).map((r) => ({
      ...(r.score !== undefined ? { score: r.score as string | number } : {}),
      ...(stringOf(r.severity) ? { severity: stringOf(r.severity)! } : {}),
      ...(stringOf(r.method) ? { method: stringOf(r.method)! } : {}),
    })),
    affects: (arrayOf(v.affects).filter(isObject) as Json[])
      .map((a) => stringOf(a.ref) ?? '')
      .filter(Boolean),
  };
  const description = stringOf(v.description) ?? stringOf(v.detail);
  if (description) entry.description = description;
  return entry;
}

// 1.5+ writes tools as {components: [...]}, earlier versions as an array of {vendor, name}.
function toolOf(doc: Json): string {
  const tools = isObject(doc.metadata) ? doc.metadata.tools : undefined;
  const list = isObject(tools) ? arrayOf(tools.components) : arrayOf(tools);
  const first = list.find(isObject) as Json | undefined;
  return stringOf(first?.name) ?? 'cyclonedx';
}
