// The app of the Node-bundle row (bundlers.mjs, docs/runtimes.md "Bundlers"): bundled by esbuild
// --platform=node, then run from the bundle's folder, it runs the smoke suite and the worker pool and
// prints the HASH lines run.mjs reads.

import * as xentropy from 'xentropy';
import { reportLines, smoke } from './smoke.mjs';

const runtime = 'node-esbuild-bundle';
const result = await smoke(xentropy);
const pool = await xentropy.createPool({ threads: 2, inlineBelow: 0 });
try {
  const xe = await xentropy.init({ build: 'simd' });
  const N = 260, C = 1000;
  const z = Float32Array.from({ length: N * C }, (_, i) => 3 * Math.sin(1 + i * 0.7071));
  const y = Int32Array.from({ length: N }, (_, r) => (r * 7919) % C);
  const [a, b] = [await pool.crossEntropy(z, y, { classes: C }), xe.crossEntropy(z, y, { classes: C })];
  if (!Object.is(a, b)) throw new Error(`pool crossEntropy ${a} vs one thread ${b}`);
} finally {
  await pool.close();
}
for (const line of reportLines(runtime, process.versions.node, result)) console.log(line);
console.log(`ENTRY ${runtime} dist/index.js (the node condition's module entry, bundled by esbuild --platform=node)`);
