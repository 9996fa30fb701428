// Measures the error bound stated above log4 in assembly/log.ts.

import { describe, expect, it } from 'vitest';
import { testingDriver } from './helpers.js';

const driver = await testingDriver();

/** Runs the test build's logArray over xs. */
function logOf(xs: Float32Array): Float32Array {
  const [src, dst] = driver.reserve(xs.length * 4, xs.length * 4);
  driver.f32(src, xs.length).set(xs);
  driver.kernels.logArray(src, dst, xs.length);
  return driver.f32(dst, xs.length).slice();
}

function ulp(x: number): number {
  return 2 ** (Math.max(Math.floor(Math.log2(Math.abs(x))), -126) - 23);
}

/**
 * Calls visit(xs, ys) for chunks of the float32 values whose bit patterns run first..last by `step`,
 * with ys = kernel(xs); returns how many values there were.
 */
function sweepPatterns(
  first: number, last: number, step: number, kernel: (xs: Float32Array) => Float32Array,
  visit: (xs: Float32Array, ys: Float32Array) => void,
): number {
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  const chunk = 1 << 20;
  const xs = new Float32Array(chunk);
  let count = 0;
  for (let b = first; b <= last; ) {
    let n = 0;
    for (; n < chunk && b <= last; n++, b += step) {
      bits[0] = b;
      xs[n] = asFloat[0];
    }
    visit(xs.subarray(0, n), kernel(xs.subarray(0, n)));
    count += n;
  }
  return count;
}

/** Worst error of logArray over float32 bit patterns first..last stepping by `step`. */
function sweep(first: number, last: number, step: number) {
  let worstUlp = 0, worstAbs = 0, at = 0;
  const count = sweepPatterns(first, last, step, logOf, (xs, ys) => {
    for (let i = 0; i < xs.length; i++) {
      const exact = Math.log(xs[i]);
      const err = Math.abs(ys[i] - exact);
      if (Math.abs(xs[i] - 1) > 0.25) {
        const u = err / ulp(exact);
        if (u > worstUlp) { worstUlp = u; at = xs[i]; }
      } else {
        worstAbs = Math.max(worstAbs, err);
      }
    }
  });
  return { worstUlp, worstAbs, count, at };
}

describe('log4 (vector natural logarithm)', () => {
  it('stays within 1 ulp away from 1 and 3e-8 absolute near 1, over every 61st positive float32', () => {
    const r = sweep(0x00000001, 0x7f7fffff, 61);
    console.log(`log4: ${r.count} arguments, worst ${r.worstUlp.toFixed(3)} ulp at ${r.at}, worst absolute near 1: ${r.worstAbs.toExponential(2)}`);
    expect(r.count).toBeGreaterThan(34_000_000);
    expect(r.worstUlp).toBeLessThanOrEqual(1);
    expect(r.worstAbs).toBeLessThanOrEqual(3e-8);
  });

  it('is as accurate on every float32 in [0.5, 2]', () => {
    const r = sweep(0x3f000000, 0x40000000, 1);
    expect(r.worstUlp).toBeLessThanOrEqual(1);
    expect(r.worstAbs).toBeLessThanOrEqual(3e-8);
  });

  it('follows IEEE log on special values', () => {
    const ys = logOf(new Float32Array([0, -0, Infinity, -1, NaN, 1, 1e-45, -Infinity]));
    expect(ys[0]).toBe(-Infinity);
    expect(ys[1]).toBe(-Infinity);
    expect(ys[2]).toBe(Infinity);
    expect(ys[3]).toBeNaN();
    expect(ys[4]).toBeNaN();
    expect(ys[5]).toBe(0);
    expect(ys[6]).toBeCloseTo(Math.log(Math.fround(1e-45)), 4);
    expect(ys[7]).toBeNaN();
  });

  it('gives bit-identical results in SIMD lanes and in the scalar tail', () => {
    const xs = Float32Array.from({ length: 4001 }, (_, i) => 1e-40 * 1.03 ** i);
    const lanes = logOf(xs);
    for (let i = 0; i < 4000; i += 97) expect(logOf(xs.subarray(i, i + 1))[0]).toBe(lanes[i]);
  });
});

/** Runs the test build's log1pUnitArray over es (values in [0, 1]). */
function log1pUnitOf(es: Float32Array): Float32Array {
  const [src, dst] = driver.reserve(es.length * 4, es.length * 4);
  driver.f32(src, es.length).set(es);
  driver.kernels.log1pUnitArray(src, dst, es.length);
  return driver.f32(dst, es.length).slice();
}

/** Worst error of log1pUnitArray, in ulps of the exact log(1 + e), over bit patterns first..last by step. */
function sweepLog1p(first: number, last: number, step: number) {
  let worstUlp = 0, at = 0, bias = 0;
  const count = sweepPatterns(first, last, step, log1pUnitOf, (es, ys) => {
    for (let i = 0; i < es.length; i++) {
      const exact = Math.log1p(es[i]);
      const u = Math.abs(ys[i] - exact) / ulp(exact);
      if (u > worstUlp) { worstUlp = u; at = es[i]; }
      bias += (ys[i] - exact) / exact;
    }
  });
  return { worstUlp, count, at, meanRelative: bias / count };
}

describe('log1pUnit4 (log(1 + e) for e in [0, 1], the softplus term of binary cross-entropy)', () => {
  it('stays within 2 ulp over every 31st float32 in [2^-126, 1], with no bias a sum would collect', () => {
    const r = sweepLog1p(0x00800000, 0x3f800000, 31);
    console.log(`log1pUnit4: ${r.count} arguments, worst ${r.worstUlp.toFixed(3)} ulp at ${r.at}, mean relative error ${r.meanRelative.toExponential(2)}`);
    expect(r.count).toBeGreaterThan(34_000_000);
    expect(r.worstUlp).toBeLessThanOrEqual(2);
    expect(Math.abs(r.meanRelative)).toBeLessThan(1e-8);
  });

  it('is as accurate on every float32 in [0.5, 1], where 2 + e rounds most', () => {
    expect(sweepLog1p(0x3f000000, 0x3f800000, 1).worstUlp).toBeLessThanOrEqual(2);
  });

  it('gives e itself from 2^-126 to 2^-24, 0 at 0, NaN for NaN and ln 2 at 1', () => {
    const ys = log1pUnitOf(new Float32Array([0, 2 ** -126, 1e-30, 2 ** -25, NaN, 1]));
    expect(ys[0]).toBe(0);
    expect(ys[1]).toBe(2 ** -126);
    expect(ys[2]).toBe(Math.fround(1e-30));
    expect(ys[3]).toBe(2 ** -25);
    expect(ys[4]).toBeNaN();
    expect(Math.abs(ys[5] - Math.LN2)).toBeLessThanOrEqual(2 * ulp(Math.LN2));
  });

  it('gives bit-identical results in SIMD lanes and in the scalar tail', () => {
    const es = Float32Array.from({ length: 4001 }, (_, i) => Math.min(1, 1e-38 * 1.0222 ** i));
    const lanes = log1pUnitOf(es);
    for (let i = 0; i < 4000; i += 97) expect(log1pUnitOf(es.subarray(i, i + 1))[0]).toBe(lanes[i]);
  });
});
