import { describe, expect, it } from 'vitest';
import { compareFindings, dedupeFindings, type ParsedReport } from './index.ts';
import { parse, refusalOf } from './test-support.ts';

const log = (runs: unknown[]) => JSON.stringify({ version: '2.1.0', runs });
const sarif = (runs: unknown[]) => {
  const r: ParsedReport = parse(log(runs), 'sarif', 'scan.sarif');
  if (r.format !== 'sarif') throw new Error(r.format);
  return r;
};
const at = (uri: string, startLine: number, snippet?: string) => [
  {
    physicalLocation: {
      artifactLocation: { uri },
      region: { startLine, ...(snippet ? { snippet: { text: snippet } } : {}) },
    },
  },
];

describe('SARIF 2.1.0', () => {
  it('defaults the level as §3.27.10 says: kind, the rule’s defaultConfiguration (by index or id), else warning', () => {
    const r = sarif([
      {
        tool: {
          driver: {
            name: 'lint',
            rules: [
              { id: 'R1', defaultConfiguration: { level: 'error' } },
              { id: 'R2', defaultConfiguration: { level: 'note' } },
            ],
          },
        },
        results: [
          { ruleId: 'R1', message: { text: 'by id' } },
          { ruleIndex: 1, message: { text: 'by index, no ruleId' } },
          { ruleId: 'R1', kind: 'pass', message: { text: 'a pass is none' } },
          { ruleId: 'R9', message: { text: 'unknown rule' } },
          { ruleId: 'R2', level: 'error', message: { text: 'explicit' } },
        ],
      },
    ]);
    expect(r.findings.map((f) => f.level)).toEqual(['error', 'note', 'none', 'warning', 'error']);
    expect(r.figures.levels).toEqual({ error: 2, warning: 1, note: 1, none: 1 });
    // The result by index names no ruleId: the distinct-rule count is of ids the results give.
    expect(r.figures.rules).toBe(3);
    expect(r.findings[1]!.ruleId).toBe('R2');
  });

  it('finds a rule in an extension through rule.toolComponent', () => {
    const r = sarif([
      {
        tool: {
          driver: { name: 'codeql', rules: [{ id: 'D0' }] },
          extensions: [
            { name: 'pack', rules: [{ id: 'X0', defaultConfiguration: { level: 'note' } }] },
          ],
        },
        results: [
          { rule: { id: 'X0', index: 0, toolComponent: { index: 0 } }, message: { text: 'm' } },
        ],
      },
    ]);
    expect(r.findings[0]).toMatchObject({ ruleId: 'X0', level: 'note' });
  });

  it('takes severity from security-severity (result or rule), else from the level', () => {
    const r = sarif([
      {
        tool: {
          driver: {
            name: 'trivy',
            rules: [
              { id: 'CVE-1', properties: { 'security-severity': '9.8' } },
              { id: 'CVE-2', properties: { 'security-severity': '7.5' } },
              { id: 'CVE-3', properties: { 'security-severity': '5.0' } },
            ],
          },
        },
        results: [
          { ruleId: 'CVE-1', level: 'warning', message: { text: 'a' } },
          { ruleId: 'CVE-2', message: { text: 'b' } },
          { ruleId: 'CVE-3', properties: { 'security-severity': '2.1' }, message: { text: 'c' } },
          { ruleId: 'lint', level: 'error', message: { text: 'd' } },
          { ruleId: 'lint2', level: 'note', message: { text: 'e' } },
        ],
      },
    ]);
    expect(r.findings.map((f) => f.severity)).toEqual(['critical', 'high', 'low', 'high', 'low']);
  });

  it('fingerprints by partialFingerprints, else by rule + normalized location + snippet', () => {
    const r = sarif([
      {
        tool: { driver: { name: 'a' } },
        results: [
          {
            ruleId: 'X',
            message: { text: 'm' },
            partialFingerprints: { primaryLocationLineHash: 'abc:1' },
            locations: at('src/a.ts', 3),
          },
          {
            ruleId: 'X',
            message: { text: 'moved' },
            partialFingerprints: { primaryLocationLineHash: 'abc:1' },
            locations: at('src/a.ts', 30),
          },
          { ruleId: 'Y', message: { text: 'm' }, locations: at('file:///src/b.ts', 3, 'eval(x)') },
          { ruleId: 'Y', message: { text: 'm' }, locations: at('./src/b.ts', 9, '  eval(x) ') },
          { ruleId: 'Y', message: { text: 'm' }, locations: at('src/b.ts', 9, 'exec(x)') },
        ],
      },
    ]);
    const fp = r.findings.map((f) => f.fingerprint);
    expect(fp[0]).toBe(fp[1]);
    expect(fp[2]).toBe(fp[3]);
    expect(new Set(fp).size).toBe(3);
  });

  it('counts one finding when two scanners report the same fingerprint, keeping the worse severity', () => {
    const a = sarif([
      {
        tool: { driver: { name: 'semgrep' } },
        results: [
          { ruleId: 'sqli', level: 'warning', message: { text: 'x' }, locations: at('db.ts', 4) },
        ],
      },
    ]);
    const b = sarif([
      {
        tool: { driver: { name: 'codeql' } },
        results: [
          { ruleId: 'sqli', level: 'error', message: { text: 'y' }, locations: at('db.ts', 4) },
        ],
      },
    ]);
    const one = dedupeFindings([...a.findings, ...b.findings]);
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ severity: 'high', tools: ['semgrep', 'codeql'] });
    const cmp = compareFindings(b.findings, [
      { fingerprint: a.findings[0]!.fingerprint },
      { fingerprint: 'sha256:gone' },
    ]);
    expect(cmp.existing).toHaveLength(1);
    expect(cmp.new).toHaveLength(0);
    expect(cmp.fixed).toEqual(['sha256:gone']);
  });

  it('keeps baselineState and counts a result suppressed when a suppression is accepted or has no status', () => {
    const r = sarif([
      {
        tool: { driver: { name: 't' } },
        results: [
          {
            ruleId: 'A',
            message: { text: '1' },
            baselineState: 'new',
            suppressions: [{ kind: 'inSource' }],
          },
          {
            ruleId: 'A',
            message: { text: '2' },
            baselineState: 'unchanged',
            suppressions: [{ kind: 'external', status: 'underReview' }],
          },
          {
            ruleId: 'A',
            message: { text: '3' },
            suppressions: [
              { kind: 'external', status: 'rejected' },
              { kind: 'inSource', status: 'accepted' },
            ],
          },
        ],
      },
    ]);
    expect(r.findings.map((f) => f.suppressed)).toEqual([true, false, true]);
    expect(r.figures.suppressed).toBe(2);
    expect(r.figures.baseline).toEqual({ new: 1, unchanged: 1 });
  });

  it('refuses a log the schema refuses, with the JSON pointer of the value', () => {
    const e = refusalOf(
      log([
        {
          tool: { driver: { name: 't' } },
          results: [{ ruleId: 'A', message: { text: 'ok' } }, { ruleId: 'B' }],
        },
      ]),
      'sarif',
    );
    expect(e.code).toBe('EVIDENCE_SCHEMA_INVALID');
    expect(e.pointer).toBe('/runs/0/results/1');
    const level = refusalOf(
      log([
        {
          tool: { driver: { name: 't' } },
          results: [{ ruleId: 'A', level: 'fatal', message: { text: 'x' } }],
        },
      ]),
      'sarif',
    );
    expect(level).toMatchObject({
      code: 'EVIDENCE_SCHEMA_INVALID',
      pointer: '/runs/0/results/0/level',
    });
  });

  it('refuses another SARIF version, and something that is not SARIF at all', () => {
    for (const version of ['2.0.0', '1.0.0', 2.1]) {
      const e = refusalOf(JSON.stringify({ version, runs: [] }), 'sarif', 'old.sarif');
      expect(e).toMatchObject({
        code: 'EVIDENCE_SARIF_VERSION',
        pointer: '/version',
        file: 'old.sarif',
      });
    }
    expect(refusalOf('this is not sarif', 'sarif', 'x.sarif')).toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      line: 1,
      column: 1,
    });
    expect(refusalOf('{"hello": "world"}', 'sarif').code).toBe('EVIDENCE_WRONG_FORMAT');
    expect(refusalOf('<testsuite/>', 'sarif').code).toBe('EVIDENCE_WRONG_FORMAT');
  });
});
