import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBuiltinFamily } from './families.ts';
import { runConformance } from './runner.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const suite = path.resolve(repoRoot, '../shared/conformance/opa-v1');

describe('OPA conformance suite', () => {
  it('passes >= 95% of all cases and every core-language case', () => {
    const summary = runConformance(suite);
    const total = summary.passed + summary.failed;
    expect(total).toBeGreaterThan(1000);
    // The bar; 1758 of 1759 pass today (the one left needs number literals that keep
    // their source text: sprintf("%v", [2e308])).
    expect(summary.passed / total).toBeGreaterThanOrEqual(0.95);
    const coreFailures = summary.cases.filter((c) => !c.pass && !isBuiltinFamily(c.folder));
    expect(coreFailures.map((c) => `${c.file}#${c.index} ${c.note}: ${c.reason}`)).toEqual([]);
  }, 120_000);
});
