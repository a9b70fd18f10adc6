import { describe, expect, it } from 'vitest';
import { RegoError, compile } from '../index.ts';

function run(expr: string): unknown {
  const policy = compile({
    modules: [{ name: 'g.rego', source: `package g\nx := ${expr}` }],
  });
  return policy.eval({ query: 'x := data.g.x' }).results[0]?.bindings['x'];
}

function runStrict(expr: string): unknown {
  const policy = compile({
    modules: [{ name: 'g.rego', source: `package g\nx := ${expr}` }],
  });
  try {
    policy.eval({ query: 'x := data.g.x', strictBuiltinErrors: true });
  } catch (e) {
    return e;
  }
  return undefined;
}

const schema =
  '`type Query { hero(id: ID!, tags: [String] = ["a"]): Hero } type Hero { name: String }`';

describe('graphql', () => {
  it('parses a query into the gqlparser AST shape', () => {
    expect(
      run(
        'graphql.parse_query(`query Q($id: ID!) { h: hero(id: $id, n: {a: [1, 2.5]}) { name } }`)',
      ),
    ).toEqual({
      Operations: [
        {
          Name: 'Q',
          Operation: 'query',
          VariableDefinitions: [
            { Variable: 'id', Type: { NamedType: 'ID', NonNull: true }, Used: false },
          ],
          SelectionSet: [
            {
              Alias: 'h',
              Name: 'hero',
              Arguments: [
                { Name: 'id', Value: { Kind: 0, Raw: 'id', ExpectedTypeHasDefault: false } },
                {
                  Name: 'n',
                  Value: {
                    Kind: 9,
                    Raw: '',
                    ExpectedTypeHasDefault: false,
                    Children: [
                      {
                        Name: 'a',
                        Value: {
                          Kind: 8,
                          Raw: '',
                          ExpectedTypeHasDefault: false,
                          Children: [
                            {
                              Name: '',
                              Value: { Kind: 1, Raw: '1', ExpectedTypeHasDefault: false },
                            },
                            {
                              Name: '',
                              Value: { Kind: 2, Raw: '2.5', ExpectedTypeHasDefault: false },
                            },
                          ],
                        },
                      },
                    ],
                  },
                },
              ],
              SelectionSet: [{ Alias: 'name', Name: 'name' }],
            },
          ],
        },
      ],
    });
  });

  it('parses a schema, with list types as Elem', () => {
    expect(run(`graphql.parse_schema(${schema})`)).toMatchObject({
      Definitions: [
        {
          Kind: 'OBJECT',
          Name: 'Query',
          BuiltIn: false,
          Fields: [
            {
              Name: 'hero',
              Arguments: [
                { Name: 'id', Type: { NamedType: 'ID', NonNull: true } },
                {
                  Name: 'tags',
                  Type: {
                    NamedType: '',
                    NonNull: false,
                    Elem: { NamedType: 'String', NonNull: false },
                  },
                  DefaultValue: { Kind: 8 },
                },
              ],
            },
          ],
        },
        { Kind: 'OBJECT', Name: 'Hero' },
      ],
    });
  });

  it('validates queries against schemas given as strings or AST objects', () => {
    expect(run(`graphql.is_valid("{ hero(id: 1) { name } }", ${schema})`)).toBe(true);
    expect(run(`graphql.is_valid("{ hero { name } }", ${schema})`)).toBe(false);
    expect(run(`graphql.is_valid("{ villain }", ${schema})`)).toBe(false);
    expect(
      run(
        `graphql.is_valid(graphql.parse_query("{ hero(id: 1) { name } }"), graphql.parse_schema(${schema}))`,
      ),
    ).toBe(true);
    expect(run(`graphql.is_valid(1, ${schema})`)).toBe(false);
  });

  it('round-trips AST objects through parse', () => {
    expect(
      run(
        `graphql.parse(graphql.parse_query("{ hero(id: 1) { name } }"), graphql.parse_schema(${schema})) == [graphql.parse_query("{ hero(id: 1) { name } }"), graphql.parse_schema(${schema})]`,
      ),
    ).toBe(true);
  });

  it('answers parse_and_verify with false and empty objects on failure', () => {
    expect(run(`graphql.parse_and_verify("{ hero { name } }", ${schema})`)).toEqual([
      false,
      {},
      {},
    ]);
    expect(run(`graphql.parse_and_verify("{ hero(id: 2) { name } }", ${schema})[0]`)).toBe(true);
  });

  it('checks schemas like gqlparser: undefined types fail, a missing Query does not', () => {
    expect(run('graphql.schema_is_valid("type A { b: String }")')).toBe(true);
    expect(run('graphql.schema_is_valid("type A { b: Missing }")')).toBe(false);
    expect(run('graphql.schema_is_valid("extend type A { b: String }")')).toBe(true);
    expect(run('graphql.schema_is_valid("union U = A")')).toBe(false);
    // Operations need their root type, as gqlparser's KnownRootType rule demands.
    expect(run('graphql.is_valid("mutation { a }", "type Query { a: Int }")')).toBe(false);
    expect(run('graphql.is_valid("{ a }", "type A { a: Int }")')).toBe(false);
  });

  it("reports syntax and validation errors in gqlparser's words", () => {
    const e1 = runStrict('graphql.parse_schema("type A {}")');
    expect(e1).toBeInstanceOf(RegoError);
    expect((e1 as RegoError).message).toContain(
      'graphql.parse_schema: expected at least one definition, found } in GraphQL string at location 1:9',
    );
    const e2 = runStrict('graphql.parse_query("{ a(x: ) }")');
    expect((e2 as RegoError).message).toContain(
      'graphql.parse_query: Unexpected ) in GraphQL string at location 1:8',
    );
    const e5 = runStrict('graphql.parse_query("{ ...A } fragment A Type { a }")');
    expect((e5 as RegoError).message).toContain(
      'graphql.parse_query: Expected "on", found Name "Type" in GraphQL string at location 1:21',
    );
    const e4 = runStrict('graphql.parse("{ a }", "type Query { a: Nope }")');
    expect((e4 as RegoError).message).toContain(
      'graphql.parse: Error in gqlparser SchemaDocument to Schema conversion: input:1:17: ',
    );
    const e3 = runStrict(`graphql.parse("{ villain }", ${schema})`);
    expect((e3 as RegoError).message).toContain(
      'graphql.parse: Cannot query field "villain" on type "Query" in GraphQL string at location 1:3',
    );
  });
});
