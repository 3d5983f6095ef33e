import { defineConfig } from 'vitest/config';

// Three projects so that pure unit tests never wait for servers. Anything that loads the Temporal
// worker runs in forked processes (native core bridge); servers start once per run in globalSetup.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'workflow', include: ['test/workflow/**/*.test.ts'], globalSetup: ['test/support/setup-workflow.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/setup-services.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
