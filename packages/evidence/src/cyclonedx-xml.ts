import { checkCycloneDxVersion } from './cyclonedx-version.ts';
import { vulnerabilityFindings, type VulnerabilityEntry } from './cyclonedx-vulnerabilities.ts';
import { EvidenceError } from './evidence-error.ts';
import type { EvidenceLimits } from './limits.ts';
import type { Component, ParsedReport } from './report-types.ts';
import type { ReportSource } from './report-text.ts';
import { walkXml, type XmlOpen } from './safe-xml.ts';

const namespacePrefix = 'http://cyclonedx.org/schema/bom/';

// CycloneDX XML. The spec version is the namespace's (the root `version` is the BOM's
// revision). Counted components are the <component> children of <components>, from the
// root's list down; those under <metadata> and <pedigree> are not.
export function parseCycloneDxXml(
  text: string,
  src: ReportSource,
  limits: EvidenceLimits,
): ParsedReport {
  const at = { ...src, format: 'cyclonedx' };
  const components: Component[] = [];
  const purlOfRef = new Map<string, string>();
  const vulns: VulnerabilityEntry[] = [];
  const stack: { comp: Component | null; depth: number; ref?: string }[] = [];
  let specVersion = '';
  let tool: string | undefined;
  let dependencies = 0;
  let edges = 0;
  let capture: { buf: string; depth: number; done: (s: string) => void } | undefined;
  const take = (el: XmlOpen, done: (s: string) => void) => {
    capture = { buf: '', depth: el.path.length, done };
  };
  walkXml(text, at, limits, {
    open(el) {
      const { name, path } = el;
      const depth = path.length;
      if (depth === 0) {
        specVersion = rootVersion(el, at);
        return;
      }
      if (name === 'component') {
        const top = stack.at(-1);
        const counted =
          path[depth - 1] === 'components' &&
          (depth === 2 || (top !== undefined && top.comp !== null && top.depth === depth - 2));
        const comp: Component | null = counted ? { name: '', licenses: [] } : null;
        if (comp) {
          if (el.attrs.type) comp.type = el.attrs.type;
          components.push(comp);
        }
        stack.push({ comp, depth, ...(el.attrs['bom-ref'] ? { ref: el.attrs['bom-ref'] } : {}) });
        return;
      }
      const top = stack.at(-1);
      if (top?.comp) componentField(el, top.depth, top.comp, take);
      if (path[1] === 'dependencies' && name === 'dependency') {
        if (depth === 2) dependencies++;
        else if (depth === 3) edges++;
      } else if (path[1] === 'vulnerabilities') vulnerabilityField(el, vulns, take);
      else if (
        tool === undefined &&
        name === 'name' &&
        path[1] === 'metadata' &&
        path[2] === 'tools'
      ) {
        const owner = path[depth - 1];
        if (owner === 'tool' || owner === 'component') take(el, (s) => (tool = s));
      }
    },
    text(chunk) {
      if (capture) capture.buf += chunk;
    },
    close(name, path) {
      if (capture && path.length === capture.depth) {
        capture.done(capture.buf.trim());
        capture = undefined;
      }
      if (name === 'component') {
        const done = stack.pop();
        if (done?.comp && done.ref && done.comp.purl) purlOfRef.set(done.ref, done.comp.purl);
      }
    },
  });
  for (const [i, c] of components.entries()) {
    if (!c.name)
      throw new EvidenceError('EVIDENCE_MALFORMED', `component ${i + 1} has no <name>`, at);
  }
  return {
    format: 'cyclonedx',
    file: src.file,
    figures: {
      specVersion,
      encoding: 'xml',
      components: components.length,
      distinctPurls: new Set(components.map((c) => c.purl).filter(Boolean)).size,
      dependencies,
      dependencyEdges: edges,
      vulnerabilities: vulns.length,
    },
    components,
    findings: vulnerabilityFindings(vulns, purlOfRef, tool ?? 'cyclonedx'),
  };
}

function rootVersion(el: XmlOpen, at: { file: string; format: string }): string {
  if (el.name !== 'bom') {
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      `the root element is <${el.name}>, not a CycloneDX <bom>`,
      at,
    );
  }
  const ns = Object.entries(el.attrs).find(
    ([k, v]) => (k === 'xmlns' || k.startsWith('xmlns:')) && v.startsWith(namespacePrefix),
  );
  if (!ns) {
    throw new EvidenceError(
      'EVIDENCE_WRONG_FORMAT',
      `the <bom> is not in the ${namespacePrefix}<version> namespace`,
      at,
    );
  }
  return checkCycloneDxVersion(ns[1].slice(namespacePrefix.length), at);
}

type Take = (el: XmlOpen, done: (s: string) => void) => void;

function componentField(el: XmlOpen, compDepth: number, comp: Component, take: Take): void {
  const rel = el.path.length - compDepth;
  const p = el.path;
  if (rel === 1) {
    if (el.name === 'name') take(el, (s) => (comp.name = s));
    else if (el.name === 'version') take(el, (s) => s && (comp.version = s));
    else if (el.name === 'purl') take(el, (s) => s && (comp.purl = s));
  } else if (rel === 2 && p[compDepth + 1] === 'licenses' && el.name === 'expression') {
    take(el, (s) => s && comp.licenses.push(s));
  } else if (rel === 3 && p[compDepth + 1] === 'licenses' && p[compDepth + 2] === 'license') {
    if (el.name === 'id' || el.name === 'name') take(el, (s) => s && comp.licenses.push(s));
  }
}

function vulnerabilityField(el: XmlOpen, vulns: VulnerabilityEntry[], take: Take): void {
  const p = el.path;
  if (el.name === 'vulnerability' && p.length === 2) {
    vulns.push({ id: el.attrs['bom-ref'] ?? 'unknown', ratings: [], affects: [] });
    return;
  }
  const v = vulns.at(-1);
  if (!v || p.length < 3) return;
  if (p.length === 3 && el.name === 'id') take(el, (s) => s && (v.id = s));
  else if (p.length === 3 && el.name === 'description') take(el, (s) => s && (v.description = s));
  else if (p.length === 4 && p[3] === 'ratings' && el.name === 'rating') v.ratings.push({});
  else if (p.length === 5 && p[4] === 'rating') {
    const r = v.ratings.at(-1)!;
    if (el.name === 'score') take(el, (s) => (r.score = s));
    else if (el.name === 'severity') take(el, (s) => (r.severity = s));
    else if (el.name === 'method') take(el, (s) => (r.method = s));
  } else if (p.length === 5 && p[3] === 'affects' && p[4] === 'target' && el.name === 'ref') {
    take(el, (s) => s && v.affects.push(s));
  }
}
