// The one-thread scorer (`xe.scorer`, SIMD build) against another build of the package, alternated in
// one process: W1-shaped evaluation data (N = 100,000, C = 1,000 float32), C = 50,257 (400 rows), and
// quantile binning (256 slots per bin). Used to check that the fold groups behind the pool's scorer
// (src/engine/score_groups.ts) cost one thread nothing.
// `node bench/scorer-against.js --against=DIR`, DIR a package directory with a built dist/ of another
// commit (e.g. `git worktree add /tmp/old <commit> && cd /tmp/old && npm ci`); prints one line a case.

import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { init as initNew } from '../dist/index.js';
import { LOGIT_STD, mulberry32 } from './data.js';
import { median } from './report.js';

const against = process.argv.find((a) => a.startsWith('--against='))?.slice('--against='.length);
if (!against) throw new Error('usage: node bench/scorer-against.js --against=DIR (a package directory with a built dist/)');
const { init: initOld } = await import(pathToFileURL(resolve(against, 'dist/index.js')).href);
const [before, after] = [await initOld({ build: 'simd' }), await initNew({ build: 'simd' })];

function data(N, C, seed) {
  const random = mulberry32(seed), z = new Float32Array(N * C);
  for (let i = 0; i < z.length; i++) z[i] = LOGIT_STD * Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
  return { z, y: Int32Array.from({ length: N }, () => Math.floor(random() * C)) };
}

const CASES = [
  { name: 'N = 100000, C = 1000, uniform bins', N: 100_000, C: 1000, options: {}, rounds: 9 },
  { name: 'N = 400, C = 50257, uniform bins', N: 400, C: 50257, options: {}, rounds: 15 },
  { name: 'N = 100000, C = 1000, quantile bins', N: 100_000, C: 1000, options: { binning: 'quantile' }, rounds: 9 },
];
console.log(`one-thread scorer, this dist/ against ${against}/dist, Node ${process.version}, ${new Date().toISOString()}`);
for (const c of CASES) {
  const { z, y } = data(c.N, c.C, 7);
  const time = (xe) => {
    const t = performance.now();
    xe.scorer({ classes: c.C, ...c.options }).update(z, y);
    return performance.now() - t;
  };
  const a = [], b = [], ratio = [];
  for (let r = 0; r < c.rounds + 2; r++) {
    let ta, tb;
    if (r % 2) { ta = time(before); tb = time(after); } else { tb = time(after); ta = time(before); }
    if (r < 2) continue; // warm-up
    a.push(ta); b.push(tb); ratio.push(tb / ta);
  }
  const G = (ms) => ((c.N * c.C) / ms / 1e6).toFixed(3);
  console.log(`${c.name}: before ${median(a).toFixed(1)} ms (${G(median(a))} G el/s), after ${median(b).toFixed(1)} ms (${G(median(b))} G el/s), after/before ${median(ratio).toFixed(3)} (median of rounds)`);
}
