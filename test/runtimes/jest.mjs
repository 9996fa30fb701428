// Runner for Jest 30 (docs/runtimes.md, "Test runners"): the smoke suite inside a Jest test, in Jest's
// module system (its own loader and resolver, its `require` and `createRequire`), with Node's VM
// modules, as Jest runs ES modules. One variant per run:
//   require  a CommonJS test that requires xentropy (Jest does require(esm) from Node 24.9)
//   import   an ES module test that imports it
//   module   the same with the `module` export condition, which Jest before Node 24.9 needs (the node
//            entry loads its parts with require(), which Jest has not there; `module` gives the entry
//            point that imports them)
//   <node 24> test/runtimes/jest.mjs require

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportSmokeTest } from './test-runner.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const variant = process.argv[2];
const configs = {
  require: { testMatch: ['**/jest/smoke.test.cjs'] },
  import: { testMatch: ['**/jest/smoke.test.mjs'] },
  module: { testMatch: ['**/jest/smoke.test.mjs'], testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', 'module'] } },
};
if (!configs[variant]) throw new Error(`jest.mjs: the variant must be one of ${Object.keys(configs).join(', ')}, got ${JSON.stringify(variant)}`);

const config = { rootDir: HERE, cacheDirectory: '{scratch}/cache', ...configs[variant] };
reportSmokeTest(`jest-node${process.versions.node.split('.')[0]}-${variant}`, HERE,
  ['--experimental-vm-modules', join(HERE, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--config', JSON.stringify(config)]);
