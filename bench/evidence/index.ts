// Evidence ingest: a 100,000-case JUnit file and a 50,000-result SARIF file (deduplicated
// against 50,000 findings already known), each parsed by @custody/evidence, against the bare
// XML parse (saxes, no handlers) and JSON.parse of the same bytes in the same run.
// Targets (issue 13): JUnit ≤ 2 s, SARIF ≤ 3 s, peak memory ≤ 10× the file size.
//
// Each measurement runs in its own process so that its peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { SaxesParser } from 'saxes';
import { compareFindings, parseReport } from '@custody/evidence';

function junitFile(cases: number): Buffer {
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'];
  const perSuite = 1000;
  for (let s = 0; s < cases / perSuite; s++) {
    parts.push(
      `<testsuite name="com.acme.Suite${s}" tests="${perSuite}" time="12.5">\n<properties><property name="java.version" value="21"/></properties>\n`,
    );
    for (let i = 0; i < perSuite; i++) {
      const n = s * perSuite + i;
      const head = `<testcase name="case${n}()" classname="com.acme.Suite${s}" time="0.0${n % 10}"`;
      if (n % 50 === 0)
        parts.push(
          `${head}><failure message="expected: &lt;${n}&gt; but was: &lt;0&gt;" type="AssertionError">at com.acme.Suite${s}.case${n}(Suite${s}.java:${n % 300})</failure></testcase>\n`,
        );
      else if (n % 97 === 0) parts.push(`${head}><skipped message="disabled"/></testcase>\n`);
      else parts.push(`${head}/>\n`);
    }
    parts.push('<system-out><![CDATA[done]]></system-out>\n</testsuite>\n');
  }
  parts.push('</testsuites>\n');
  return Buffer.from(parts.join(''));
}

function result(i: number) {
  const rule = `rule-${i % 200}`;
  return {
    ruleId: rule,
    ruleIndex: i % 200,
    message: { text: `Possible issue number ${i} in the handling of untrusted input` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: `src/module${i % 500}/file${i}.ts`, uriBaseId: 'SRCROOT' },
          region: {
            startLine: (i % 900) + 1,
            startColumn: 5,
            snippet: { text: `const value${i} = input[${i}];` },
          },
        },
      },
    ],
    ...(i % 2 === 0
      ? { partialFingerprints: { primaryLocationLineHash: `${(i * 2654435761) % 2 ** 32}:1` } }
      : {}),
  };
}

function sarifFile(results: number): Buffer {
  const rules = Array.from({ length: 200 }, (_, r) => ({
    id: `rule-${r}`,
    shortDescription: { text: `Rule ${r}` },
    defaultConfiguration: { level: r % 3 === 0 ? 'error' : 'warning' },
    properties: r % 5 === 0 ? { 'security-severity': `${(r % 10) + 0.5}` } : {},
  }));
  const log = {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: 'bench-scanner', rules } },
        results: Array.from({ length: results }, (_, i) => result(i)),
      },
    ],
  };
  return Buffer.from(JSON.stringify(log));
}

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

// In a child: build the file, then time one operation and report its peak RSS above the
// RSS it had with the file in memory.
function child(mode: string): void {
  const bytes = mode.startsWith('junit') ? junitFile(100_000) : sarifFile(50_000);
  const known =
    mode === 'sarif'
      ? (() => {
          // 50,000 findings already known: half of them are the file's even results.
          const r = parseReport({ bytes: sarifFile(50_000), fileName: 'known.sarif' });
          return r.format === 'sarif'
            ? r.findings.map((f, i) => ({
                fingerprint: i % 2 === 0 ? f.fingerprint : `sha256:old${i}`,
              }))
            : [];
        })()
      : [];
  global.gc?.();
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  let detail = '';
  if (mode === 'junit') {
    const r = parseReport({ bytes, fileName: 'junit.xml', format: 'junit' });
    if (r.format === 'junit')
      detail = `tests=${r.figures.tests} failures=${r.figures.failures} skipped=${r.figures.skipped}`;
  } else if (mode === 'junit-baseline') {
    const p = new SaxesParser();
    p.write(bytes.toString('utf8')).close();
  } else if (mode === 'sarif') {
    const r = parseReport({ bytes, fileName: 'scan.sarif', format: 'sarif' });
    if (r.format === 'sarif') {
      const cmp = compareFindings(r.findings, known);
      detail = `results=${r.figures.results} new=${cmp.new.length} existing=${cmp.existing.length} fixed=${cmp.fixed.length}`;
    }
  } else {
    JSON.parse(bytes.toString('utf8'));
  }
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    JSON.stringify({ ms, size: bytes.length, peakAbove: Math.max(0, peak - before), detail }),
  );
}

function measure(mode: string): { ms: number; size: number; peakAbove: number; detail: string } {
  const runs: { ms: number; size: number; peakAbove: number; detail: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', import.meta.filename, mode],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
    runs.push(JSON.parse(r.stdout));
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1]!;
}

if (process.argv[2]) child(process.argv[2]);
else {
  let failed = false;
  for (const [name, mode, baseline, targetMs] of [
    ['JUnit 100,000 cases', 'junit', 'junit-baseline', 2000],
    ['SARIF 50,000 results + dedupe vs 50,000', 'sarif', 'sarif-baseline', 3000],
  ] as const) {
    const m = measure(mode);
    const b = measure(baseline);
    const memory = m.peakAbove / m.size;
    const ok = m.ms <= targetMs && memory <= 10;
    failed ||= !ok;
    console.log(
      `evidence ${name}: ${(m.ms / 1000).toFixed(2)} s for ${mib(m.size)} MiB (${m.detail}); ` +
        `bare ${baseline.startsWith('junit') ? 'saxes parse' : 'JSON.parse'} ${(b.ms / 1000).toFixed(2)} s; ratio ${(m.ms / b.ms).toFixed(2)}x; ` +
        `peak memory +${mib(m.peakAbove)} MiB = ${memory.toFixed(1)}x the file (target ≤ ${targetMs / 1000} s, ≤ 10x) ${ok ? 'MET' : 'NOT MET'}`,
    );
  }
  process.exit(failed ? 1 : 0);
}
