import { SaxesParser } from 'saxes';
import { EvidenceError } from './evidence-error.ts';
import type { EvidenceLimits } from './limits.ts';
import type { ReportSource } from './report-text.ts';

export interface XmlOpen {
  // Local name (a namespace prefix is dropped: `ns0:bom` is `bom`).
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  // Local names of the ancestors, root first.
  readonly path: readonly string[];
}

export interface XmlHandler {
  open(el: XmlOpen): void;
  close(name: string, path: readonly string[]): void;
  // Character data and CDATA sections, in document order.
  text?(chunk: string): void;
}

// Streams a report through saxes, a well-kept non-validating parser that never processes a
// DTD: it reports the DOCTYPE as text and knows only the five predefined entities. A DOCTYPE
// that declares anything (entities for XXE or "billion laughs") is refused outright; one that
// only names an external DTD (Cobertura's coverage-04.dtd) is ignored and never fetched.
export function walkXml(
  text: string,
  src: ReportSource,
  limits: EvidenceLimits,
  handler: XmlHandler,
): void {
  const parser = new SaxesParser({ position: true });
  const path: string[] = [];
  const fail = (code: 'EVIDENCE_TOO_DEEP' | 'EVIDENCE_XML_DTD_REFUSED', detail: string) => {
    throw new EvidenceError(code, detail, { ...src, line: parser.line, column: parser.column });
  };
  parser.on('doctype', (doctype) => {
    const entity = /<!ENTITY\s+(%\s*)?([^\s>]+)/.exec(doctype);
    if (entity) {
      fail(
        'EVIDENCE_XML_DTD_REFUSED',
        `the DOCTYPE declares the entity '${entity[2]}'; DTDs are never processed (no entity expansion, no external entities)`,
      );
    }
    if (doctype.includes('[')) {
      fail(
        'EVIDENCE_XML_DTD_REFUSED',
        'the DOCTYPE has an internal subset; DTDs are never processed',
      );
    }
  });
  parser.on('opentag', (tag) => {
    if (path.length >= limits.maxDepth) {
      fail('EVIDENCE_TOO_DEEP', `elements nest deeper than ${limits.maxDepth} levels`);
    }
    const name = localName(tag.name);
    handler.open({ name, attrs: tag.attributes as Record<string, string>, path });
    path.push(name);
  });
  parser.on('closetag', (tag) => {
    path.pop();
    handler.close(localName(tag.name), path);
  });
  if (handler.text) {
    const onText = handler.text.bind(handler);
    parser.on('text', onText);
    parser.on('cdata', onText);
  }
  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof EvidenceError) throw err;
    const reason = (err as Error).message.replace(/^\d+:\d+: /, '');
    throw new EvidenceError('EVIDENCE_MALFORMED', `not well-formed XML: ${reason}`, {
      ...src,
      line: parser.line,
      column: parser.column,
    });
  }
}

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i === -1 ? qname : qname.slice(i + 1);
}

// The root element's local name and namespace, read without parsing the document (for
// detecting the format); undefined when the text does not look like XML.
export function sniffXmlRoot(text: string): { name: string; namespace?: string } | undefined {
  const body = text
    .slice(0, 64 * 1024)
    .replace(/<\?[\s\S]*?\?>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!DOCTYPE(?:[^[>]|\[[\s\S]*?\])*>/i, '');
  const m = /^\s*<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>/.exec(body);
  if (!m) return undefined;
  const prefix = m[1] ? m[1].slice(0, -1) : undefined;
  const nsAttr = prefix ? `xmlns:${prefix}` : 'xmlns';
  const ns = new RegExp(`\\s${nsAttr.replace('.', '\\.')}\\s*=\\s*["']([^"']*)["']`).exec(m[3]!);
  return { name: m[2]!, ...(ns ? { namespace: ns[1]! } : {}) };
}
