import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPolicyTests } from './testing.ts';

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
});
