import { describe, expect, it } from 'vitest';
import type { ParsedReport } from './index.ts';
import { parse } from './test-support.ts';

type Sbom = Extract<ParsedReport, { format: 'cyclonedx' | 'spdx' }>;
const sbom = (text: string): Sbom => {
  const r = parse(text, 'sbom', 'bom');
  if (r.format !== 'cyclonedx' && r.format !== 'spdx') throw new Error(r.format);
  return r;
};

describe('SBOMs', () => {
  it('CycloneDX JSON: nested components counted, metadata and pedigree not; purl, version, licenses kept', () => {
    const r = sbom(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        metadata: {
          tools: { components: [{ type: 'application', name: 'syft' }] },
          component: { name: 'app', purl: 'pkg:npm/app@1' },
        },
        components: [
          {
            type: 'library',
            name: 'express',
            version: '4.19.2',
            purl: 'pkg:npm/express@4.19.2',
            'bom-ref': 'e',
            licenses: [{ license: { id: 'MIT' } }],
            pedigree: { ancestors: [{ name: 'express-fork' }] },
            components: [
              {
                name: 'body-parser',
                version: '1.20.2',
                licenses: [{ expression: 'MIT OR Apache-2.0' }],
              },
            ],
          },
          {
            name: 'agpl-lib',
            purl: 'pkg:npm/agpl-lib@1',
            licenses: [{ license: { name: 'AGPL-3.0-only' } }],
          },
        ],
        dependencies: [{ ref: 'e', dependsOn: ['b', 'c'] }, { ref: 'b' }],
      }),
    );
    expect(r.figures).toMatchObject({
      specVersion: '1.5',
      encoding: 'json',
      components: 3,
      distinctPurls: 2,
      dependencies: 2,
      dependencyEdges: 2,
    });
    expect(r.components.map((c) => c.name)).toEqual(['express', 'body-parser', 'agpl-lib']);
    expect(r.components[0]).toMatchObject({
      version: '4.19.2',
      purl: 'pkg:npm/express@4.19.2',
      type: 'library',
      licenses: ['MIT'],
    });
    expect(r.components[1]!.licenses).toEqual(['MIT OR Apache-2.0']);
    expect(r.components[2]!.licenses).toEqual(['AGPL-3.0-only']);
  });

  it('CycloneDX vulnerabilities become findings with the severity of their highest CVSS score, per affected purl', () => {
    const r = sbom(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        components: [
          { name: 'openssl', purl: 'pkg:apk/alpine/openssl@3.0.1', 'bom-ref': 'o' },
          { name: 'zlib', 'bom-ref': 'z', purl: 'pkg:apk/alpine/zlib@1.2' },
        ],
        vulnerabilities: [
          {
            id: 'CVE-2024-0001',
            ratings: [
              { score: 5.3, method: 'CVSSv31', severity: 'medium' },
              { score: 9.8, method: 'CVSSv31' },
            ],
            affects: [{ ref: 'o' }, { ref: 'z' }],
          },
          {
            id: 'GHSA-xxxx',
            ratings: [{ severity: 'high', method: 'other' }],
            affects: [{ ref: 'o' }],
          },
          { id: 'CVE-2024-0003', ratings: [], affects: [{ ref: 'z' }] },
        ],
      }),
    );
    expect(r.format === 'cyclonedx' && r.figures.vulnerabilities).toBe(3);
    expect(r.findings.map((f) => [f.ruleId, f.severity, f.location?.path])).toEqual([
      ['CVE-2024-0001', 'critical', 'pkg:apk/alpine/openssl@3.0.1'],
      ['CVE-2024-0001', 'critical', 'pkg:apk/alpine/zlib@1.2'],
      ['GHSA-xxxx', 'high', 'pkg:apk/alpine/openssl@3.0.1'],
      ['CVE-2024-0003', 'info', 'pkg:apk/alpine/zlib@1.2'],
    ]);
  });

  it('CycloneDX XML: the version from the namespace, nested components, licenses, dependencies and vulnerabilities', () => {
    const r = sbom(`<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="7">
  <metadata><tools><components><component type="application"><name>cdxgen</name></component></components></tools>
    <component type="application"><name>app</name></component></metadata>
  <components>
    <component type="library" bom-ref="a"><name>guava</name><version>33.0</version><purl><![CDATA[pkg:maven/com.google.guava/guava@33.0]]></purl>
      <licenses><license><id>Apache-2.0</id></license></licenses>
      <pedigree><ancestors><component type="library"><name>guava-upstream</name></component></ancestors></pedigree>
      <components><component type="library"><name>failureaccess</name><licenses><expression>Apache-2.0</expression></licenses></component></components>
    </component>
  </components>
  <dependencies><dependency ref="a"><dependency ref="b"/></dependency></dependencies>
  <vulnerabilities><vulnerability bom-ref="v1"><id>CVE-2023-2976</id><ratings><rating><score>7.1</score><severity>high</severity><method>CVSSv31</method></rating></ratings>
    <affects><target><ref>a</ref></target></affects></vulnerability></vulnerabilities>
</bom>`);
    expect(r.figures).toMatchObject({
      specVersion: '1.5',
      encoding: 'xml',
      components: 2,
      distinctPurls: 1,
      dependencies: 1,
      dependencyEdges: 1,
      vulnerabilities: 1,
    });
    expect(r.components[0]).toMatchObject({
      name: 'guava',
      purl: 'pkg:maven/com.google.guava/guava@33.0',
      licenses: ['Apache-2.0'],
    });
    expect(r.findings[0]).toMatchObject({
      tool: 'cdxgen',
      ruleId: 'CVE-2023-2976',
      severity: 'high',
      location: { path: 'pkg:maven/com.google.guava/guava@33.0' },
    });
  });

  it('SPDX 2.3 JSON: packages with purl, version and licenses; arrays counted as written', () => {
    const r = sbom(
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        SPDXID: 'SPDXRef-DOCUMENT',
        documentDescribes: ['SPDXRef-app'],
        packages: [
          {
            SPDXID: 'SPDXRef-app',
            name: 'app',
            versionInfo: '1.0',
            licenseConcluded: 'NOASSERTION',
            hasFiles: ['SPDXRef-f'],
          },
          {
            SPDXID: 'SPDXRef-lodash',
            name: 'lodash',
            versionInfo: '4.17.21',
            licenseConcluded: 'MIT',
            licenseDeclared: 'MIT',
            externalRefs: [
              {
                referenceCategory: 'PACKAGE-MANAGER',
                referenceType: 'purl',
                referenceLocator: 'pkg:npm/lodash@4.17.21',
              },
            ],
          },
        ],
        files: [{ SPDXID: 'SPDXRef-f', fileName: './index.js' }],
        relationships: [
          {
            spdxElementId: 'SPDXRef-app',
            relationshipType: 'DEPENDS_ON',
            relatedSpdxElement: 'SPDXRef-lodash',
          },
        ],
      }),
    );
    expect(r.figures).toEqual({ spdxVersion: 'SPDX-2.3', packages: 2, files: 1, relationships: 1 });
    expect(r.components[0]!.licenses).toEqual([]);
    expect(r.components[1]).toMatchObject({
      name: 'lodash',
      version: '4.17.21',
      purl: 'pkg:npm/lodash@4.17.21',
      licenses: ['MIT'],
    });
  });
});

