import { describe, expect, it } from 'vitest';
import { RegoCompileErrors, RegoError, compile } from './index.ts';

const src = (s: string): { name: string; source: string }[] => [{ name: 'policy.rego', source: s }];

describe('compile and eval', () => {
  it('evaluates a rule against input and data', () => {
    const policy = compile({
      modules: src(`package ci
allow if {
  input.user in data.admins
  not input.blocked
}`),
    });
    const q = policy.query('data.ci.allow');
    expect(q.eval({ input: { user: 'ana' }, data: { admins: ['ana'] } }).defined).toBe(true);
    expect(q.eval({ input: { user: 'bob' }, data: { admins: ['ana'] } }).defined).toBe(false);
  });

  it('returns bindings for query variables, sets as sorted arrays', () => {
    const policy = compile({
      modules: src(`package x\ns contains v if some v in ["b", "a", "b"]`),
    });
    const r = policy.eval({ query: 'data.x.s = out' });
    expect(r.results).toHaveLength(1);
    expect(r.results[0]?.bindings).toEqual({ out: ['a', 'b'] });
  });

  it('keeps integers beyond 2^53 exact', () => {
    const policy = compile({
      modules: src(`package n\np := 9007199254740993 + 2\nq := sprintf("%d", [p])`),
    });
    const r = policy.eval({ query: 'x := data.n' });
    expect(r.results[0]?.values['x']).toBeDefined();
    expect(r.results[0]?.bindings['x']).toEqual({ p: 9007199254740995n, q: '9007199254740995' });
  });

  it('distinguishes undefined from false', () => {
    const policy = compile({ modules: src(`package d\nf := false\nu if false`) });
    expect(policy.eval({ query: 'x := data.d.f' }).results[0]?.bindings).toEqual({ x: false });
    expect(policy.eval({ query: 'x := data.d.u' }).defined).toBe(false);
  });

  it('supports v0 syntax behind the option', () => {
    const policy = compile({
      regoVersion: 'v0',
      modules: src(`package v\np[x] { x := [1, 2][_] }\nq { true }`),
    });
    expect(policy.eval({ query: 'x := data.v' }).results[0]?.bindings).toEqual({
      x: { p: [1, 2], q: true },
    });
  });
});

describe('errors', () => {
  it('reports parse errors with file, line and column', () => {
    let err: unknown;
    try {
      compile({ modules: src('package p\n\nallow if {\n  input.x ==\n}') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegoCompileErrors);
    const e = err as RegoCompileErrors;
    expect(e.code).toBe('rego_parse_error');
    expect(e.location).toEqual({ file: 'policy.rego', row: 5, col: 1 });
    expect(e.message).toMatch(/^policy\.rego:5:1: rego_parse_error/);
  });

  it('refuses unsafe variables with their location', () => {
    expect(() => compile({ modules: src('package p\n\nallow if {\n  x > 1\n}') })).toThrowError(
      /policy\.rego:4:3: rego_unsafe_var_error: var x is unsafe/,
    );
  });

  it('refuses unknown functions and recursion', () => {
    expect(() => compile({ modules: src('package p\nallow if nope(1)') })).toThrowError(
      /undefined function nope/,
    );
    expect(() => compile({ modules: src('package p\na if b\nb if a') })).toThrowError(
      /rego_recursion_error/,
    );
  });

  it('raises conflict errors for complete rules', () => {
    const policy = compile({ modules: src('package c\np := 1\np := 2') });
    expect(() => policy.eval({ query: 'x := data.c.p' })).toThrowError(
      expect.objectContaining({ code: 'eval_conflict_error' }) as Error,
    );
  });

  it('treats builtin errors as undefined unless strict', () => {
    const policy = compile({ modules: src('package b\np := 1 / 0') });
    expect(policy.eval({ query: 'x := data.b.p' }).defined).toBe(false);
    let err: unknown;
    try {
      policy.eval({ query: 'x := data.b.p', strictBuiltinErrors: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegoError);
    expect((err as RegoError).code).toBe('eval_builtin_error');
    expect((err as RegoError).message).toContain('div: divide by zero');
  });

  it('bounds runaway evaluation with a step limit', () => {
    const policy = compile({
      modules: src(
        'package r\np if {\n  some i in numbers.range(1, 100000)\n  some j in numbers.range(1, 100000)\n  i == j + 200000\n}',
      ),
    });
    expect(() => policy.eval({ query: 'data.r.p', maxSteps: 50_000 })).toThrowError(
      expect.objectContaining({ code: 'eval_limit_exceeded' }) as Error,
    );
    expect(() => policy.eval({ query: 'data.r.p', timeoutMs: 20 })).toThrowError(
      /time limit exceeded/,
    );
  });
});
