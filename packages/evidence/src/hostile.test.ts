import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseReport } from './index.ts';
import { bytesOf, parse, refusal, refusalOf } from './test-support.ts';

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<testsuites><testsuite name="&lol2;"><testcase name="&lol2;"/></testsuite></testsuites>`;

describe('hostile reports', () => {
  it('refuses an external entity (XXE) before reading any element, naming file, format and line', () => {
    const e = refusalOf(
      `<?xml version="1.0"?>\n<!DOCTYPE testsuites [\n <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<testsuites><testsuite><testcase name="&xxe;"/></testsuite></testsuites>`,
      'junit',
      'reports/junit.xml',
    );
    expect(e).toMatchObject({
      code: 'EVIDENCE_XML_DTD_REFUSED',
      file: 'reports/junit.xml',
      format: 'junit',
      line: 4,
    });
    expect(e.message).toContain("entity 'xxe'");
    expect(e.message).not.toContain('root:');
  });

  it('refuses "billion laughs" internal entities and parameter entities, in every XML format', () => {
    for (const format of ['junit', 'cobertura', 'cyclonedx'] as const) {
      expect(refusalOf(billionLaughs, format).code).toMatch(
        /EVIDENCE_XML_DTD_REFUSED|EVIDENCE_WRONG_FORMAT/,
      );
    }
    expect(refusalOf(billionLaughs, 'junit').code).toBe('EVIDENCE_XML_DTD_REFUSED');
    const param = `<!DOCTYPE coverage [ <!ENTITY % remote SYSTEM "http://127.0.0.1:1/x.dtd"> %remote; ]><coverage/>`;
    expect(refusalOf(param, 'cobertura').code).toBe('EVIDENCE_XML_DTD_REFUSED');
    const subset = `<!DOCTYPE bom [ <!ELEMENT bom ANY> ]><bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>`;
    expect(refusalOf(subset, 'cyclonedx').code).toBe('EVIDENCE_XML_DTD_REFUSED');
  });

  it('never fetches an external DTD a report names (Cobertura’s coverage-04.dtd)', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('<!ENTITY x "pwned">');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const r = parse(
        `<?xml version="1.0"?><!DOCTYPE coverage SYSTEM "http://127.0.0.1:${port}/coverage-04.dtd"><coverage line-rate="1"><packages/></coverage>`,
        'cobertura',
      );
      expect(r.format).toBe('cobertura');
      await new Promise((r) => setTimeout(r, 50));
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });

  it('refuses an entity reference with no declaration (no entity is ever looked up)', () => {
    expect(refusalOf('<testsuite><testcase name="&xxe;"/></testsuite>', 'junit')).toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      line: 1,
    });
  });

  it('refuses truncated JSON and XML at the line where they stop', () => {
    const json =
      '{\n  "version": "2.1.0",\n  "runs": [\n    { "tool": { "driver": { "name": "x" } },\n';
    expect(refusalOf(json, 'sarif')).toMatchObject({ code: 'EVIDENCE_MALFORMED', line: 5 });
    const xml = '<testsuites>\n<testsuite name="a">\n<testcase name="b">';
    expect(refusalOf(xml, 'junit')).toMatchObject({ code: 'EVIDENCE_MALFORMED', line: 3 });
    expect(refusalOf('{"a": [1, 2,, 3]}', 'sarif')).toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      line: 1,
      column: 13,
    });
  });

  it('refuses nesting beyond the depth limit in XML and JSON', () => {
    const deep = '<testsuite>' + '<x>'.repeat(100) + '</x>'.repeat(100) + '</testsuite>';
    expect(refusalOf(deep, 'junit').code).toBe('EVIDENCE_TOO_DEEP');
    const deepJson = '{"version":"2.1.0","runs":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    expect(refusalOf(deepJson, 'sarif').code).toBe('EVIDENCE_TOO_DEEP');
  });

  it('refuses a 50 MB file by its size, before decoding it', () => {
    const big = new Uint8Array(50 * 1024 * 1024).fill(0x20);
    const e = refusal({ bytes: big, fileName: 'huge.xml', format: 'junit' });
    expect(e).toMatchObject({ code: 'EVIDENCE_TOO_LARGE', file: 'huge.xml' });
    // The server's limit is configurable; a smaller one applies as given.
    expect(
      refusal({ bytes: bytesOf('<testsuite/>'), fileName: 's.xml', limits: { maxBytes: 4 } }).code,
    ).toBe('EVIDENCE_TOO_LARGE');
  });

  it('refuses bytes that are not text, and a file of another format than declared', () => {
    const binary = new Uint8Array([0x3c, 0x74, 0xff, 0xfe, 0xfd, 0x00]);
    expect(refusal({ bytes: binary, fileName: 'b.xml', format: 'junit' }).code).toBe(
      'EVIDENCE_MALFORMED',
    );
    expect(refusalOf('<coverage/>', 'junit').code).toBe('EVIDENCE_WRONG_FORMAT');
    expect(refusalOf('<html><body/></html>', 'junit').code).toBe('EVIDENCE_WRONG_FORMAT');
    expect(refusalOf('SF:a.ts\nDA:1,1\nend_of_record\n', 'cobertura').code).toBe(
      'EVIDENCE_WRONG_FORMAT',
    );
    expect(refusalOf('{"bomFormat":"CycloneDX","specVersion":"1.5"}', 'spdx').code).toBe(
      'EVIDENCE_WRONG_FORMAT',
    );
    expect(refusalOf('{"spdxVersion":"SPDX-2.1"}', 'sbom').code).toBe(
      'EVIDENCE_UNSUPPORTED_VERSION',
    );
    expect(refusalOf('{"version":"2.1.0","runs":[]}', 'sbom').code).toBe('EVIDENCE_WRONG_FORMAT');
    expect(refusalOf('{"bomFormat":"CycloneDX","specVersion":"2.0"}', 'sbom').code).toBe(
      'EVIDENCE_UNSUPPORTED_VERSION',
    );
    expect(refusalOf('hello', undefined).code).toBe('EVIDENCE_UNKNOWN_FORMAT');
  });

  it('refuses lcov lines that are not lcov, with their line number', () => {
    expect(refusalOf('SF:a.ts\nDA:1,1\nthis is not lcov\nend_of_record\n', 'lcov')).toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      line: 3,
    });
    expect(refusalOf('SF:a.ts\nDA:1,x\nend_of_record\n', 'lcov')).toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      line: 2,
    });
    expect(refusalOf('SF:a.ts\nDA:1,1\n', 'lcov').code).toBe('EVIDENCE_MALFORMED');
    expect(refusalOf('not coverage at all', 'lcov').code).toBe('EVIDENCE_WRONG_FORMAT');
  });

  it('is deterministic: the same bytes give the same figures and fingerprints', () => {
    const text = JSON.stringify({
      version: '2.1.0',
      runs: [
        { tool: { driver: { name: 't' } }, results: [{ ruleId: 'a', message: { text: 'm' } }] },
      ],
    });
    const a = parseReport({ bytes: bytesOf(text), fileName: 'a' });
    const b = parseReport({ bytes: bytesOf(text), fileName: 'b' });
    expect(a.format === 'sarif' && a.findings[0]!.fingerprint).toBe(
      b.format === 'sarif' && b.findings[0]!.fingerprint,
    );
  });
});
