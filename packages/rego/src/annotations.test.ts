import { describe, expect, it } from 'vitest';
import { compile } from './index.ts';

const run = (src: string, query: string): unknown =>
  compile({ modules: [{ name: 'm.rego', source: src }] }).eval({ query: `x := ${query}` })
    .results[0]?.bindings['x'];

const SRC = `# METADATA
# title: Pkg
# scope: package
package a.b

# METADATA
# title: Rule p
# authors:
# - Jane Doe <jane@example.com>
# - Bob
# related_resources:
# - https://example.com
p := rego.metadata.rule()

# METADATA
# title: Doc q
# scope: document
q := rego.metadata.chain()

r := rego.metadata.rule()
`;

describe('METADATA annotations', () => {
  it('resolves rego.metadata.rule() to the rule-scope annotation', () => {
    expect(run(SRC, 'data.a.b.p')).toEqual({
      scope: 'rule',
      title: 'Rule p',
      authors: [{ name: 'Jane Doe', email: 'jane@example.com' }, { name: 'Bob' }],
      related_resources: [{ ref: 'https://example.com' }],
    });
    expect(run(SRC, 'data.a.b.r')).toEqual({});
  });
  it('builds the chain from rule to document to package', () => {
    expect(run(SRC, 'data.a.b.q')).toEqual([
      { path: ['a', 'b', 'q'] },
      { path: ['a', 'b', 'q'], annotations: { scope: 'document', title: 'Doc q' } },
      { path: ['a', 'b'], annotations: { scope: 'package', title: 'Pkg' } },
    ]);
  });
  it('reports bad YAML as a parse error', () => {
    expect(() => run('package x\n\n# METADATA\n# title: [\np := 1\n', 'data.x.p')).toThrow(
      /rego_parse_error/,
    );
  });
});
