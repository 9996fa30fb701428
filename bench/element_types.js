// Element types on the sparse cross-entropy loss (W1–W3, reduction 'mean'): float32 resident against
// float16 / bfloat16 resident (read by the kernel where they lie, widened in its sweeps), float32
// copying against float16 / bfloat16 copying (half the bytes copied, read the same way) and float64
// copying (twice the bytes, narrowed by the widen kernel). All contenders run interleaved in one
// process, each sample a batch of calls; prints (writes nothing) the median G elements/s of each and
// the median of the per-round ratios that issue 25's targets name, after the widen kernel's own rate
// (what the other kernels' half inputs still pay per element). Half data are the float32 logits
// truncated to half bits. Last, the causal shift on a resident [B, T, V] against the same rows
// without it (labels shifted by hand, each sequence's last position ignored).
//
//   npm run build && node bench/element_types.js      (about 2 minutes; ROUNDS=N, default 15; ONLY=W1,W3;
//                                                      BUILD=relaxed-simd for that build, default simd)

import { cpus } from 'node:os';
import { init } from '../dist/index.js';
import { WORKLOADS, makeInputs, workloadLabel } from './data.js';
import { median } from './report.js';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
/** Calls per sample: enough that a sample lasts tens of milliseconds. */
const SAMPLE_ELEMENTS = 40e6;

/** float32 values truncated to float16 bits (flushing below 2^-14). */
function toHalf(values) {
  const u = new Uint32Array(Float32Array.from(values).buffer), out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const sign = (u[i] >>> 16) & 0x8000, e = ((u[i] >>> 23) & 255) - 112;
    out[i] = e <= 0 ? sign : e >= 31 ? sign | 0x7bff : sign | (e << 10) | ((u[i] >>> 13) & 1023);
  }
  return out;
}

const xe = await init({ build: process.env.BUILD ?? 'simd' });
console.log(`# element types, ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} logical cores), Node ${process.version}, build ${xe.features.build}`);
console.log(`crossEntropy (class indices, 'mean'), ${ROUNDS} interleaved rounds; G elements/s (median), ratios: median of per-round ratios\n`);

// The widen kernel alone, on one copy window of 262144 elements in cache: what a half or float64 input
// adds per element to the float32 path's time (engine/staging.ts; reached through the instance's
// internal driver).
{
  const d = xe.driver, n = 262144;
  const [src, dst] = d.reserve(n * 8, n * 4);
  const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const rates = [];
  for (const [name, code] of [['f16', 1], ['bf16', 2], ['f64', 3]]) {
    if (code === 1) d.u16(src, n).set(toHalf(values));
    else if (code === 2) d.u16(src, n).set(new Uint32Array(values.buffer).map((x) => x >>> 16));
    else d.f64(src, n).set(values);
    const samples = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      for (let c = 0; c < 100; c++) d.kernels.widen(src, dst, n, code);
      samples.push((performance.now() - t0) / 100);
    }
    rates.push(`${name} ${(n / median(samples) / 1e6).toFixed(2)}`);
  }
  console.log(`widen alone, G elements/s (median of ${ROUNDS}): ${rates.join(', ')}\n`);
}

const RATIOS = [
  ['f16 resident / f32 resident', 'f16 resident', 'f32 resident', 0.95],
  ['bf16 resident / f32 resident', 'bf16 resident', 'f32 resident', 0.95],
  ['f16 copying / f32 copying', 'f16 copying', 'f32 copying', 1.2],
  ['bf16 copying / f32 copying', 'bf16 copying', 'f32 copying', 1.2],
  ['f64 copying / f32 copying', 'f64 copying', 'f32 copying', 0.8],
];

