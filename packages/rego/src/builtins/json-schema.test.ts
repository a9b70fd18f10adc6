import { describe, expect, it } from 'vitest';
import { RegoError, compile } from '../index.ts';

function run(expr: string, strict = false): unknown {
  const policy = compile({
    modules: [{ name: 'j.rego', source: `package j\nx := ${expr}` }],
  });
  return policy.eval({ query: 'x := data.j.x', strictBuiltinErrors: strict }).results[0]?.bindings[
    'x'
  ];
}

const schema = `{"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string", "minLength": 2}}}}`;

describe('json schema', () => {
  it('verifies schemas given as objects or JSON text', () => {
    expect(run(`json.verify_schema(${schema})`)).toEqual([true, null]);
    expect(run('json.verify_schema(`{"type": "string"}`)')).toEqual([true, null]);
    expect(run('json.verify_schema({"type": "nope"})')).toEqual([
      false,
      'jsonschema: has a primitive type that is NOT VALID -- given: /nope/ Expected valid values are:[array boolean integer number null object string]',
    ]);
  });

  it('words schema keyword errors as gojsonschema does', () => {
    expect(run('json.verify_schema({"minimum": "a"})')).toEqual([
      false,
      'jsonschema: minimum must be of a number',
    ]);
    expect(run('json.verify_schema({"minLength": -1})')).toEqual([
      false,
      'jsonschema: minLength must be greater than or equal to 0',
    ]);
  });

  it('matches documents and reports errors with gojsonschema fields', () => {
    expect(run(`json.match_schema({"id": 1, "tags": ["ab"]}, ${schema})`)).toEqual([true, []]);
    expect(run(`json.match_schema({"tags": ["ab", "c"]}, ${schema})`)).toEqual([
      false,
      [
        {
          error: '(root): id is required',
          type: 'required',
          field: '(root)',
          desc: 'id is required',
        },
        {
          error: 'tags.1: String length must be greater than or equal to 2',
          type: 'string_gte',
          field: 'tags.1',
          desc: 'String length must be greater than or equal to 2',
        },
      ],
    ]);
  });

  it('raises a builtin error when matching against an invalid schema', () => {
    expect(() => run('json.match_schema({}, {"type": "nope"})', true)).toThrow(RegoError);
    expect(run('json.match_schema({}, {"type": "nope"})')).toBeUndefined();
    expect(() => run('json.match_schema("{", {})', true)).toThrow(/invalid JSON string/);
    expect(run('json.verify_schema(1)')).toEqual([
      false,
      'jsonschema: wrong type, expected string or object',
    ]);
  });
});
