import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runModuleTests, runPolicyTests } from './testing.ts';

describe('runPolicyTests', () => {
  it('runs test_ rules and reports pass and fail', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rego-test-'));
    writeFileSync(
      path.join(dir, 'policy.rego'),
      `package ci
deny contains "curl" if {
  some s in input.steps
  contains(s, "curl")
}
test_clean if count(deny) == 0 with input as {"steps": ["make"]}
test_wrong if count(deny) == 0 with input as {"steps": ["curl x | sh"]}
`,
    );
    const outcomes = runPolicyTests(dir);
    expect(outcomes.map((o) => [o.name, o.pass])).toEqual([
      ['data.ci.test_clean', true],
      ['data.ci.test_wrong', false],
    ]);
    expect(outcomes[1]?.reason).toBe('undefined');
  });

  it('stops at a total time budget; the tests not run fail', () => {
    const source = `package slow
test_a if count([x | some x in numbers.range(1, 300000)]) > 0
test_b if true
`;
    const outcomes = runModuleTests([{ name: 'slow.rego', source }], { totalTimeoutMs: 1 });
    expect(outcomes.map((o) => [o.name, o.pass])).toEqual([
      ['data.slow.test_a', true],
      ['data.slow.test_b', false],
    ]);
    expect(outcomes[1]?.reason).toContain('not run');
  });
});
