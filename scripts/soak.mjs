#!/usr/bin/env node
// Soak test: many calls of mixed shapes and functions on ONE instance. Checks that WebAssembly memory
// stays under a stated high-water mark, that the resident allocator gets every block back, and that
// process memory does not grow with the number of calls.
//
//   npm run soak                                  (a million calls; run `npm run build` first)
//   node --expose-gc --max-semi-space-size=16 scripts/soak.mjs [calls]     (test/soak.test.ts runs 250,000)
//
// Exit status 0 when every check holds, 1 with the reason on stderr when one fails, 2 for bad usage.
//
// WebAssembly memory: the high-water mark is derived, not measured. Inputs are staged through copy
// windows of whole blocks (src/engine/staging.ts windowRows): the fewest blocks of WINDOW_BYTES (one row when a
// row is larger) that reach STREAM_BYTES, so a window is under STREAM_BYTES plus one block; the
// largest row here has 100,000 classes (400 KB), and no call reserves more than five such regions
// (binary cross-entropy with weight, posWeight and per-element losses: input, target, weight,
// posWeight, losses). Resident handles lie below the scratch space: RING long-lived ones of up to
// RESIDENT_MAX floats and a per-call pair the size of the largest input; first fit may leave gaps
// between them, allowed for by doubling their total. Plus the module's static data, below the heap
// base (STATIC_BYTES allowed). Memory never shrinks, so its size is read every 1024 calls and at
// the end.
//
// Process memory is read after two forced gc() at the baseline and at SAMPLES later points. The
// first calls grow it without leaking: V8 tiers up the JIT and grows its young generation, and RSS
// follows as those pages are first written. A baseline inside that phase makes RSS look like it
// grows, so it is taken after a warm-up of max(WARM_FRACTION of the calls, WARM_MIN calls).
// Afterwards RSS moves in steps of a few MiB, up or down, that do not follow the number of calls:
// glibc malloc keeps the freed backing stores of large result arrays in its heap (after the first
// free, its dynamic mmap threshold rises above their size), and how many were alive at once depends
// on when V8 collected them; MALLOC_MMAP_THRESHOLD_=131072 removes the steps. V8 versions differ in how
// far they grow the young generation, the newest far past any warm-up the soak can afford (its pages are
// first written over the next ~100,000 calls), so the soak fixes its size (--max-semi-space-size): what
// it measures is xentropy's memory, not V8's sizing of its heap. A leak grows with the
// calls: RSS at the end must be within RSS_GROWTH_LIMIT of the baseline, and the live JS heap
// (heapUsed after gc) within HEAP_GROWTH_LIMIT_BYTES, which catches even a few bytes kept per call
// (XENTROPY_SOAK_LEAK=1 plants such a leak).

import { init } from '../dist/index.js';
import { STREAM_BYTES, WINDOW_BYTES } from '../dist/engine/staging.js';
import { mulberry32 as rng } from './mulberry32.mjs';

const WARM_FRACTION = 0.2;
const WARM_MIN = 50_000;
const calls = process.argv[2] === undefined ? 1_000_000 : Number(process.argv[2]);
if (!Number.isInteger(calls) || calls < 2 * WARM_MIN) {
  // Fewer calls would measure the warm-up itself.
  console.error(`usage: node --expose-gc --max-semi-space-size=16 scripts/soak.mjs [calls, an integer >= ${2 * WARM_MIN}], got ${process.argv[2]}`);
  process.exit(2);
}
const SEMI_SPACE = '--max-semi-space-size=16';
if (typeof globalThis.gc !== 'function' || !process.execArgv.includes(SEMI_SPACE)) {
  console.error(`soak: run with node --expose-gc ${SEMI_SPACE} (npm run soak does): RSS is only comparable after a forced gc, with a young generation of a fixed size`);
  process.exit(2);
}

