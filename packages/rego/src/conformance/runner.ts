// Runs OPA conformance cases (YAML files) with OPA's own pass criteria: results are
// compared as a set of binding objects, errors by substring and exact code.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { RegoError } from '../errors.ts';
import { compile } from '../policy.ts';
import { RSet, compare, fromJS, keyOf, toJS, type JSONValue, type Value } from '../value.ts';

export interface ConformanceCase {
  note?: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Record<string, unknown>[];
  want_error?: string;
  want_error_code?: string;
  strict_error?: boolean;
  sort_bindings?: boolean;
  experimental_keywords?: boolean;
}

export interface CaseResult {
  file: string;
  folder: string;
  index: number;
  note: string;
  pass: boolean;
  reason: string;
}

export interface ConformanceSummary {
  passed: number;
  failed: number;
  folders: Record<string, { passed: number; failed: number }>;
  cases: CaseResult[];
}

function listCaseFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else if (/\.(ya?ml|json)$/.test(name)) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/** Big integers are compared as float64, as OPA's case loader reads expected values. */
function normalize(v: Value): Value {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof RSet) return RSet.of(v.values().map(normalize));
  if (v !== null && typeof v === 'object') {
    const o = v.copy();
    for (const [k, x] of v.entries()) o.set(k, normalize(x));
    return o;
  }
  return v;
}

function resultKey(b: Record<string, unknown>, sortBindings: boolean): string {
  const entries = Object.keys(b)
    .sort()
    .map((k) => {
      let v = fromJS(b[k]);
      if (sortBindings && Array.isArray(v)) v = [...v].sort(compare);
      return [k, keyOf(normalize(v))];
    });
  return JSON.stringify(entries);
}

function evalInputTerm(text: string): unknown {
  const p = compile({ modules: [], regoVersion: 'v1' });
  const r = p.query(`conformanceinput = ${text}`).eval({});
  const v = r.results[0]?.values['conformanceinput'];
  if (v === undefined) throw new Error('input_term is undefined');
  return v;
}

export function runCase(
  c: ConformanceCase,
  limits = { maxSteps: 5_000_000, timeoutMs: 10_000 },
): { pass: boolean; reason: string } {
  const wantErr = c.want_error !== undefined || c.want_error_code !== undefined;
  let results: Record<string, JSONValue>[];
  try {
    const policy = compile({
      modules: (c.modules ?? []).map((source, i) => ({ name: `test-${i}.rego`, source })),
      regoVersion: 'v1',
      experimental: c.experimental_keywords ?? false,
    });
    const input = c.input_term !== undefined ? evalInputTerm(c.input_term) : c.input;
    const r = policy.query(c.query).eval({
      ...(c.input !== undefined || c.input_term !== undefined ? { input } : {}),
      data: c.data ?? {},
      strictBuiltinErrors: c.strict_error ?? false,
      ...limits,
    });
    results = r.results.map((x) => x.bindings);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = e instanceof RegoError ? e.code : undefined;
    if (!wantErr) return { pass: false, reason: `unexpected error: ${msg}` };
    if (c.want_error !== undefined && !msg.includes(c.want_error))
      return {
        pass: false,
        reason: `error text ${JSON.stringify(msg)} does not contain ${JSON.stringify(c.want_error)}`,
      };
    if (c.want_error_code !== undefined && code !== c.want_error_code)
      return {
        pass: false,
        reason: `error code ${code ?? 'none'} != ${c.want_error_code} (${msg})`,
      };
    return { pass: true, reason: '' };
  }
  if (wantErr)
    return { pass: false, reason: `expected error, got ${JSON.stringify(results, bigintSafe)}` };
  if (c.want_result === undefined) return { pass: false, reason: 'case has no expectation' };
  const sort = c.sort_bindings ?? false;
  const want = new Set(c.want_result.map((b) => resultKey(b ?? {}, sort)));
  const got = new Set(results.map((b) => resultKey(b, sort)));
  const same = want.size === got.size && [...want].every((k) => got.has(k));
  if (same) return { pass: true, reason: '' };
  return {
    pass: false,
    reason: `result mismatch: want ${JSON.stringify(c.want_result, bigintSafe)}, got ${JSON.stringify(results, bigintSafe)}`,
  };
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

export function loadCases(file: string): ConformanceCase[] {
  const text = readFileSync(file, 'utf8');
  const docs = YAML.parseAllDocuments(text);
  const out: ConformanceCase[] = [];
  for (const d of docs) {
    const v = d.toJS({ maxAliasCount: -1 }) as { cases?: ConformanceCase[] } | null;
    if (v?.cases) out.push(...v.cases);
  }
  return out;
}

export function runConformance(
  dir: string,
  opts: { filter?: (folder: string) => boolean } = {},
): ConformanceSummary {
  const summary: ConformanceSummary = { passed: 0, failed: 0, folders: {}, cases: [] };
  for (const file of listCaseFiles(dir)) {
    const rel = path.relative(dir, file);
    const folder =
      path.dirname(rel) === '.'
        ? path.basename(rel).replace(/\.(ya?ml|json)$/, '')
        : path.dirname(rel);
    if (opts.filter && !opts.filter(folder)) continue;
    let cases: ConformanceCase[];
    try {
      cases = loadCases(file);
    } catch (e) {
      cases = [];
      summary.cases.push({
        file: rel,
        folder,
        index: 0,
        note: '',
        pass: false,
        reason: `cannot load: ${String(e)}`,
      });
      summary.failed++;
    }
    cases.forEach((c, index) => {
      let r: { pass: boolean; reason: string };
      try {
        r = runCase(c);
      } catch (e) {
        r = { pass: false, reason: `runner crash: ${String(e)}` };
      }
      const f = (summary.folders[folder] ??= { passed: 0, failed: 0 });
      if (r.pass) {
        f.passed++;
        summary.passed++;
      } else {
        f.failed++;
        summary.failed++;
      }
      summary.cases.push({
        file: rel,
        folder,
        index,
        note: c.note ?? '',
        pass: r.pass,
        reason: r.reason,
      });
    });
  }
  return summary;
}

export { toJS };
