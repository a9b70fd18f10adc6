import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../platform/testing/test-app.ts';
import { dialects } from '../../platform/testing/test-databases.ts';

const valid = `apiVersion: custody/v1
kind: Project
metadata: { name: innocent }
spec: { description: applied only if the whole manifest is }
---
`;
const project = (name: string, labels: string) => `apiVersion: custody/v1
kind: Project
metadata:
  name: ${name}
  labels:
${labels}
`;
const laughs = project(
  'laughs',
  [
    `    a: &a "lol"`,
    `    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]`,
    `    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]`,
    `    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]`,
    `    e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]`,
  ].join('\n'),
);
// Under the alias count, but one long anchored value aliased 30 times is 30 times its size.
const amplified = project(
  'amplified',
  `    a: &a "${'x'.repeat(200_000)}"\n    b: [${Array(30).fill('*a').join(', ')}]`,
);

for (const dialect of dialects) {
  describe(`manifest limits [${dialect}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => t.close());

    const refused = async (manifest: string, code: string) => {
      const before = await t.app.services.audit.size();
      const res = await t.apply(manifest);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
      // Nothing applied, not even the valid document before the bad one.
      expect(await t.app.services.audit.size()).toBe(before);
      const got = await t.request({ method: 'GET', url: '/api/v1/resources/Project/innocent' });
      expect(got.statusCode).toBe(404);
      return res.json().error as { message: string; details: Record<string, unknown> };
    };

    it('an anchor bomb is refused with RESOURCES_YAML_ALIAS_LIMIT', async () => {
      const err = await refused(valid + laughs, 'RESOURCES_YAML_ALIAS_LIMIT');
      expect(err.details).toMatchObject({ document: 1, limit: 50 });
    });

    it('a long value aliased many times is refused by its expanded size', async () => {
      const err = await refused(valid + amplified, 'RESOURCES_YAML_ALIAS_LIMIT');
      expect(err.details).toMatchObject({ document: 1, limit: 4 * 1024 * 1024 });
    });

    it('circular and unresolved aliases are syntax errors with a line, not 500', async () => {
      const circular = await refused(
        valid + project('loop', '    a: &a [x, *a]'),
        'RESOURCES_YAML_INVALID',
      );
      expect(circular.details.errors).toMatchObject([
        { document: 1, line: 11, message: 'alias *a refers to a node that contains it' },
      ]);
      const dangling = await refused(
        valid + project('dangling', '    a: *nowhere'),
        'RESOURCES_YAML_INVALID',
      );
      expect(dangling.details.errors).toMatchObject([{ document: 1, line: 11 }]);
    });

    it('a collection used as a mapping key is a syntax error (no stringified keys, no warnings)', async () => {
      await refused(valid + project('keys', '    ? [a, b]\n    : c'), 'RESOURCES_YAML_INVALID');
    });

    it('ordinary aliases still apply', async () => {
      const res = await t.apply(project('shared', '    team: &team payments\n    owner: *team'));
      expect(res.statusCode).toBe(200);
      const got = await t.request({ method: 'GET', url: '/api/v1/resources/Project/shared' });
      expect(got.json().inForce.document.metadata.labels).toEqual({
        team: 'payments',
        owner: 'payments',
      });
    });
  });
}