const PAGE = 65536;
const KiB = 1024, MiB = 1024 * 1024;
const MAX_CLASSES = 100_000;
/** Largest resident handle, in floats (1 MiB). */
const RESIDENT_MAX = 262_144;
/** Long-lived resident handles, replaced at random so that first fit and gap merging are exercised. */
const RING = 3;
const RSS_GROWTH_LIMIT = 0.10;
const HEAP_GROWTH_LIMIT_BYTES = 1 * MiB;
const SAMPLES = 10;

const u = rng(12345);

const xe = await init();
const pagesStart = xe.driver.memoryBytes / PAGE;
const heapBase = xe.driver.kernels.heapBase();

// A fixed pool of inputs per shape, so the loop measures the library, not the making of inputs.
// [rows, classes]: SIMD tails (5, 17), one-class rows, and inputs above WINDOW_BYTES, summed in several
// blocks ([80, 1000], [700, 128]) or one oversized row at a time ([3, 100000]).
const SMALL = [[1, 1], [3, 2], [8, 5], [4, 16], [2, 17], [16, 10], [6, 64], [2, 1000]];
const LARGE = [[80, 1000], [700, 128], [3, MAX_CLASSES]];
const pool = [...SMALL, ...LARGE].map(([rows, C]) => {
  const n = rows * C;
  const z = Float32Array.from({ length: n }, () => 6 * (u() - 0.5));
  const dist = () => {
    const p = Float32Array.from({ length: n }, () => u() + 1e-3);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += p[r * C + c];
      for (let c = 0; c < C; c++) p[r * C + c] /= s;
    }
    return p;
  };
  const p = dist(), q = dist();
  return {
    rows, C, n, z, p, q,
    logq: xe.logSoftmax(z, C),
    y: Int32Array.from({ length: rows }, () => Math.floor(u() * C)),
    yIgnored: Int32Array.from({ length: rows }, (_, r) => (r % 3 === 0 ? -100 : Math.floor(u() * C))),
    w: Float32Array.from({ length: C }, () => 0.5 + u()),
    sw: Float32Array.from({ length: rows }, () => u()),
    // PyTorch's [N, C / 2, 2] layout over the same logits, when C is even.
    ySpatial: C % 2 === 0 ? Int32Array.from({ length: rows * 2 }, () => Math.floor(u() * (C / 2))) : null,
    // The last label out of range: a call that must be refused.
    yBad: Int32Array.from({ length: rows }, (_, r) => (r === rows - 1 ? C : 0)),
    bt: Uint8Array.from({ length: n }, () => (u() < 0.5 ? 0 : 1)),
    soft01: Float32Array.from({ length: n }, () => u()),
    out: new Float32Array(n),
    out2: new Float32Array(n),
  };
});
const small = pool.slice(0, SMALL.length), large = pool.slice(SMALL.length);

const STATIC_BYTES = 64 * KiB;
const SCRATCH_BYTES = 5 * (STREAM_BYTES + Math.max(WINDOW_BYTES, MAX_CLASSES * 4));
const LARGEST_INPUT = Math.max(...pool.map((s) => s.n));
const RESIDENT_BYTES = 2 * (RING * RESIDENT_MAX + 2 * LARGEST_INPUT) * 4;
const MEMORY_LIMIT_PAGES = Math.ceil((STATIC_BYTES + SCRATCH_BYTES + RESIDENT_BYTES) / PAGE);

// The long-lived scorer: its state is O(bins + k) whatever the number of rows fed to it. A scorer
// takes only k below C, and no C = 1 (a binary model is scored with binaryCrossEntropy).
const scorerOptions = (C) => ({ classes: C, topK: [1, 3].filter((k) => k < C), bins: 10 });
const scorers = new Map();
function scorerOf(C) {
  let s = scorers.get(C);
  if (!s) scorers.set(C, (s = xe.scorer(scorerOptions(C))));
  return s;
}

// Resident handles: RING long-lived ones, each freed and replaced at random.
const ring = Array.from({ length: RING }, () => null);
function residentSize() {
  return 1 + Math.floor(u() ** 3 * RESIDENT_MAX);
}

