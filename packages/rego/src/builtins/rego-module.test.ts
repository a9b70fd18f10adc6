import { describe, expect, it } from 'vitest';
import { evalError, evalExpr } from './test-eval.ts';

describe('rego.parse_module', () => {
  it("returns OPA's AST JSON", () => {
    const m = evalExpr(
      'rego.parse_module("x.rego", "package foo.bar\\nimport data.a\\np if { a = true }\\nf(x) := x + 1")',
    ) as Record<string, unknown>;
    expect(m['package']).toEqual({
      path: [
        { type: 'var', value: 'data' },
        { type: 'string', value: 'foo' },
        { type: 'string', value: 'bar' },
      ],
    });
    expect(m['imports']).toEqual([
      {
        path: {
          type: 'ref',
          value: [
            { type: 'var', value: 'data' },
            { type: 'string', value: 'a' },
          ],
        },
      },
    ]);
    const [p, f] = m['rules'] as Record<string, Record<string, unknown>>[];
    expect(p?.['head']?.['name']).toBe('p');
    expect(p?.['head']?.['value']).toEqual({ type: 'boolean', value: true });
    expect(p?.['body']).toEqual([
      {
        index: 0,
        terms: [
          { type: 'ref', value: [{ type: 'var', value: 'eq' }] },
          { type: 'var', value: 'a' },
          { type: 'boolean', value: true },
        ],
      },
    ]);
    expect(f?.['head']?.['args']).toEqual([{ type: 'var', value: 'x' }]);
    expect(f?.['head']?.['assign']).toBe(true);
  });
  it('raises parse errors as builtin errors', () => {
    expect(evalError('rego.parse_module("x.rego", "package foo.")')).toContain(
      'rego_parse_error: unexpected eof token: expected ident',
    );
  });
});
