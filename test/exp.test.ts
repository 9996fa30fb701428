// Measures the error bound stated above expNeg4 in assembly/exp.ts.

import { describe, expect, it } from 'vitest';
import { testingDriver } from './helpers.js';

const driver = await testingDriver();

/** Runs the test build's expNegArray over xs. */
function expNeg(xs: Float32Array): Float32Array {
  const [src, dst] = driver.reserve(xs.length * 4, xs.length * 4);
  driver.f32(src, xs.length).set(xs);
  driver.kernels.expNegArray(src, dst, xs.length);
  return driver.f32(dst, xs.length).slice();
}

/** Spacing of float32 values at |x| (the unit in the last place). */
function ulp(x: number): number {
  const e = Math.max(Math.floor(Math.log2(Math.abs(x))), -126);
  return 2 ** (e - 23);
}

describe('expNeg (vector exp of non-positive arguments)', () => {
  it('stays within 2 ulp of e^x over every 97th float32 in [-87.3365, 0]', () => {
    const bits = new Uint32Array(1);
    const asFloat = new Float32Array(bits.buffer);
    const first = 0x80000000; // -0
    const last = 0xc2aeac50; // -87.3365478516, the flush threshold
    const chunk = 1 << 20;
    const xs = new Float32Array(chunk);
    let worstUlp = 0, worstRel = 0, worstAt = 0, count = 0;
    for (let b = first; b <= last; ) {
      let n = 0;
      for (; n < chunk && b <= last; n++, b += 97) {
        bits[0] = b;
        xs[n] = asFloat[0];
      }
      const ys = expNeg(xs.subarray(0, n));
      for (let i = 0; i < n; i++) {
        const exact = Math.exp(xs[i]);
        const err = Math.abs(ys[i] - exact);
        const u = err / ulp(exact);
        if (u > worstUlp) { worstUlp = u; worstAt = xs[i]; }
        worstRel = Math.max(worstRel, err / exact);
      }
      count += n;
    }
    console.log(`expNeg: ${count} arguments, worst ${worstUlp.toFixed(3)} ulp at x = ${worstAt}, worst relative ${worstRel.toExponential(2)}`);
    expect(count).toBeGreaterThan(11_000_000);
    expect(worstUlp, `worst at x = ${worstAt}`).toBeLessThanOrEqual(2);
    expect(worstRel).toBeLessThanOrEqual(2e-7);
  });

  it('is exact at 0, flushes below e^x = 2^-126 and keeps NaN', () => {
    const xs = new Float32Array([0, -0, -87.3365, -87.34, -100, -Infinity, NaN, -1e30]);
    const ys = expNeg(xs);
    expect(ys[0]).toBe(1);
    expect(ys[1]).toBe(1);
    expect(ys[2]).toBeGreaterThan(0);
    expect(Array.from(ys.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(ys[6]).toBeNaN();
    expect(ys[7]).toBe(0);
  });

  it('gives bit-identical results in SIMD lanes and in the scalar tail', () => {
    const xs = Float32Array.from({ length: 4003 }, (_, i) => -i * 0.0217);
    const lanes = expNeg(xs);
    for (let i = 0; i < 40; i++) {
      // The same value as the sole element (scalar path) and as part of a vector.
      const alone = expNeg(xs.subarray(i * 100, i * 100 + 1))[0];
      expect(alone).toBe(lanes[i * 100]);
    }
  });
});