let refused = 0;
/** Every public function family, with options; each returns a number folded into a checksum. */
const ops = [
  (s) => xe.logSoftmax(s.z, s.C, s.out)[0],
  (s) => xe.softmax(s.z, s.C)[s.n - 1],
  (s) => xe.logSumExp(s.z, s.C)[0],
  (s) => xe.crossEntropy(s.z, s.y, { classes: s.C, labelSmoothing: 0.1 }),
  (s) => xe.crossEntropy(s.z, s.yIgnored, { classes: s.C, weight: s.w, sampleWeight: s.sw, unit: 'bits', onAllIgnored: 'zero' }),
  (s) => xe.crossEntropy(s.p, s.y, { classes: s.C, from: 'probs', reduction: 'none' })[0],
  (s) => xe.crossEntropy(s.logq, s.y, { classes: s.C, from: 'logProbs', reduction: 'sum' }),
  (s) => xe.crossEntropy(s.z, s.y, { classes: s.C, focal: { gamma: 2 }, onAllIgnored: 'zero' }),
  (s) => xe.crossEntropyWithGrad(s.z, s.p, { classes: s.C, weight: s.w, softcap: 15, reduction: 'none' }).grad[0],
  (s) => xe.crossEntropyWithGrad(s.z, s.y, { classes: s.C, weight: s.w, zLoss: 1e-4, gradOut: s.out }).loss,
  (s) => (s.ySpatial
    ? xe.crossEntropyWithGrad(s.z, s.ySpatial, { classes: s.C / 2, spatial: 2, labelSmoothing: 0.2 }).loss
    : xe.crossEntropy(s.z, s.y, { classes: s.C, ignoreIndex: 0, onAllIgnored: 'zero' })),
  (s) => xe.binaryCrossEntropy(s.z, s.bt, { classes: s.C, posWeight: s.w, reduction: 'sum' }),
  (s) => xe.binaryCrossEntropyWithGrad(s.z, s.soft01, { classes: s.C, weight: s.w, labelSmoothing: 0.1, gradOut: s.out2 }).loss,
  (s) => xe.binaryCrossEntropyWithGrad(s.p, s.bt, { from: 'probs', focal: { gamma: 2, alpha: 0.25 }, unit: 'bits' }).grad[0],
  (s) => xe.entropy(s.p, s.C, { reduction: 'sum' }),
  (s) => xe.entropy(s.z, s.C, { from: 'logits' })[0],
  (s) => xe.klDivergence(s.p, s.logq, s.C, { from: 'logProbs' }),
  (s) => xe.klDivergence(s.p, s.q, s.C, { epsilon: 1e-6, reduction: 'none' })[0],
  (s) => xe.klDivergenceWithGrad(s.p, s.z, s.C, { from: 'logits', reduction: 'sum' }).loss,
  (s) => xe.klDivergenceWithGrad(s.p, s.q, s.C, { gradOut: s.out }).grad[0],
  (s) => xe.jsDivergence(s.p, s.q, s.C),
  (s) => xe.jsDivergence(s.z, s.z, s.C, { from: 'logits', reduction: 'none' })[0],
  (s) => {
    if (s.C === 1) return 0;
    // A fresh scorer per call, merged into a long-lived one directly and through its JSON state.
    const one = xe.scorer(scorerOptions(s.C)).update(s.z, s.y, 4 * s.rows);
    const total = scorerOf(s.C).merge(u() < 0.5 ? one : JSON.parse(JSON.stringify(one.state())));
    return one.result().lossNats + total.result().ece;
  },
  (s) => (s.C === 1 ? 0 : xe.scorerFromState(scorerOf(s.C).update(s.p, s.y).state()).result().accuracy),
  (s) => {
    // Per-call resident buffers: logits in, gradient out, freed in either order.
    const logits = xe.tensor(s.z), grad = xe.alloc(s.n);
    const { loss } = xe.crossEntropyWithGrad(logits, s.y, { classes: s.C, gradOut: grad });
    xe.logSoftmax(logits, s.C, logits);
    const v = loss + grad.array[0] + xe.logSumExp(logits, s.C)[0];
    if (u() < 0.5) { logits.free(); grad.free(); } else { grad.free(); logits.free(); }
    return v;
  },
  () => {
    // Replace one long-lived resident handle with one of another size.
    const i = Math.floor(u() * RING);
    ring[i]?.free();
    ring[i] = xe.alloc(residentSize());
    return ring[i].length;
  },
  (s) => {
    // A refused call must leave the instance intact (the checksum would differ otherwise).
    try {
      xe.crossEntropy(s.z, s.yBad, { classes: s.C });
      return NaN;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      refused++;
    }
    return 0;
  },
];

