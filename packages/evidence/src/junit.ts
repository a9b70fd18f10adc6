import { EvidenceError } from './evidence-error.ts';
import type { EvidenceLimits } from './limits.ts';
import type { JunitFigures, ParsedReport, TestCase, TestOutcome } from './report-types.ts';
import type { ReportSource } from './report-text.ts';
import { walkXml } from './safe-xml.ts';

const maxMessage = 4000;
// Surefire's markers of a test that failed and then passed on a rerun; rerunFailure sits
// beside a <failure> (it failed every time) and changes nothing.
const flakyChildren = new Set(['flakyFailure', 'flakyError']);
const rank: Record<TestOutcome, number> = { passed: 0, skipped: 1, failed: 2, error: 3 };

// Counts from the <testcase> elements wherever they sit (suites' count attributes often
// disagree with them). A case's bucket comes from its direct children: <error>, else
// <failure>, else <skipped>, else passed.
export function parseJunit(text: string, src: ReportSource, limits: EvidenceLimits): ParsedReport {
  const at = { ...src, format: 'junit' };
  const cases: TestCase[] = [];
  const suites: string[] = [];
  const suiteFiles: (string | undefined)[] = [];
  let suiteCount = 0;
  let current: TestCase | undefined;
  let caseDepth = -1;
  let capture: string | undefined;
  walkXml(text, at, limits, {
    open(el) {
      if (el.path.length === 0 && el.name !== 'testsuites' && el.name !== 'testsuite') {
        throw new EvidenceError(
          'EVIDENCE_WRONG_FORMAT',
          `the root element is <${el.name}>, not <testsuites> or <testsuite>`,
          at,
        );
      }
      if (el.name === 'testsuite') {
        suiteCount++;
        suites.push(el.attrs.name ?? '');
        suiteFiles.push(el.attrs.file ?? el.attrs.filepath);
      } else if (el.name === 'testcase') {
        current = newCase(el.attrs, suites.at(-1), suiteFiles.at(-1));
        caseDepth = el.path.length;
      } else if (current && el.path.length === caseDepth + 1) {
        childOf(current, el.name, el.attrs);
        if (el.name === 'failure' || el.name === 'error' || el.name === 'skipped') {
          capture = current.message === undefined ? '' : undefined;
        }
      }
    },
    text(chunk) {
      if (capture !== undefined && capture.length < maxMessage) capture += chunk;
    },
    close(name, path) {
      if (name === 'testsuite') {
        suites.pop();
        suiteFiles.pop();
      } else if (name === 'testcase' && current && path.length === caseDepth) {
        cases.push(current);
        current = undefined;
      } else if (capture !== undefined && current && path.length === caseDepth + 1) {
        const message = capture.trim();
        if (message) current.message = message.slice(0, maxMessage);
        capture = undefined;
      }
    },
  });
  return { format: 'junit', file: src.file, figures: figuresOf(cases, suiteCount), cases };
}

function newCase(
  attrs: Readonly<Record<string, string>>,
  suite: string | undefined,
  suiteFile: string | undefined,
): TestCase {
  const c: TestCase = { name: attrs.name ?? '', outcome: 'passed', flaky: false };
  if (attrs.classname) c.className = attrs.classname;
  const file = attrs.file ?? attrs.filepath ?? suiteFile;
  if (file) c.file = file;
  if (suite) c.suite = suite;
  const ms = seconds(attrs.time);
  if (ms !== undefined) c.durationMs = ms;
  return c;
}

function childOf(c: TestCase, name: string, attrs: Readonly<Record<string, string>>): void {
  const outcome: TestOutcome | undefined =
    name === 'error'
      ? 'error'
      : name === 'failure'
        ? 'failed'
        : name === 'skipped'
          ? 'skipped'
          : undefined;
  if (outcome) {
    if (rank[outcome] > rank[c.outcome]) {
      c.outcome = outcome;
      // The message of the deciding child wins.
      delete c.message;
    }
    if (c.message === undefined && attrs.message) c.message = attrs.message.slice(0, maxMessage);
  } else if (flakyChildren.has(name)) c.flaky = true;
}

// "1.234", "1,234.5" (some locales' writers), or absent.
function seconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/,/g, ''));
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 1000 * 1000) / 1000 : undefined;
}

function figuresOf(cases: TestCase[], suites: number): JunitFigures {
  const f: JunitFigures = {
    tests: cases.length,
    passed: 0,
    failures: 0,
    errors: 0,
    skipped: 0,
    flaky: 0,
    suites,
    durationMs: 0,
  };
  for (const c of cases) {
    if (c.outcome === 'passed') f.passed++;
    else if (c.outcome === 'failed') f.failures++;
    else if (c.outcome === 'error') f.errors++;
    else f.skipped++;
    if (c.flaky) f.flaky++;
    f.durationMs += c.durationMs ?? 0;
  }
  f.durationMs = Math.round(f.durationMs);
  return f;
}
