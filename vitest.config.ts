import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts the real registries once per run (see test/setup/global-setup.ts).
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Child processes (skopeo, registries) and sockets behave more predictably in forks than in worker threads.
    pool: 'forks',
  },
});
