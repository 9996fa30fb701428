// crossEntropy's layout and weighting options: spatial ([N, C, d1..dK]), sampleWeight, zLoss.

import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type { CrossEntropyOptions } from '../src/index.js';
import { backends, wasmBackends, normal, labels, probabilities, expectClose, rng } from './helpers.js';

/** [N, C, S] -> [N * S, C], written independently of the library's own rearrangement. */
function classLast(x: Float32Array, N: number, C: number, S: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
    out[(n * S + s) * C + c] = x[(n * C + c) * S + s];
  }
  return out;
}

const num = (v: unknown) => v as number;

describe.each(backends)('crossEntropy options on %s', (_name, xe) => {
  it('treats PyTorch\'s [N, C, d1..dK] layout as N * spatial rows, gradient in the same layout', () => {
    const N = 2, C = 3, S = 4;
    const z = normal(N * C * S, 2, 1);
    const y = new Int32Array([0, 2, 1, -100, 1, 1, 0, 2]); // [N, S]
    const soft = probabilities(N * S, C, 2); // class-last rows...
    const softSpatial = new Float32Array(soft.length); // ...rearranged to [N, C, S]
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
      softSpatial[(n * C + c) * S + s] = soft[(n * S + s) * C + c];
    }
    const flat = classLast(z, N, C, S);
    for (const [t, tFlat] of [[y, y], [softSpatial, soft]] as const) {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const o: CrossEntropyOptions = { classes: C, reduction, labelSmoothing: 0.1 };
        const got = xe.crossEntropyWithGrad(z, t, { ...o, spatial: S });
        const want = xe.crossEntropyWithGrad(flat, tFlat, o);
        expectClose(got.loss as never, want.loss as never, { rel: 1e-6, abs: 1e-7 });
        expectClose(classLast(Float32Array.from(got.grad), N, C, S), want.grad, { rel: 1e-6, abs: 1e-7 });
      }
    }
  });

  it('weights rows by sampleWeight and divides the mean by the sum of sample times class weights', () => {
    const C = 4, N = 5;
    const z = normal(N * C, 2, 3);
    const y = [1, 3, -100, 0, 2];
    const s = new Float32Array([0.5, 2, 7, 0, 1.5]);
    const w = new Float32Array([1, 0.5, 2, 1]);
    const perRow = xe.crossEntropy(z, y, { classes: C, weight: w, reduction: 'none' }) as unknown as ArrayLike<number>;
    let sum = 0, den = 0;
    for (let r = 0; r < N; r++) {
      if (y[r] === -100) continue;
      sum += s[r] * perRow[r];
      den += s[r] * w[y[r]];
    }
    expectClose(num(xe.crossEntropy(z, y, { classes: C, weight: w, sampleWeight: s })), sum / den, { rel: 1e-6, abs: 0 });
    expectClose(num(xe.crossEntropy(z, y, { classes: C, weight: w, sampleWeight: s, reduction: 'sum' })), sum, { rel: 1e-6, abs: 0 });
    // All-ones sample weights change nothing.
    expectClose(
      num(xe.crossEntropy(z, y, { classes: C, weight: w, sampleWeight: new Float32Array(N).fill(1) })),
      num(xe.crossEntropy(z, y, { classes: C, weight: w })),
      { rel: 1e-12, abs: 0 },
    );
  });

  it('refuses a mean whose denominator is below 2^-126, which float32 cannot divide by', () => {
    const C = 3;
    const z = normal(2 * C, 1, 14);
    // Subnormal class or sample weights on the counted rows: 1 / denominator overflows float32, which
    // once gave NaN gradients (inf · 0) with smoothing. The mean does not change when they are scaled up.
    const w = new Float32Array([1e-39, 0, 1]);
    expect(() => xe.crossEntropyWithGrad(z, [0, 0], { classes: C, weight: w, labelSmoothing: 0.1 }))
      .toThrow(/'mean' denominator \(.*\) is 2\.\d*e-39, below float32's smallest normal/);
    expect(() => xe.crossEntropy(z, [0, 1], { classes: C, sampleWeight: new Float32Array([1e-39, 0]) })).toThrow(RangeError);
    // The instance is intact; weights scaled up give the mean (here the unweighted one), and the sum is computed.
    const scaled = xe.crossEntropyWithGrad(z, [0, 0], { classes: C, weight: new Float32Array([1, 0, 1e30]) });
    const plain = xe.crossEntropyWithGrad(z, [0, 0], { classes: C });
    expectClose(scaled.loss, plain.loss, { rel: 1e-12, abs: 0 });
    expectClose(scaled.grad, plain.grad, { rel: 1e-6, abs: 0 });
    const sum = num(xe.crossEntropy(z, [0, 0], { classes: C, weight: w, reduction: 'sum' }));
    const unweighted = num(xe.crossEntropy(z, [0, 0], { classes: C, reduction: 'sum' }));
    expectClose(sum, 1e-39 * unweighted, { rel: 1e-5, abs: 0 });
  });

  it('adds zLoss * lse^2 to every counted row', () => {
    const C = 6, N = 3;
    const z = normal(N * C, 3, 4, 5); // logits around 5, so lse is far from 0
    const y = [2, -100, 5];
    const lse = xe.logSumExp(z, C);
    const plain = xe.crossEntropy(z, y, { classes: C, reduction: 'none' }) as unknown as ArrayLike<number>;
    const zl = xe.crossEntropy(z, y, { classes: C, reduction: 'none', zLoss: 1e-2 }) as unknown as ArrayLike<number>;
    expectClose(zl[0], plain[0] + 1e-2 * lse[0] ** 2, { rel: 1e-6, abs: 0 });
    expect(zl[1]).toBe(0);
    expectClose(zl[2], plain[2] + 1e-2 * lse[2] ** 2, { rel: 1e-6, abs: 0 });
  });

  it('soft-caps logits as cap * tanh(x / cap) before the softmax', () => {
    const C = 5, cap = 4;
    const z = new Float32Array([-30, -2, 0, 1.5, 50]);
    const capped = new Float32Array(Array.from(z, (x) => cap * Math.tanh(x / cap)));
    for (const y of [[4], [0], [2]]) {
      expectClose(num(xe.crossEntropy(z, y, { classes: C, softcap: cap })), num(xe.crossEntropy(capped, y, { classes: C })), { rel: 1e-6, abs: 1e-7 });
    }
    // Far beyond the cap the logit no longer moves the loss.
    const { grad } = xe.crossEntropyWithGrad(z, [4], { classes: C, softcap: cap });
    expect(Math.abs(grad[4])).toBeLessThan(1e-9);
    expect(Math.abs(grad[0])).toBeLessThan(1e-9);
  });

  it('has gradients that pass a finite-difference check with spatial, sampleWeight and zLoss', () => {
    const N = 2, C = 3, S = 2;
    const z = normal(N * C * S, 1.5, 5);
    const targets = [new Int32Array([2, 0, -100, 1]), probabilities(N * S, C, 6)];
    const sw = new Float32Array([0.5, 2, 1, 0.25]);
    for (const t of targets) {
      for (const reduction of ['mean', 'sum'] as const) {
        const o: CrossEntropyOptions = {
          classes: C, spatial: S, sampleWeight: sw, zLoss: 0.05, reduction, labelSmoothing: 0.1,
          weight: new Float32Array([1, 2, 0.5]), softcap: 2.5,
        };
        const { grad } = xe.crossEntropyWithGrad(z, t, o);
        for (let j = 0; j < z.length; j++) {
          const up = z.slice(), down = z.slice();
          up[j] += 1e-2;
          down[j] -= 1e-2;
          const fd = (num(xe.crossEntropy(up, t, o)) - num(xe.crossEntropy(down, t, o))) / (up[j] - down[j]);
          if (Math.abs(fd - grad[j]) > 2e-4 + 1e-3 * Math.abs(fd)) {
            expect.fail(`${reduction}: grad[${j}] = ${grad[j]}, finite difference ${fd}`);
          }
        }
      }
    }
  });
});

