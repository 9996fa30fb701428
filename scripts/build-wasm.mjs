// Builds WebAssembly targets of asconfig.json side by side, one compiler process per core: each
// build is one single-threaded process (most of its time in binaryen's optimisation), so a 2-core
// machine builds the four shipped targets in about half the time of one after another.
//
//   node scripts/build-wasm.mjs                  the shipped builds: release, relaxed, scalar, shared
//   node scripts/build-wasm.mjs debug testing    the test-only builds (npm test makes them)
//
// scripts/build.mjs (npm run build, prepare) runs these jobs and tsc in the same lanes.

import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

/** The targets the package ships (dist/), longest first, so that the lanes end together. */
export const SHIPPED = ['relaxed', 'release', 'shared', 'scalar'];

/**
 * The job (see runInLanes) that compiles one target with asc. The optimised targets are compiled with
 * `--converge` (binaryen re-optimises until the module stops shrinking: a little smaller, the same
 * results bit for bit, more compile time; docs/performance.md, installing), unless `converge` is false. The
 * flag is given here, not in asconfig.json, because asc cannot turn off on its command line what the
 * file turns on.
 */
export function ascJob(target, { converge = true } = {}) {
  if (!(target in ENTRIES)) {
    throw new RangeError(`build-wasm: unknown target ${JSON.stringify(target)}; known: ${Object.keys(ENTRIES).join(', ')}`);
  }
  return {
    name: `the ${target} build`,
    args: [fileURLToPath(new URL('../node_modules/assemblyscript/bin/asc.js', import.meta.url)), ENTRIES[target], '--config', 'asconfig.json', '--target', target,
      ...(converge && target !== 'debug' ? ['--converge'] : [])],
  };
}

/** Runs `node ...job.args` in the package root; resolves with its exit code, its output printed as it comes. */
function run(job) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, job.args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code ?? 1));
    child.on('error', (error) => {
      console.error(`build: ${job.name}: ${error.message}`);
      resolve(1);
    });
  });
}

/**
 * Runs the jobs ({ name, args }: a Node script and its arguments) in one lane per core, each lane
 * taking the next job when it is free. Resolves with whether every job succeeded.
 */
export async function runInLanes(jobs) {
  const queue = [...jobs];
  let ok = true;
  const lanes = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const code = await run(job);
      if (code !== 0) {
        console.error(`build: ${job.name} failed (exit ${code})`);
        ok = false;
      }
    }
  });
  await Promise.all(lanes);
  return ok;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const targets = process.argv.length > 2 ? process.argv.slice(2) : SHIPPED;
  let jobs;
  try {
    jobs = targets.map(ascJob);
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  process.exit((await runInLanes(jobs)) ? 0 : 1);
}
