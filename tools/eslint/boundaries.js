// Layering rule: fails lint on an import that crosses a package or module boundary.
// Rules (docs/architecture.md):
//  - server modules are sealed: only `modules/<name>/index.ts` may be imported from outside <name>;
//  - library packages (evidence, ledger, masking, rego) import nothing from other workspace packages;
//  - runner and cli reach server code only through the `@custody/server` entry point;
//  - nothing imports another package by relative path (`../../server/src/...`).
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const libraries = new Set(['evidence', 'ledger', 'masking', 'rego']);

function packageOf(file) {
  const rel = path.relative(path.join(root, 'packages'), file);
  if (rel.startsWith('..')) return undefined;
  return rel.split(path.sep)[0];
}

function moduleOf(file) {
  const m = /packages[\\/]server[\\/]src[\\/]modules[\\/]([^\\/]+)[\\/]/.exec(file);
  return m ? m[1] : undefined;
}

function check(context, node, spec) {
  if (typeof spec !== 'string') return;
  const file = context.filename;
  const fromPkg = packageOf(file);
  if (spec.startsWith('@custody/')) {
    const target = spec.slice('@custody/'.length);
    if (target.includes('/')) {
      context.report({
        node,
        message: `Deep import '${spec}': import the package entry '@custody/${target.split('/')[0]}' only.`,
      });
      return;
    }
    if (fromPkg && libraries.has(fromPkg)) {
      context.report({
        node,
        message: `Library package '${fromPkg}' must not depend on '${spec}'.`,
      });
    }
    if (fromPkg === 'web' && target === 'server') {
      context.report({
        node,
        message: `The web UI must not import server internals ('${spec}'); use the API.`,
      });
    }
    return;
  }
  if (!spec.startsWith('.')) return;
  const resolved = path.resolve(path.dirname(file), spec);
  const toPkg = packageOf(resolved);
  if (fromPkg && toPkg && fromPkg !== toPkg) {
    context.report({
      node,
      message: `Import of package '${toPkg}' by relative path; use '@custody/${toPkg}'.`,
    });
    return;
  }
  const toModule = moduleOf(resolved + path.sep) ?? moduleOf(resolved);
  const fromModule = moduleOf(file);
  if (toModule && toModule !== fromModule) {
    const inside = path.relative(
      path.join(root, 'packages/server/src/modules', toModule),
      resolved,
    );
    if (inside !== 'index.js' && inside !== 'index.ts' && inside !== 'index' && inside !== '') {
      context.report({
        node,
        message: `Deep import into module '${toModule}' ('${spec}'): import '${toModule}/index.ts' instead.`,
      });
    }
  }
}

export const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce package and module boundaries' },
    schema: [],
  },
  create(context) {
    const visit = (node) => check(context, node, node.source && node.source.value);
    return {
      ImportDeclaration: visit,
      ExportNamedDeclaration: visit,
      ExportAllDeclaration: visit,
      ImportExpression: (node) =>
        check(context, node, node.source.type === 'Literal' ? node.source.value : undefined),
    };
  },
};
