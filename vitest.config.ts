import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PGlite boots a WASM Postgres per file; allow for a slow, shared CI machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time, even on two cores: much of a file's time is waiting (child processes, Chromium, timers).
    maxWorkers: 2,
    // One migrated embedded database per run, which every test file's databases start from.
    globalSetup: ['test/global-setup.ts'],
  },
});
