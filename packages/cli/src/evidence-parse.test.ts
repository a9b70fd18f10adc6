import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { custody, repoRoot } from './testing/cli-process.ts';

// `custody evidence parse` is offline and uses the server's parser, on the shared corpus.
const corpus = path.resolve(repoRoot, '..', 'shared', 'evidence-corpus');
const parse = (...args: string[]) => custody(['evidence', 'parse', ...args, '--output', 'json']);

describe('custody evidence parse', () => {
  it('prints the format and the figures the issue names, for every format', () => {
    const cases: [string, string | undefined, Record<string, unknown>][] = [
      [
        'junit/surefire-CircleTest-error-and-failure.xml',
        'junit',
        { tests: 8, failures: 1, errors: 1, skipped: 0 },
      ],
      [
        'lcov/codelyze-c8-zx.info',
        'lcov',
        { lines: { found: 393, hit: 356 }, branches: { found: 47, hit: 41 } },
      ],
      [
        'cobertura/coveragepy-y-xml-branch.xml',
        undefined,
        { lines: { found: 5, hit: 4 }, branches: { found: 2, hit: 1 } },
      ],
      [
        'sarif/codeql-action-lgtm-and-codeql-runs.sarif',
        'sarif',
        { runs: 2, results: 3, levels: { error: 0, warning: 0, note: 3, none: 0 }, rules: 2 },
      ],
      [
        'cyclonedx/bom-examples-laravel-7.12.0.cdx-1.4.xml',
        'cyclonedx',
        { specVersion: '1.4', components: 62 },
      ],
      [
        'spdx/spdx-spec-SPDXJSONExample-v2.3.spdx.json',
        'spdx',
        { spdxVersion: 'SPDX-2.3', packages: 4, files: 5, relationships: 7 },
      ],
    ];
    for (const [file, type, figures] of cases) {
      const r = parse(path.join(corpus, file), ...(type ? ['--type', type] : []));
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out.format).toBe(type ?? 'cobertura');
      expect(out).toMatchObject(figures);
    }
  });

  it('exits 1 with error.code, the file and the line for a refused report', () => {
    const xxe = parse(path.join(corpus, 'hostile/hostile-xxe.xml'), '--type', 'junit');
    expect(xxe.status).toBe(1);
    const err = JSON.parse(xxe.stdout || xxe.stderr).error;
    expect(err.code).toBe('EVIDENCE_XML_DTD_REFUSED');
    expect(err.details).toMatchObject({ format: 'junit', line: 9 });
    expect(err.message).toContain('hostile-xxe.xml');
    const dir = mkdtempSync(path.join(tmpdir(), 'custody-evidence-'));
    const notSarif = path.join(dir, 'scan.sarif');
    writeFileSync(notSarif, 'this is not sarif');
    const r = parse(notSarif, '--type', 'sarif');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout || r.stderr).error).toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      details: { line: 1, column: 1 },
    });
    // The text form names the same code.
    const text = custody(['evidence', 'parse', notSarif, '--type', 'sarif']);
    expect(text.status).toBe(1);
    expect(text.stderr).toContain('EVIDENCE_MALFORMED');
    expect(readFileSync(notSarif, 'utf8')).toBe('this is not sarif');
  });

  it('with --details prints every case', () => {
    const r = parse(path.join(corpus, 'junit/test-reporter-jest-junit.xml'), '--details');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { cases: { outcome: string }[] };
    expect(out.cases).toHaveLength(6);
    expect(out.cases.filter((c) => c.outcome === 'failed')).toHaveLength(4);
  });
});
