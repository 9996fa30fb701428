#!/usr/bin/env node
// Soak test: many calls of mixed shapes and functions on ONE instance, checking that WebAssembly memory
// stays under a fixed high-water mark and that process RSS does not creep.
//
//   node --expose-gc scripts/soak.mjs [calls = 1000000]      (run `npm run build` first)
//
// High-water mark. Inputs are staged through a 256 KiB window (src/api.ts WINDOW_BYTES), one row at a
// time when a row is larger. The largest row used here is C = 100_000 classes (400 KB), and the
// largest single reservation is crossEntropyWithGrad with soft targets, class weights and a
// per-row loss: 3 regions of one row (logits, targets, weights = 3 × 400 KB = 1.2 MB) plus small
// per-row buffers, on top of the module's static data and heap base (< 64 KiB). So memory must stay
// below 1.2 MB + 64 KiB + page rounding; the limit is stated as 24 pages = 1.5 MiB, whatever the
// number of calls. Memory is never shrunk, so this is checked at the end (and every 10% of the run).
//
// RSS: sampled after a forced GC (with --expose-gc; else the median of 5 samples) at the warm-up point
// (20% of the calls, at least 5000, when every shape has been seen and the JIT has settled) and at the end; growth must be < 10%.

import { init } from '../dist/index.js';

const calls = Number(process.argv[2] ?? 1_000_000);
if (!Number.isInteger(calls) || calls < 10) {
  console.error(`usage: node --expose-gc scripts/soak.mjs [calls >= 10], got ${process.argv[2]}`);
  process.exit(2);
}
const PAGE = 65536;
const MAX_CLASSES = 100_000;
const MEMORY_LIMIT = 24 * PAGE; // 1.5 MiB: see the header
const RSS_GROWTH_LIMIT = 0.10;

const xe = await init();

/** Mulberry32. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const u = rng(12345);

// A fixed pool of inputs per shape, so the loop measures the library, not the allocation of inputs.
const shapes = [[1, 1], [3, 2], [8, 5], [4, 16], [2, 17], [16, 10], [2, 1000], [64, 1000], [1, MAX_CLASSES]];
const pool = shapes.map(([rows, C]) => {
  const n = rows * C;
  const z = Float32Array.from({ length: n }, () => 6 * (u() - 0.5));
  const p = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += p[r * C + c] = u();
    for (let c = 0; c < C; c++) p[r * C + c] /= s;
  }
  const y = Int32Array.from({ length: rows }, () => Math.floor(u() * C));
  const w = Float32Array.from({ length: C }, () => 0.5 + u());
  const bt = Float32Array.from({ length: n }, () => (u() < 0.5 ? 0 : 1));
  return { rows, C, z, p, y, w, bt, out: new Float32Array(n) };
});

let sink = 0;
const ops = [
  (s) => xe.logSoftmax(s.z, s.C, s.out)[0],
  (s) => xe.softmax(s.z, s.C)[0],
  (s) => xe.logSumExp(s.z, s.C)[0],
  (s) => xe.crossEntropy(s.z, s.y, { classes: s.C, labelSmoothing: 0.1 }),
  (s) => xe.crossEntropyWithGrad(s.z, s.p, { classes: s.C, weight: s.w, reduction: 'none' }).grad[0],
  (s) => xe.crossEntropyWithGrad(s.z, s.y, { classes: s.C, weight: s.w, gradOut: s.out }).loss,
  (s) => xe.binaryCrossEntropyWithGrad(s.z, s.bt, { classes: s.C }).loss,
  (s) => xe.entropy(s.p, s.C, { reduction: 'sum' }),
  (s) => xe.klDivergenceWithGrad(s.p, s.z, s.C, { from: 'logits' }).loss,
  (s) => xe.jsDivergence(s.p, s.p, s.C),
  (s) => xe.scorer({ classes: s.C }).update(s.z, s.y).result().lossNats,
];

// Large rows are costly (100k classes); pick them rarely so a million calls stay in minutes.
function pick() {
  const x = u();
  const i = x < 0.002 ? shapes.length - 1 : x < 0.02 ? 7 : Math.floor(u() * (shapes.length - 2));
  return pool[i];
}

function rss() {
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage().rss;
  }
  const samples = Array.from({ length: 5 }, () => process.memoryUsage().rss).sort((a, b) => a - b);
  return samples[2];
}

let peakMemory = 0;
let rssWarm = 0;
// Warm-up: 20% of the calls (at least 5000), once JIT tiers and V8 heap sizing have settled.
const warmAt = Math.min(calls, Math.max(5000, Math.floor(calls / 5)));
const t0 = performance.now();
// Every shape and op once first, so the warm-up point has seen the largest row.
for (const s of pool) for (const op of ops) sink += Number(op(s)) || 0;
for (let i = 1; i <= calls; i++) {
  const s = pick();
  sink += Number(ops[i % ops.length](s)) || 0;
  if (i === warmAt) rssWarm = rss();
  if (i % Math.max(1, Math.floor(calls / 10)) === 0) peakMemory = Math.max(peakMemory, xe.driver.memoryBytes);
}
peakMemory = Math.max(peakMemory, xe.driver.memoryBytes);
const seconds = (performance.now() - t0) / 1000;
const rssEnd = rss();
const growth = (rssEnd - rssWarm) / rssWarm;
const mb = (b) => (b / 1048576).toFixed(1);

console.log(`soak: ${calls} calls in ${seconds.toFixed(1)} s (${Math.round(calls / seconds)} calls/s), checksum ${Number.isFinite(sink) ? 'finite' : sink}`);
console.log(`wasm memory: ${peakMemory / PAGE} pages (${mb(peakMemory)} MiB), limit ${MEMORY_LIMIT / PAGE} pages (${mb(MEMORY_LIMIT)} MiB)`);
console.log(`RSS: ${mb(rssWarm)} MiB after warm-up (call ${warmAt}), ${mb(rssEnd)} MiB at the end: ${(growth * 100).toFixed(1)}% (limit ${RSS_GROWTH_LIMIT * 100}%)${globalThis.gc ? ', after gc()' : ', median of 5 samples (run with --expose-gc for a forced gc)'}`);

let failed = false;
if (peakMemory > MEMORY_LIMIT) {
  console.error(`FAIL: wasm memory ${peakMemory} bytes exceeds the high-water mark ${MEMORY_LIMIT}`);
  failed = true;
}
if (!(growth < RSS_GROWTH_LIMIT)) {
  console.error(`FAIL: RSS grew by ${(growth * 100).toFixed(1)}% between warm-up and the end`);
  failed = true;
}
process.exit(failed ? 1 : 0);
