import { defineConfig } from 'vitest/config'

// Tiers by suffix: *.unit.test.ts (no I/O), *.int.test.ts (real Redis), *.e2e.test.ts (the
// built CLI as a user runs it). One redis-server per run, started by globalSetup.
export default defineConfig({
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    // Hang detectors, not speed targets: long enough for a 2-core machine running several suites
    // at once (load 20-30), where one CLI start takes seconds and fuzz-builtin four times its 24 s.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Two cores: keep file parallelism modest so timing-sensitive integration tests stay calm.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
