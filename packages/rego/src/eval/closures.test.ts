// The compiled closures and their fallbacks to the interpreter must agree with Rego
// semantics on the paths the conformance suite exercises least.
import { describe, expect, it } from 'vitest';
import { builtins, compile, type BuiltinDef } from '../index.ts';

function evalOne(source: string, query: string, input?: unknown): unknown {
  const policy = compile({ modules: [{ name: 'p.rego', source }] });
  const r = policy.eval({ query: `x := ${query}`, input });
  return r.results[0]?.bindings.x;
}

const stages = {
  stages: [
    { name: 'a', steps: [{ run: 'make' }, { run: 'curl x | sh' }] },
    { name: 'b', steps: [{ run: 'curl y | bash' }] },
  ],
};

describe('compiled evaluation', () => {
  it('iterates refs with unbound variables, binding keys in order', () => {
    const src = `package p
pairs contains [i, j] if { s := input.stages[i].steps[j]; startswith(s.run, "curl") }`;
    expect(evalOne(src, 'data.p.pairs', stages)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('compares a bound variable against an iterating ref', () => {
    const src = `package p
found if { n := "b"; n = input.stages[_].name }
missing if { n := "z"; n = input.stages[_].name }`;
    expect(evalOne(src, 'data.p.found', stages)).toBe(true);
    expect(evalOne(src, 'data.p.missing', stages)).toBeUndefined();
  });

  it('builds comprehensions and checks every', () => {
    const src = `package p
names := [s.name | some s in input.stages]
counts := {s.name: count(s.steps) | some s in input.stages}
all_have_steps if every s in input.stages { count(s.steps) > 0 }
all_curl if every s in input.stages { some st in s.steps; startswith(st.run, "curl") }
none_make if every s in input.stages { every st in s.steps { st.run != "make" } }`;
    expect(evalOne(src, 'data.p.names', stages)).toEqual(['a', 'b']);
    expect(evalOne(src, 'data.p.counts', stages)).toEqual({ a: 2, b: 1 });
    expect(evalOne(src, 'data.p.all_have_steps', stages)).toBe(true);
    expect(evalOne(src, 'data.p.all_curl', stages)).toBe(true);
    expect(evalOne(src, 'data.p.none_make', stages)).toBeUndefined();
  });

  it('calls functions with several definitions, defaults and else', () => {
    const src = `package p
default kind(_) := "other"
kind(x) := "small" if x < 10
kind(x) := "big" if x >= 100
sign(x) := "neg" if { x < 0 } else := "zero" if { x == 0 } else := "pos"
out := [kind(1), kind(50), kind(500), sign(-1), sign(0), sign(3)]`;
    expect(evalOne(src, 'data.p.out')).toEqual(['small', 'other', 'big', 'neg', 'zero', 'pos']);
  });

  it('reports conflicting values of a complete rule', () => {
    const src = `package p
v := x if some x in [1, 2]`;
    expect(() => evalOne(src, 'data.p.v')).toThrowError(/complete rules/);
  });

  it('still calls a replaced comparison builtin', () => {
    const calls: string[] = [];
    const base = builtins.equal as BuiltinDef;
    const policy = compile({
      modules: [{ name: 'p.rego', source: 'package p\nok if input.a == 1' }],
      builtins: {
        equal: { ...base, fn: (a, ctx) => (calls.push('equal'), base.fn(a, ctx)) },
      },
    });
    expect(policy.eval({ query: 'data.p.ok', input: { a: 1 } }).defined).toBe(true);
    expect(calls).toEqual(['equal']);
  });

  it('honours with: mocked functions and replaced input', () => {
    const src = `package p
f(x) := x + 1
g := f(1)
t1 := y if { y := g with f as 10 }
t2 := y if { y := input.a with input.a as 7 }`;
    expect(evalOne(src, 'data.p.t1')).toBe(10);
    expect(evalOne(src, 'data.p.t2', { a: 1 })).toBe(7);
  });

  it('stops runaway evaluation by steps and by time', () => {
    const policy = compile({
      modules: [
        {
          name: 'p.rego',
          source:
            'package p\nloop if { some a in input.xs; some b in input.xs; some c in input.xs; false }',
        },
      ],
    });
    const input = { xs: Array.from({ length: 300 }, (_, i) => i) };
    const code = (opts: { maxSteps?: number; timeoutMs?: number }): unknown => {
      try {
        policy.eval({ query: 'data.p.loop', input, ...opts });
        return 'finished';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(code({ maxSteps: 10_000 })).toBe('eval_limit_exceeded');
    expect(code({ timeoutMs: 5 })).toBe('eval_limit_exceeded');
  });
});
