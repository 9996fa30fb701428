// A/B of two (or more) builds of the kernels in one process: the bench's workloads through each
// build's raw crossEntropySparse (W1-W3) or binaryCrossEntropyLogits (W4) export, resident in its own
// memory, in interleaved rounds (the order reversed every other round), so that a slow phase of this
// shared machine falls on every build alike. Prints each build's median ms and G elements/s and the median of its per-round
// speed ratio to the first build, and each build's loss (the sums must agree to ~1e-6 relative).
//
//   git stash && npx asc assembly/index.ts --config asconfig.json --target release -o /tmp/before.wasm
//   git stash pop && npx asc assembly/index.ts --config asconfig.json --target release -o /tmp/after.wasm
//   node bench/ab-builds.js /tmp/before.wasm /tmp/after.wasm
//
// Options in the environment: ROUNDS (20), WORKLOADS (W1,W2,W3,W4), OPS (a,b,as,bs: a = mean loss,
// b = loss + gradient, s = with label smoothing 0.1). About 3 minutes with the defaults. Relaxed
// builds need `node --experimental-wasm-relaxed-simd` on Node 20.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { WORKLOADS, makeInputs } from './data.js';
import { median } from './report.js';

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error('usage: node bench/ab-builds.js A.wasm B.wasm [C.wasm ...]');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const names = (process.env.WORKLOADS ?? 'W1,W2,W3,W4').split(',');
const ops = (process.env.OPS ?? 'a,b,as,bs').split(',');
// Elements per timed sample: several calls of the small workloads, so each sample is ~20 ms.
const SAMPLE_ELEMENTS = 2e7;
const PAGE = 65536;

const builds = files.map((file) => {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {});
  return { name: basename(file), exports };
});

/**
 * Copies a workload's logits and its labels (Int32Array) or binary targets (Float32Array) into one
 * build's memory past its heap base, after the binary kernel's scratch and with room for the gradient;
 * returns the pointers (pTargets: the labels or targets).
 */
function stage({ exports }, logits, targets) {
  const base = (exports.heapBase() + 63) & ~63;
  const bytes = logits.byteLength;
  const scratch = (exports.binaryScratchBytes() + 63) & ~63;
  const need = base + scratch + 2 * bytes + targets.byteLength;
  const have = exports.memory.buffer.byteLength;
  if (need > have) exports.memory.grow(Math.ceil((need - have) / PAGE));
  const pScratch = base, pLogits = base + scratch, pGrad = pLogits + bytes, pTargets = pLogits + 2 * bytes;
  new Float32Array(exports.memory.buffer, pLogits, logits.length).set(logits);
  new targets.constructor(exports.memory.buffer, pTargets, targets.length).set(targets);
  return { pScratch, pLogits, pGrad, pTargets };
}

for (const name of names) {
  const workload = WORKLOADS.find((w) => w.name === name);
  if (!workload) throw new RangeError(`WORKLOADS: ${name} is not a bench workload`);
  const { rows, classes, kind } = workload;
  const { logits, labels, targets } = makeInputs(workload);
  const staged = builds.map((b) => stage(b, logits, labels ?? targets));
  const calls = Math.max(1, Math.round(SAMPLE_ELEMENTS / (rows * classes)));
  for (const op of ops) {
    const smoothing = op.endsWith('s') ? 0.1 : 0;
    const withGrad = op.startsWith('b');
    // crossEntropySparse(logits, labels, rows, cols, weight, ignoreIndex, smoothing, sampleWeight,
    // zLoss, lossOut, gradOut, gradScale, kind = 0: float32; builds before the kind ignore it) and binaryCrossEntropyLogits(input, target, n, cols, weight,
    // posWeight, smoothing, lossOut, lossScale, gradOut, gradScale, scratch): the mean loss is the
    // sum / rows (rows = n for W4).
    const run = kind === 'binary'
      ? (i) => builds[i].exports.binaryCrossEntropyLogits(staged[i].pLogits, staged[i].pTargets, rows, 1, 0, 0,
        smoothing, 0, 0, withGrad ? staged[i].pGrad : 0, 1 / rows, staged[i].pScratch) / rows
      : (i) => builds[i].exports.crossEntropySparse(staged[i].pLogits, staged[i].pTargets, rows, classes,
        0, -100, smoothing, 0, 0, 0, withGrad ? staged[i].pGrad : 0, 1 / rows, 0) / rows;
    const losses = builds.map((_, i) => run(i));
    for (let k = 0; k < 3; k++) builds.forEach((_, i) => run(i));
    const ms = builds.map(() => []), ratios = builds.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      const order = builds.map((_, i) => i);
      if (round % 2) order.reverse();
      const t = [];
      for (const i of order) {
        const t0 = performance.now();
        for (let k = 0; k < calls; k++) run(i);
        t[i] = (performance.now() - t0) / calls;
      }
      t.forEach((x, i) => { ms[i].push(x); ratios[i].push(t[0] / x); });
    }
    const cells = builds.map((b, i) => {
      const m = median(ms[i]);
      return `${b.name} ${m.toFixed(2)} ms ${(rows * classes / m / 1e6).toFixed(3)} G el/s ×${median(ratios[i]).toFixed(3)} loss ${losses[i].toPrecision(9)}`;
    });
    console.log(`${name} (${op}): ${cells.join(' | ')}`);
  }
}
