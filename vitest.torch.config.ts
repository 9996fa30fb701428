import { defineConfig } from 'vitest/config';
import { RELAXED_SIMD_FLAGS } from './scripts/relaxed-simd.mjs';

// The differential suite against PyTorch (test/torch/, issue 24): `npm run test:torch`. Kept out of
// `npm test` (vitest.config.ts includes test/**/*.test.ts only) because it needs Debian's python3-torch
// and python3-scipy; .ci/run installs them.
export default defineConfig({
  test: {
    include: ['test/torch/**/*.check.ts'],
    // Generating the truth (PyTorch) takes a few seconds at import; each test runs ~200-400 cases.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Lets Node 20 load the relaxed-SIMD build, so the suite runs against every build (test/helpers.ts);
    // none on Node 22 and later, which refuse the flag.
    execArgv: RELAXED_SIMD_FLAGS,
  },
});
