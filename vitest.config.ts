import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/**/*.test-d.ts: assertions on the public types, checked by tsc (vitest's typecheck mode), not run.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'tsconfig.json' },
    testTimeout: 60_000,
    pool: 'forks',
    // Lets Node 20 load the relaxed-SIMD build, so the suite runs against every build (test/helpers.ts).
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
