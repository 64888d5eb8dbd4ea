import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PGlite boots a WASM Postgres per file; allow for a slow, shared CI machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One migrated embedded database per run, which every test file's databases start from.
    globalSetup: ['test/global-setup.ts'],
  },
});
