import type { Reporter, SerializedError, TestModule } from 'vitest/node';

// Prints the plain closing line `N passed, M failed` that CI reads, after vitest's own summary.
export class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const byDialect = { sqlite: 0, postgres: 0 };
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') {
          if (test.fullName.includes('[sqlite]')) byDialect.sqlite++;
          if (test.fullName.includes('[postgres]')) byDialect.postgres++;
        }
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (mod.state() === 'failed' && mod.children.size === 0) failed++;
    }
    // Store and API suites run once per database; this line shows both really ran.
    process.stdout.write(
      `\ndatabase suites: ${byDialect.sqlite} tests passed on SQLite, ${byDialect.postgres} on PostgreSQL\n`,
    );
    process.stdout.write(
      `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}` +
        `${unhandledErrors.length ? `, ${unhandledErrors.length} unhandled errors` : ''}\n`,
    );
  }
}
