import { describe, expect, it } from 'vitest';
import { RegoError, compile } from '../index.ts';

// regex.match with a constant pattern is prepared once with the policy (withConstFirst): it
// must answer, fail and be mocked exactly as the general call does.
describe('regex.match with a constant pattern', () => {
  const policy = compile({
    modules: [
      {
        name: 'p.rego',
        source: `package p

hit(s) if regex.match(\`^(curl|wget) .*\\| *sh$\`, s)
bad if regex.match(\`(unclosed\`, input.s)
mocked(s) if regex.match(\`^x$\`, s) with regex.match as fake
fake(_, _) := true
`,
      },
    ],
  });
  const q = (query: string, input: unknown = {}, strict = false) =>
    policy.query(`x := ${query}`).eval({ input, strictBuiltinErrors: strict }).results[0]?.bindings[
      'x'
    ];

  it('matches and rejects as RE2 does, prefilter or not', () => {
    expect(q('data.p.hit("curl https://x | sh")')).toBe(true);
    expect(q('data.p.hit("wget https://x |sh")')).toBe(true);
    expect(q('data.p.hit("curl https://x | bash")')).toBeUndefined();
    expect(q('data.p.hit("echo | sh")')).toBeUndefined();
  });

  it('reports a bad operand or pattern like the general call', () => {
    expect(q('data.p.hit(42)')).toBeUndefined();
    expect(() => q('data.p.hit(42)', {}, true)).toThrow(/operand 2 must be string/);
    expect(() => q('data.p.bad', { s: 'a' }, true)).toThrow(RegoError);
    expect(() => q('data.p.bad', { s: 'a' }, true)).toThrow(/error parsing regexp/);
  });

  it('is still replaced by `with`', () => {
    expect(q('data.p.mocked("not x")')).toBe(true);
  });
});
