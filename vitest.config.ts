import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Tests start real daemons (dockerd, redis-server, prometheus): generous but bounded.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Fail loudly on any unhandled rejection, which the exporter must never produce.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
