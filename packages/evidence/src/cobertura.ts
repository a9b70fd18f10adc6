import { EvidenceError } from './evidence-error.ts';
import type { EvidenceLimits } from './limits.ts';
import type { CoverageFile, ParsedReport } from './report-types.ts';
import type { ReportSource } from './report-text.ts';
import { walkXml } from './safe-xml.ts';

// Cobertura XML (coverage.py, istanbul, simplecov, JaCoCo converters, gcovr). Lines are the
// <line> children of a class's <lines>: the method-level copies are not counted again.
// Branches come from those lines' `condition-coverage="50% (1/2)"`.
export function parseCobertura(
  text: string,
  src: ReportSource,
  limits: EvidenceLimits,
): ParsedReport {
  const at = { ...src, format: 'cobertura' };
  const byPath = new Map<string, CoverageFile>();
  let lineRate: number | null = null;
  let branchRate: number | null = null;
  let file: CoverageFile | undefined;
  walkXml(text, at, limits, {
    open(el) {
      const depth = el.path.length;
      if (depth === 0) {
        if (el.name !== 'coverage') {
          throw new EvidenceError(
            'EVIDENCE_WRONG_FORMAT',
            `the root element is <${el.name}>, not <coverage>`,
            at,
          );
        }
        lineRate = rate(el.attrs['line-rate']);
        branchRate = rate(el.attrs['branch-rate']);
      } else if (el.name === 'class') {
        const path = el.attrs.filename ?? el.attrs.name ?? '';
        file = byPath.get(path);
        if (!file) {
          file = { path, lines: { found: 0, hit: 0 }, branches: { found: 0, hit: 0 } };
          byPath.set(path, file);
        }
      } else if (
        el.name === 'line' &&
        file &&
        el.path[depth - 1] === 'lines' &&
        el.path[depth - 2] === 'class'
      ) {
        file.lines.found++;
        if (Math.trunc(Number(el.attrs.hits ?? 0)) > 0) file.lines.hit++;
        const cond = /\((\d+)\/(\d+)\)/.exec(el.attrs['condition-coverage'] ?? '');
        if (el.attrs.branch === 'true' && cond) {
          file.branches.hit += Number(cond[1]);
          file.branches.found += Number(cond[2]);
        }
      }
    },
    close(name) {
      if (name === 'class') file = undefined;
    },
  });
  const files = [...byPath.values()];
  const lines = { found: 0, hit: 0 };
  const branches = { found: 0, hit: 0 };
  for (const f of files) {
    lines.found += f.lines.found;
    lines.hit += f.lines.hit;
    branches.found += f.branches.found;
    branches.hit += f.branches.hit;
  }
  return {
    format: 'cobertura',
    file: src.file,
    figures: { lines, branches, files: files.length, lineRate, branchRate },
    files,
  };
}

function rate(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
