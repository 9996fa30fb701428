import { describe, expect, it } from 'vitest';
import { backends, normal, expectClose } from './helpers.js';
import { rowOpTolerance } from './ops.js';

describe.each(backends)('softmax on %s', (_name, xe) => {
  it('recovers probabilities from their logs', () => {
    const p = [0.775, 0.116, 0.039, 0.070];
    expectClose(xe.softmax(new Float32Array(p.map(Math.log)), 4), p, rowOpTolerance.softmax);
  });

  it('splits evenly between equal huge maxima (lse rounds back to the maximum there)', () => {
    // Found by a property test: exp(z - lse) gave [1, 1] in the float64 reference.
    expectClose(xe.softmax(new Float32Array([1e30, 1e30]), 2), [0.5, 0.5], rowOpTolerance.softmax);
    expectClose(xe.logSoftmax(new Float32Array([1e30, 1e30, -1e30]), 3), [-Math.LN2, -Math.LN2, Math.fround(-1e30) - Math.fround(1e30)], rowOpTolerance.logSoftmax);
    expectClose(xe.crossEntropy(new Float32Array([1e30, 1e30]), [0], { classes: 2 }), Math.LN2, { rel: 1e-6, abs: 0 });
  });

  it('gives rows that sum to 1 for any scale of logits', () => {
    for (const sd of [0.01, 1, 30, 1e4]) {
      const C = 37, N = 8;
      const p = xe.softmax(normal(N * C, sd, 6), C);
      for (let r = 0; r < N; r++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += p[r * C + c];
        expectClose(s, 1, { rel: 0, abs: 2e-6 });
      }
    }
  });

  it('gives 0 to masked classes, and NaN to a row with +inf or NaN as PyTorch does', () => {
    const p = xe.softmax(new Float32Array([0, -Infinity, 0, Infinity, 0, 1, NaN, 0, 1]), 3);
    expectClose(p.subarray(0, 3), [0.5, 0, 0.5], rowOpTolerance.softmax);
    expect(p[3]).toBeNaN();
    expect(Array.from(p.subarray(4, 6))).toEqual([0, 0]);
    for (const v of p.subarray(6)) expect(v).toBeNaN();
  });
});
