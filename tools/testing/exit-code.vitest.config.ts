import { defineConfig } from 'vitest/config';

// The same global setup as the real suite (embedded PostgreSQL included), one failing file.
export default defineConfig({
  test: {
    include: ['tools/testing/fixtures/always-fails.fixture.ts'],
    globalSetup: ['packages/server/src/platform/testing/global-setup.ts'],
    hookTimeout: 120_000,
  },
});