// Large inputs cost orders of magnitude more than a small one; 1% of the calls keeps the run short.
function pick() {
  return u() < 0.01 ? large[Math.floor(u() * large.length)] : small[Math.floor(u() * small.length)];
}

function sample(at) {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { calls: at, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, pages: xe.driver.memoryBytes / PAGE };
}

// XENTROPY_SOAK_LEAK=1 keeps a small object per call, a planted leak: test/soak.test.ts checks that
// the soak then fails.
const leaked = process.env.XENTROPY_SOAK_LEAK === '1' ? [] : null;
const REFUSE = ops.length - 1;
let nonFinite = null;
/** Runs one op; every result is finite for these inputs, so a NaN means a corrupted instance. */
function check(op, s) {
  const v = op(s);
  if (!Number.isFinite(v)) nonFinite ??= `op ${ops.indexOf(op)} on [${s.rows}, ${s.C}] returned ${v}`;
  return v;
}
let sink = 0;
let refusals = pool.length;
const t0 = performance.now();
// Every op on every shape once, so the warm-up has seen the largest reservations.
for (const s of pool) for (const op of ops) sink += check(op, s);
const warmAt = Math.max(WARM_MIN, Math.floor(calls * WARM_FRACTION));
const every = Math.max(1, Math.floor((calls - warmAt) / SAMPLES));
const samples = [{ ...sample(0), label: 'after one call of each kind on each shape' }];
let baseline = null;
let highWater = pagesStart;
for (let i = 1; i <= calls; i++) {
  const k = i % ops.length;
  if (k === REFUSE) refusals++;
  const v = check(ops[k], pick());
  sink += v;
  leaked?.push({ call: i, v });
  if (i === warmAt) samples.push(baseline = { ...sample(i), label: 'baseline, after the warm-up' });
  else if (i > warmAt && (i - warmAt) % every === 0) samples.push(sample(i));
  if ((i & 1023) === 0) highWater = Math.max(highWater, xe.driver.memoryBytes / PAGE);
}
const seconds = (performance.now() - t0) / 1000;
if (samples.at(-1).calls !== calls) samples.push(sample(calls));
const end = samples.at(-1);
highWater = Math.max(highWater, end.pages);

// Every block back: with all handles freed, the next allocation lands at the heap base again.
for (let i = 0; i < RING; i++) ring[i]?.free();
const probe = xe.alloc(1);
const probePtr = probe.ptr;
const allocatorEmpty = probePtr === ((heapBase + 15) & ~15);
probe.free();

const mb = (b) => (b / MiB).toFixed(1);
const pct = (a, b) => `${((b - a) / a * 100).toFixed(1)}%`;
/** Least-squares slope over the samples from the baseline on, in bytes per 1000 calls. */
function slope(key) {
  const xs = samples.filter((s) => s.calls >= warmAt);
  const mx = xs.reduce((a, s) => a + s.calls, 0) / xs.length, my = xs.reduce((a, s) => a + s[key], 0) / xs.length;
  let num = 0, den = 0;
  for (const s of xs) { num += (s.calls - mx) * (s[key] - my); den += (s.calls - mx) ** 2; }
  return den === 0 ? 0 : (num / den) * 1000;
}