const only = process.env.ONLY?.split(',');
for (const w of WORKLOADS.filter((x) => x.kind === 'softmax' && (!only || only.includes(x.name)))) {
  const { logits, labels } = makeInputs(w);
  const classes = w.classes, n = logits.length;
  const f16 = toHalf(logits), bf16 = Uint16Array.from(new Uint32Array(logits.buffer), (x) => x >>> 16);
  const f64 = Float64Array.from(logits);
  const r32 = xe.tensor(logits), r16 = xe.tensor(f16, { dtype: 'float16' }), rb16 = xe.tensor(bf16, { dtype: 'bfloat16' });
  const o = { classes }, o16 = { classes, dtype: 'float16' }, ob16 = { classes, dtype: 'bfloat16' };
  const contenders = [
    ['f32 resident', () => xe.crossEntropy(r32, labels, o)],
    ['f16 resident', () => xe.crossEntropy(r16, labels, o)],
    ['bf16 resident', () => xe.crossEntropy(rb16, labels, o)],
    ['f32 copying', () => xe.crossEntropy(logits, labels, o)],
    ['f16 copying', () => xe.crossEntropy(f16, labels, o16)],
    ['bf16 copying', () => xe.crossEntropy(bf16, labels, ob16)],
    ['f64 copying', () => xe.crossEntropy(f64, labels, o)],
  ];
  const calls = Math.max(1, Math.round(SAMPLE_ELEMENTS / n));
  const times = new Map(contenders.map(([name]) => [name, []]));
  const losses = new Map();
  for (const [name, run] of contenders) losses.set(name, run());
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated each round, so that no contender always runs after the same one.
    for (let i = 0; i < contenders.length; i++) {
      const [name, run] = contenders[(i + round) % contenders.length];
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) run();
      times.get(name).push((performance.now() - t0) / calls);
    }
  }
  console.log(`## ${workloadLabel(w)} (${calls} calls a sample)`);
  console.log('| contender | ms | G elements/s | loss |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name] of contenders) {
    const ms = median(times.get(name));
    console.log(`| ${name} | ${ms.toFixed(3)} | ${(n / ms / 1e6).toFixed(2)} | ${losses.get(name).toFixed(7)} |`);
  }
  console.log('\n| ratio (speed) | median | target | met |');
  console.log('| --- | ---: | ---: | --- |');
  for (const [label, a, b, target] of RATIOS) {
    const ta = times.get(a), tb = times.get(b);
    const ratio = median(ta.map((t, i) => tb[i] / t));
    console.log(`| ${label} | ${ratio.toFixed(3)} | ${target} | ${ratio >= target ? 'yes' : 'no'} |`);
  }
  console.log('');
  r32.free();
  r16.free();
  rb16.free();
}

// The causal shift moves the labels, not the logits: a resident [B, T, V] is read in place, so the
// shifted call should cost what the same rows cost with the labels shifted by hand.
if (!only || only.includes('shift')) {
  const w = WORKLOADS.find((x) => x.name === 'W2');
  const { logits, labels } = makeInputs(w);
  const V = w.classes, T = 128, B = labels.length / T;
  const byHand = Int32Array.from(labels, (_, i) => (i % T === T - 1 ? -100 : labels[i + 1]));
  const r32 = xe.tensor(logits);
  const contenders = [
    ['labels shifted by hand', () => xe.crossEntropy(r32, byHand, { classes: V })],
    ['shift: true', () => xe.crossEntropy(r32, labels, { classes: V, shift: true, sequenceLength: T })],
  ];
  const calls = Math.max(1, Math.round(SAMPLE_ELEMENTS / logits.length));
  const times = contenders.map(() => []);
  const losses = contenders.map(([, run]) => run());
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const k = (i + round) % contenders.length;
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) contenders[k][1]();
      times[k].push((performance.now() - t0) / calls);
    }
  }
  console.log(`## shift: resident [B, T, V] = [${B}, ${T}, ${V}] (${calls} calls a sample)`);
  console.log('| contender | ms | G elements/s | loss |');
  console.log('| --- | ---: | ---: | ---: |');
  contenders.forEach(([name], k) => {
    const ms = median(times[k]);
    console.log(`| ${name} | ${ms.toFixed(3)} | ${(logits.length / ms / 1e6).toFixed(2)} | ${losses[k].toFixed(7)} |`);
  });
  const ratio = median(times[1].map((t, i) => times[0][i] / t));
  console.log(`\n| ratio (speed) | median | target | met |\n| --- | ---: | ---: | --- |\n| shift / by hand | ${ratio.toFixed(3)} | 0.95 | ${ratio >= 0.95 ? 'yes' : 'no'} |`);
  if (losses[0] !== losses[1]) console.log(`(the losses differ: ${losses[0]} and ${losses[1]})`);
  r32.free();
}
