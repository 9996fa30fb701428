import { defineConfig } from 'vitest/config';
import { RELAXED_SIMD_FLAGS } from './scripts/relaxed-simd.mjs';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/**/*.test-d.ts: assertions on the public types, checked by tsc (vitest's typecheck mode), not run.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'tsconfig.json' },
    testTimeout: 60_000,
    pool: 'forks',
    // Lets Node 20 load the relaxed-SIMD build, so the suite runs against every build (test/helpers.ts);
    // none on Node 22 and later, which refuse the flag.
    execArgv: RELAXED_SIMD_FLAGS,
  },
});
