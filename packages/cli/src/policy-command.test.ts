import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { custody } from './testing/cli-process.ts';

describe('custody policy', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custody-policy-'));
  writeFileSync(
    path.join(dir, 'pipeline.rego'),
    `package pipeline

import rego.v1

deny contains msg if {
  some stage in input.stages
  stage.environment == "prod"
  not stage.approvals
  msg := sprintf("stage %s deploys to prod without approvals", [stage.name])
}
`,
  );
  writeFileSync(
    path.join(dir, 'pipeline_test.rego'),
    `package pipeline_test

import rego.v1

test_unapproved_prod_denied if {
  count(data.pipeline.deny) == 1 with input as {"stages": [{"name": "d", "environment": "prod"}]}
}

test_deliberately_wrong if {
  count(data.pipeline.deny) == 5 with input as {"stages": []}
}
`,
  );
  writeFileSync(
    path.join(dir, 'input.json'),
    JSON.stringify({ stages: [{ name: 'deploy', environment: 'prod' }] }),
  );

  it('evaluates a query against policy and input files', () => {
    const r = custody([
      'policy',
      'eval',
      '--data',
      path.join(dir, 'pipeline.rego'),
      '--input',
      path.join(dir, 'input.json'),
      '--output',
      'json',
      'data.pipeline.deny',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results[0].value).toEqual([
      'stage deploy deploys to prod without approvals',
    ]);
  });

  it('refuses a policy that does not compile, with line and column', () => {
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'custody-policy-bad-')), 'bad.rego');
    writeFileSync(bad, 'package bad\n\nallow if {\n  x == 1\n}\n');
    const r = custody(['policy', 'eval', '--data', bad, 'data.bad.allow']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.rego:4:\d+/);
    expect(r.stderr).toMatch(/unsafe|var x/i);
  });

  it('runs test_ rules and reports pass and fail per test', () => {
    const r = custody(['policy', 'test', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/PASS.*test_unapproved_prod_denied/);
    expect(r.stdout).toMatch(/FAIL.*test_deliberately_wrong/);
  });
});
