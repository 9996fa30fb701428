// Builds WebAssembly targets of asconfig.json side by side, one compiler process per core: each
// build is one single-threaded process (most of its time in binaryen's converging optimisation), so a
// 2-core machine builds the four shipped targets in about half the time of one after another.
//
//   node scripts/build-wasm.mjs                  the shipped builds: release, relaxed, scalar, shared
//   node scripts/build-wasm.mjs debug testing    the test-only builds (npm test makes them)

import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each target and the entry file it compiles. */
const ENTRIES = {
  release: 'assembly/index.ts',
  relaxed: 'assembly/index.ts',
  scalar: 'assembly/index.ts',
  shared: 'assembly/shared.ts',
  debug: 'assembly/index.ts',
  testing: 'assembly/testing.ts',
};

const targets = process.argv.length > 2 ? process.argv.slice(2) : ['release', 'relaxed', 'scalar', 'shared'];
for (const target of targets) {
  if (!(target in ENTRIES)) {
    console.error(`build-wasm: unknown target ${JSON.stringify(target)}; known: ${Object.keys(ENTRIES).join(', ')}`);
    process.exit(2);
  }
}

/** Runs asc for one target; resolves with its exit code, its output printed as it comes. */
function build(target) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      fileURLToPath(new URL('../node_modules/assemblyscript/bin/asc.js', import.meta.url)),
      ENTRIES[target], '--config', 'asconfig.json', '--target', target,
    ], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code ?? 1));
    child.on('error', (error) => {
      console.error(`build-wasm: ${target}: ${error.message}`);
      resolve(1);
    });
  });
}

const queue = [...targets];
let failed = false;
const lanes = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
  for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
    const code = await build(target);
    if (code !== 0) {
      console.error(`build-wasm: the ${target} build failed (exit ${code})`);
      failed = true;
    }
  }
});
await Promise.all(lanes);
process.exit(failed ? 1 : 0);
