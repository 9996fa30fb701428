// Shared test utilities: the backends every suite runs against, seeded data and tolerant comparison.

import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { init, reference, type Xentropy } from '../src/index.js';
import { bestBuild } from '../src/engine/builds.js';

/** The API shape every backend implements (the reference returns Float64Array where wasm returns f32). */
export type Backend = Pick<Xentropy, 'logSoftmax' | 'softmax' | 'logSumExp' | 'crossEntropy' | 'crossEntropyWithGrad'
  | 'binaryCrossEntropy' | 'binaryCrossEntropyWithGrad'
  | 'entropy' | 'klDivergence' | 'klDivergenceWithGrad' | 'jsDivergence'>;

/** The SIMD release build, the default wherever relaxed SIMD is not available. */
export const wasm = await init({ build: 'simd' });
/** The SIMD build with assertions on (kernel bounds checks). */
export const wasmDebug = await init({
  module: readFileSync(new URL('../build/xentropy.debug.wasm', import.meta.url)),
});
/** The build for runtimes without SIMD. */
export const wasmScalar = await init({ build: 'scalar' });
/**
 * The relaxed-SIMD (FMA) build, where this runtime validates it: vitest.config.ts starts Node 20
 * with --experimental-wasm-relaxed-simd so that it is tested here too.
 */
export const wasmRelaxed = bestBuild() === 'relaxed-simd' ? await init({ build: 'relaxed-simd' }) : undefined;

/** What the test build (build/xentropy.testing.wasm, assembly/testing.ts) adds to the SIMD build's kernels. */
export interface TestingKernels {
  expNegArray(src: number, dst: number, n: number): void;
  logArray(src: number, dst: number, n: number): void;
  log1pUnitArray(src: number, dst: number, n: number): void;
}

/** The test build's driver: the SIMD build's kernels, same flags, plus the array forms of exp and log. */
export async function testingDriver(): Promise<Xentropy['driver'] & { kernels: TestingKernels }> {
  const xe = await init({ module: readFileSync(new URL('../build/xentropy.testing.wasm', import.meta.url)) });
  return xe.driver as Xentropy['driver'] & { kernels: TestingKernels };
}

/** The wasm backends only, for comparisons against the reference. */
export const wasmBackends: [string, Xentropy][] = [
  ['wasm', wasm],
  ['wasm-debug', wasmDebug],
  ['wasm-scalar', wasmScalar],
  ...(wasmRelaxed ? [['wasm-relaxed', wasmRelaxed] as [string, Xentropy]] : []),
];

/** Every backend, by name; suites use describe.each(backends). */
export const backends: [string, Backend][] = [['reference', reference as unknown as Backend], ...wasmBackends];

/** Mulberry32: a small, fast, seeded PRNG so every failure can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values ~ N(mean, sd^2) (Box-Muller). */
export function normal(n: number, sd: number, seed: number, mean = 0): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** n values uniform in [lo, hi). */
export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

/** n hard 0/1 targets. */
export function bits(n: number, seed: number): Uint8Array {
  const u = rng(seed);
  return Uint8Array.from({ length: n }, () => (u() < 0.5 ? 0 : 1));
}

/** n labels uniform in [0, classes). */
export function labels(n: number, classes: number, seed: number): Int32Array {
  const u = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(u() * classes));
}

/** rows x classes soft targets: each row a random probability vector. */
export function probabilities(rows: number, classes: number, seed: number): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += out[r * classes + c] = u() ** 3;
    for (let c = 0; c < classes; c++) out[r * classes + c] /= sum;
  }
  return out;
}

/** A copy of `data` placed at an odd float offset, so it is not 16-byte aligned. */
export function unaligned(data: Float32Array): Float32Array {
  const backing = new Float32Array(data.length + 1);
  const view = backing.subarray(1);
  view.set(data);
  return view;
}

/**
 * Tolerance: |actual - expected| <= abs + rel * |expected|. NaN matches only NaN and an infinity only
 * the same infinity.
 */
export interface Tolerance { rel: number; abs: number }

/** True when a and b agree under the tolerance. */
export function close(a: number, b: number, tol: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= tol.abs + tol.rel * Math.abs(b);
}

/** Asserts two arrays agree element-wise; reports the first offending index and both values. */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol: Tolerance): void {
  if (typeof actual === 'number' || typeof expected === 'number') {
    expect(typeof actual, 'both scalars').toBe(typeof expected);
    if (!close(actual as number, expected as number, tol)) {
      expect.fail(`${actual} != ${expected} within rel ${tol.rel} + abs ${tol.abs}`);
    }
    return;
  }
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i], expected[i], tol)) {
      expect.fail(`[${i}]: ${actual[i]} != ${expected[i]} within rel ${tol.rel} + abs ${tol.abs}`);
    }
  }
}

/** Largest |a - b| over finite pairs. */
export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Random probability rows with every 7th entry set to 0, so that 0 log 0 = 0 is exercised. */
export function sparseProbabilities(rows: number, classes: number, seed: number): Float32Array {
  const p = probabilities(rows, classes, seed);
  for (let i = 3; i < p.length; i += 7) p[i] = 0;
  return p;
}

/** Worst relative error |a - b| / |b|, element-wise for arrays (equal elements, 0 = 0 included, count 0). */
export function relError(a: ArrayLike<number> | number, b: ArrayLike<number> | number): number {
  if (typeof a === 'number' || typeof b === 'number') return Math.abs((a as number) - (b as number)) / Math.abs(b as number);
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    if (a[i] !== b[i]) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  }
  return worst;
}

/**
 * Asserts two numbers (Object.is) or two typed arrays of floats hold the same float32 bits; names the
 * first difference.
 */
export function expectSameBits(a: unknown, b: unknown, what = ''): void {
  if (typeof a === 'number' || typeof b === 'number') {
    expect(Object.is(a, b), `${what}: ${a} vs ${b}`).toBe(true);
    return;
  }
  expect(ArrayBuffer.isView(a) && ArrayBuffer.isView(b), `${what}: both typed arrays`).toBe(true);
  const x = new Uint32Array(Float32Array.from(a as ArrayLike<number>).buffer);
  const y = new Uint32Array(Float32Array.from(b as ArrayLike<number>).buffer);
  expect(x.length, `${what}: length`).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) expect.fail(`${what}[${i}]: ${(a as ArrayLike<number>)[i]} vs ${(b as ArrayLike<number>)[i]}`);
  }
}