const measured = calls - warmAt;
const rssGrowth = (end.rss - baseline.rss) / baseline.rss;
const heapGrowth = end.heapUsed - baseline.heapUsed;
console.log(`soak: ${calls} calls of ${ops.length} kinds in ${seconds.toFixed(1)} s (${Math.round(calls / seconds)} calls/s); ${refused} bad calls refused; checksum ${sink.toPrecision(12)}`);
console.log(`wasm memory: ${pagesStart} pages at start, high-water ${highWater} pages (${mb(highWater * PAGE)} MiB), limit ${MEMORY_LIMIT_PAGES} pages (${mb(MEMORY_LIMIT_PAGES * PAGE)} MiB); resident allocator ${allocatorEmpty ? 'empty' : 'NOT empty'} after freeing every handle`);
console.log('   calls    RSS MiB  heapUsed  heapTotal  external  arrayBuffers  pages   (MiB after gc)');
for (const s of samples) {
  console.log(`${String(s.calls).padStart(8)} ${mb(s.rss).padStart(10)} ${mb(s.heapUsed).padStart(9)} ${mb(s.heapTotal).padStart(10)} ${mb(s.external).padStart(9)} ${mb(s.arrayBuffers).padStart(13)} ${String(s.pages).padStart(6)}${s.label ? `   ${s.label}` : ''}`);
}
console.log(`RSS: baseline ${mb(baseline.rss)} MiB at call ${warmAt}, end ${mb(end.rss)} MiB: ${pct(baseline.rss, end.rss)} (limit ${RSS_GROWTH_LIMIT * 100}%); trend ${(slope('rss') / KiB).toFixed(2)} KiB per 1000 calls`);
console.log(`heap: baseline ${mb(baseline.heapUsed)} MiB used, end ${mb(end.heapUsed)} MiB: ${(heapGrowth / KiB).toFixed(0)} KiB (limit ${HEAP_GROWTH_LIMIT_BYTES / KiB} KiB, ${(HEAP_GROWTH_LIMIT_BYTES / measured).toFixed(1)} bytes per measured call); trend ${(slope('heapUsed') / KiB).toFixed(2)} KiB per 1000 calls`);
console.log(`external: ${pct(baseline.external, end.external)}, arrayBuffers: ${pct(baseline.arrayBuffers, end.arrayBuffers)} from the baseline`);
// One line for test/soak.test.ts.
console.log(`result ${JSON.stringify({
  calls, seconds, refused, pagesStart, pagesHighWater: highWater, pagesLimit: MEMORY_LIMIT_PAGES, allocatorEmpty,
  warmAt, rssBaseline: baseline.rss, rssEnd: end.rss, rssGrowth, heapBaseline: baseline.heapUsed, heapEnd: end.heapUsed,
  samples: samples.length,
})}`);

const failures = [];
if (nonFinite) failures.push(`a call returned a non-finite value: ${nonFinite}`);
if (refused !== refusals) failures.push(`${refusals - refused} of ${refusals} bad calls were not refused with a RangeError`);
if (highWater > MEMORY_LIMIT_PAGES) failures.push(`wasm memory reached ${highWater} pages, above the high-water mark of ${MEMORY_LIMIT_PAGES}`);
if (!allocatorEmpty) failures.push(`after freeing every resident handle, alloc(1) returned ${probePtr}, not the heap base ${heapBase}`);
if (!(rssGrowth < RSS_GROWTH_LIMIT)) failures.push(`RSS grew by ${(rssGrowth * 100).toFixed(1)}% from the baseline, limit ${RSS_GROWTH_LIMIT * 100}%`);
if (!(heapGrowth < HEAP_GROWTH_LIMIT_BYTES)) {
  failures.push(`the live JS heap grew by ${(heapGrowth / KiB).toFixed(0)} KiB from the baseline, limit ${HEAP_GROWTH_LIMIT_BYTES / KiB} KiB`);
}
for (const f of failures) console.error(`FAIL: ${f}`);
console.log(failures.length ? 'soak: FAILED' : 'soak: ok');
process.exit(failures.length ? 1 : 0);
