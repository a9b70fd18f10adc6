import { describe, expect, it } from 'vitest';
import { evaluateRules, intentHash, type DeploymentIntent } from './approval-rules.ts';

const rules = [
  { name: 'release', group: 'release-managers', required: 1 },
  { name: 'qa', group: 'qa', required: 1 },
];

describe('deployment approval rules', () => {
  it('needs every rule; a person in both groups counts once', () => {
    const carol = { principal: 'user:carol', groups: ['release-managers', 'qa'] };
    const one = evaluateRules(rules, [carol]);
    expect(one.met).toBe(false);
    expect(one.rules.map((r) => r.missing).reduce((a, b) => a + b)).toBe(1);
    const dave = { principal: 'user:dave', groups: ['release-managers'] };
    // carol must move to the QA slot so that dave can fill the release slot.
    const two = evaluateRules(rules, [carol, dave]);
    expect(two.met).toBe(true);
    expect(two.rules.find((r) => r.name === 'qa')!.counted).toEqual(['user:carol']);
    expect(two.rules.find((r) => r.name === 'release')!.counted).toEqual(['user:dave']);
  });

  it('counts required numbers and named users', () => {
    const r = [{ name: 'two-leads', users: ['ann', 'user:ben', 'cid'], required: 2 }];
    expect(evaluateRules(r, [{ principal: 'user:ann', groups: [] }]).met).toBe(false);
    expect(
      evaluateRules(r, [
        { principal: 'user:ann', groups: [] },
        { principal: 'user:ben', groups: [] },
      ]).met,
    ).toBe(true);
    expect(evaluateRules(r, [{ principal: 'user:zed', groups: [] }]).rules[0]!.missing).toBe(2);
  });

  it('binds to every field of the intent', () => {
    const base: DeploymentIntent = {
      pipeline: { project: 'shop', name: 'release', version: 1, contentHash: 'sha256:aa' },
      artifacts: [{ name: 'app', digest: 'sha256:01' }],
      environment: 'shop/production',
      inputs: { reason: 'routine' },
      commit: 'abc1234',
    };
    const h = intentHash(base);
    expect(intentHash({ ...base })).toBe(h);
    expect(intentHash({ ...base, artifacts: [{ name: 'app', digest: 'sha256:02' }] })).not.toBe(h);
    expect(intentHash({ ...base, inputs: { reason: 'other' } })).not.toBe(h);
    expect(intentHash({ ...base, commit: 'abc1235' })).not.toBe(h);
    expect(intentHash({ ...base, environment: 'shop/qa' })).not.toBe(h);
    expect(
      intentHash({ ...base, pipeline: { ...base.pipeline, contentHash: 'sha256:bb' } }),
    ).not.toBe(h);
  });
});
