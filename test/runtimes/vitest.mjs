// Runner for Vitest's VM pools (docs/runtimes.md, "Test runners"): the smoke suite inside a Vitest test
// run by the `vmThreads` pool, whose modules live in a VM context of their own, with the configuration
// the docs give (vitest/vitest.config.mjs). Vitest is the repository's own (its devDependencies).
//   node test/runtimes/vitest.mjs

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportSmokeTest } from './test-runner.mjs';

const DIR = fileURLToPath(new URL('vitest/', import.meta.url));
reportSmokeTest(`vitest-vmthreads-node${process.versions.node.split('.')[0]}`, DIR,
  [join(DIR, '..', '..', '..', 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', DIR, '--config', join(DIR, 'vitest.config.mjs')]);