describe('coverage', () => {
  it('lcov: LF/LH when given, else DA lines; BRDA "-" is not taken; records add up as written', () => {
    const r = parse(
      'TN:\nSF:src/a.ts\nFNF:2\nFNH:1\nDA:1,1\nDA:2,0\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nend_of_record\nSF:src/b.ts\nDA:1,5\nLF:10\nLH:7\nBRF:4\nBRH:3\nend_of_record\n',
      'lcov',
    );
    if (r.format !== 'lcov') throw new Error(r.format);
    expect(r.figures).toMatchObject({
      lines: { found: 12, hit: 8 },
      branches: { found: 6, hit: 4 },
      files: 2,
      functions: { found: 2, hit: 1 },
    });
    expect(r.files[0]).toEqual({
      path: 'src/a.ts',
      lines: { found: 2, hit: 1 },
      branches: { found: 2, hit: 1 },
    });
  });

  it('Cobertura: class lines only (not method copies), branches from condition-coverage, per file', () => {
    const r = parse(
      `<coverage line-rate="0.5" branch-rate="0.25" version="1"><packages><package name="p"><classes>
  <class name="A" filename="src/a.py"><methods><method name="f"><lines><line number="1" hits="1"/></lines></method></methods>
    <lines><line number="1" hits="1"/><line number="2" hits="0" branch="true" condition-coverage="25% (1/4)"/></lines></class>
  <class name="A2" filename="src/a.py"><lines><line number="9" hits="3"/></lines></class>
</classes></package></packages></coverage>`,
      'cobertura',
    );
    if (r.format !== 'cobertura') throw new Error(r.format);
    expect(r.figures).toMatchObject({
      lines: { found: 3, hit: 2 },
      branches: { found: 4, hit: 1 },
      lineRate: 0.5,
      branchRate: 0.25,
      files: 1,
    });
  });
});
