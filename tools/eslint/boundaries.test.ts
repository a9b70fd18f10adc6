import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'local/boundaries')
    .map((m) => m.message);
}

describe('the layering lint rule', () => {
  it('rejects a deep import into another server module', async () => {
    const found = await violations(
      'packages/server/src/modules/projects/x.ts',
      "import { KyselyRbacStore } from '../identity/rbac-store.ts';\nexport const x = KyselyRbacStore;\n",
    );
    expect(found).toEqual([expect.stringContaining("Deep import into module 'identity'")]);
  });

  it("accepts another module's index.ts and the module's own files", async () => {
    expect(
      await violations(
        'packages/server/src/modules/projects/x.ts',
        "import { identityErrors } from '../identity/index.ts';\nimport { projectErrors } from './errors.ts';\nexport const x = [identityErrors, projectErrors];\n",
      ),
    ).toEqual([]);
  });

  it('rejects platform or app code reaching inside a module', async () => {
    const found = await violations(
      'packages/server/src/app-extra.ts',
      "import { KyselyAuditStore } from './modules/audit/audit-store.ts';\nexport const x = KyselyAuditStore;\n",
    );
    expect(found).toHaveLength(1);
  });

  it('rejects a library package importing server code', async () => {
    expect(
      await violations(
        'packages/ledger/src/x.ts',
        "import { createApp } from '@custody/server';\nexport const x = createApp;\n",
      ),
    ).toEqual([expect.stringContaining("Library package 'ledger'")]);
    expect(
      await violations(
        'packages/rego/src/x.ts',
        "import { x as y } from '../../server/src/app.ts';\nexport const x = y;\n",
      ),
    ).toEqual([expect.stringContaining('relative path')]);
  });

  it('rejects deep imports of another package', async () => {
    expect(
      await violations(
        'packages/cli/src/x.ts',
        "import { createApp } from '@custody/server/src/app.ts';\nexport const x = createApp;\n",
      ),
    ).toEqual([expect.stringContaining('Deep import')]);
  });

  it('rejects default exports', async () => {
    const [result] = await eslint.lintText('const a = 1;\nexport default a;\n', {
      filePath: path.join(root, 'packages/server/src/y.ts'),
    });
    expect(result?.messages.map((m) => m.ruleId)).toContain('no-restricted-syntax');
  });
});
