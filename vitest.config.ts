import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // a summary at the end of the run of the tests skipped for a missing Debian package
    globalSetup: ['test/helpers/capabilities-summary.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // lets the lifecycle test force garbage collection before it measures memory
    execArgv: ['--expose-gc'],
  },
});
