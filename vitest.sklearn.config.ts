import { defineConfig } from 'vitest/config';
import { RELAXED_SIMD_FLAGS } from './scripts/relaxed-simd.mjs';

// The agreement suite against scikit-learn (test/sklearn/, issue 26): `npm run test:sklearn`. Kept out of
// `npm test` (vitest.config.ts includes test/**/*.test.ts only) because it needs Debian's python3-sklearn;
// .ci/run installs it.
export default defineConfig({
  test: {
    include: ['test/sklearn/**/*.check.ts'],
    // Generating the truth (scikit-learn) takes several seconds at import.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Lets Node 20 load the relaxed-SIMD build, so the multiclass cases run on every build (test/helpers.ts);
    // none on Node 22 and later, which refuse the flag.
    execArgv: RELAXED_SIMD_FLAGS,
  },
});