describe.each(wasmBackends)('crossEntropy options on %s against the float64 reference', (_name, xe) => {
  it('reaches 1e-6 relative loss error with softcap on N = 1024, C = 1000, logits ~ N(0, 10^2)', () => {
    const N = 1024, C = 1000;
    const z = normal(N * C, 10, 21);
    const y = labels(N, C, 22);
    const o = { classes: C, softcap: 30 };
    const got = xe.crossEntropyWithGrad(z, y, o);
    const want = reference.crossEntropyWithGrad(z, y, o);
    expect(Math.abs(num(got.loss) - num(want.loss)) / num(want.loss)).toBeLessThanOrEqual(1e-6);
    expectClose(got.grad, want.grad, { rel: 0, abs: 1e-6 });
  });

  it.each([1, 3, 17, 1000])('agrees with spatial, sampleWeight, zLoss and softcap together for classes = %i', (C) => {
    const N = 3, S = 5;
    const u = rng(C);
    const z = normal(N * C * S, 3, C);
    const y = labels(N * S, C, C + 1);
    y[4] = -100;
    const soft = new Float32Array(N * C * S).map(() => u());
    const sw = Float32Array.from({ length: N * S }, () => 2 * u());
    for (const t of [y, soft]) {
      for (const reduction of ['mean', 'none'] as const) {
        const o: CrossEntropyOptions = { classes: C, spatial: S, sampleWeight: sw, zLoss: 1e-3, reduction, softcap: 5 };
        const got = xe.crossEntropyWithGrad(z, t, o);
        const want = reference.crossEntropyWithGrad(z, t, o);
        expectClose(got.loss as never, want.loss as never, { rel: 2e-6, abs: 1e-6 });
        // Unnormalised soft targets make gradients of order 10: compare them relatively too.
        expectClose(got.grad, want.grad, { rel: 1e-6, abs: 1e-6 });
      }
    }
  });
});
