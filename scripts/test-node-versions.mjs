#!/usr/bin/env node
// The unit suite (npm test's `vitest run`) under Node 22 and 24 as well, the versions users run: on
// them init() picks the relaxed-SIMD build, the suite starts without V8's relaxed-SIMD flag (which they
// refuse), and V8 sizes its heap in its own ways. Both come from npm, with the runtime matrix
// (test/runtimes/package.json): `npm run test:node-versions` installs them first; .ci/run calls it.
//
//   node scripts/test-node-versions.mjs [VITEST ARGS]   e.g. test/soak.test.ts to run one file

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Each Node, by the name test/runtimes/package.json installs it under. */
const NODES = [['Node 22', 'node'], ['Node 24', 'node24']];
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

let failed = 0;
for (const [label, pkg] of NODES) {
  const bin = join(ROOT, 'test', 'runtimes', 'node_modules', pkg, 'bin');
  if (!existsSync(join(bin, 'node'))) {
    console.error(`${label} is not installed: npm --prefix test/runtimes install`);
    process.exit(2);
  }
  const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n== the unit suite under ${label} (${version})`);
  // That Node first on PATH too, so that what the suite starts by name (npm pack, node) runs on it.
  const run = spawnSync(join(bin, 'node'), [vitest, 'run', ...process.argv.slice(2)], {
    cwd: ROOT, stdio: 'inherit', env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
  });
  if (run.status !== 0) {
    console.error(`the unit suite failed under ${label} (${version}): exit status ${run.status}`);
    failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
