// Start-up cost, timed in fresh processes: within the benchmark process the module is already
// compiled and cached, so only a new process shows what a user's first `init()` costs.

import { spawnSync } from 'node:child_process';

/**
 * Times importing dist/index.js, the first `await init()` and a second `await init()` (module cached)
 * in `runs` fresh Node processes, one after another. The children get none of this process's Node
 * flags (`npm run bench` passes --experimental-wasm-relaxed-simd), so `build` is what a plain
 * `init()` loads on this Node.
 * @param {URL} indexUrl file URL of dist/index.js
 * @param {number} [runs=5] number of processes to spawn
 * @returns {{ importMs: number[], initMs: number[], reinitMs: number[], build: string }} times: one value per process
 * @throws Error when a child process fails
 */
export function timeInit(indexUrl, runs = 5) {
  const code = `
    const t0 = performance.now();
    const { init } = await import(${JSON.stringify(indexUrl.href)});
    const t1 = performance.now();
    const xe = await init();
    const t2 = performance.now();
    await init();
    const t3 = performance.now();
    process.stdout.write(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1, reinitMs: t3 - t2, build: xe.features.build }));
  `;
  const result = { importMs: [], initMs: [], reinitMs: [], build: '' };
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (child.status !== 0) {
      throw new Error(`init timing process failed (exit ${child.status}): ${child.stderr.trim()}`);
    }
    const times = JSON.parse(child.stdout);
    for (const key of ['importMs', 'initMs', 'reinitMs']) result[key].push(times[key]);
    result.build = times.build;
  }
  return result;
}
