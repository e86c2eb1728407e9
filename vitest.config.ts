import { defineConfig } from 'vitest/config'

// Tiers by suffix: *.unit.test.ts (no I/O), *.int.test.ts (real Redis), *.e2e.test.ts (the
// built CLI as a user runs it). One redis-server per run, started by globalSetup.
export default defineConfig({
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Two cores: keep file parallelism modest so timing-sensitive integration tests stay calm.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
