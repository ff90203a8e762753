import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // One real PostgreSQL for the run; each test file makes its own databases on it.
    globalSetup: ['test/support/postgres/global-setup.ts'],
    // Real processes, sockets and fsyncs: give each file its own fork and bound every wait.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/vitest.json' },
  },
});
