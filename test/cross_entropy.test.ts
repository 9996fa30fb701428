import { describe, expect, it } from 'vitest';
import { init, reference } from '../src/index.js';
import type { CrossEntropyOptions } from '../src/index.js';
import {
  backends, wasmBackends, normal, labels, probabilities, unaligned, expectClose, maxAbsError, rng,
  type Backend,
} from './helpers.js';

const ln = (ps: number[]) => new Float32Array(ps.map(Math.log));

/** Loss of one call as a plain number (mean or sum), whatever the backend returns. */
function lossOf(xe: Backend, z: Float32Array, t: Int32Array | Float32Array, o: CrossEntropyOptions): number {
  const v = xe.crossEntropy(z, t, o) as number | Float32Array | Float64Array;
  if (typeof v === 'number') return v;
  let s = 0;
  for (const x of v) s += x;
  return s;
}

describe.each(backends)('crossEntropy on %s', (_name, xe) => {
  it('matches the worked examples from the seed texts', () => {
    // -ln 0.1: the loss only sees the true class's probability.
    expectClose(xe.crossEntropy(ln([0.1, 0.5, 0.1, 0.1, 0.2]), [0], { classes: 5 }), 2.302585, { rel: 0, abs: 1e-6 });
    expectClose(xe.crossEntropy(ln([0.1, 0.6, 0.1, 0.1, 0.1]), [0], { classes: 5 }), 2.302585, { rel: 0, abs: 1e-6 });
    // Dog/cat/horse/cheetah: -ln 0.775 = 0.2549 nats = 0.3677 bits.
    const nats = xe.crossEntropy(ln([0.775, 0.116, 0.039, 0.070]), new Int32Array([0]), { classes: 4 }) as number;
    expectClose(nats, 0.2549, { rel: 0, abs: 5e-5 });
    expectClose(nats / Math.LN2, 0.3677, { rel: 0, abs: 5e-5 });
  });

  it('gives the same loss but different gradients for the two predictions of the same true class', () => {
    const a = xe.crossEntropyWithGrad(ln([0.1, 0.5, 0.1, 0.1, 0.2]), [0], { classes: 5 });
    const b = xe.crossEntropyWithGrad(ln([0.1, 0.6, 0.1, 0.1, 0.1]), [0], { classes: 5 });
    expectClose(a.loss, b.loss, { rel: 1e-6, abs: 0 });
    // softmax - onehot: [0.1 - 1, 0.5, 0.1, 0.1, 0.2] vs [0.1 - 1, 0.6, 0.1, 0.1, 0.1]
    expectClose(a.grad, [-0.9, 0.5, 0.1, 0.1, 0.2], { rel: 0, abs: 1e-6 });
    expectClose(b.grad, [-0.9, 0.6, 0.1, 0.1, 0.1], { rel: 0, abs: 1e-6 });
  });

  it('follows PyTorch with weights, ignoreIndex and label smoothing together', () => {
    // Expected values derived here from log-softmax by PyTorch's formulas, not from any backend.
    const z = new Float32Array([1, 2, 0.5, -1, 0, 3, 0.25, 0.25, 0.25, 2, -2, 1]);
    const y = [2, -100, 0, 1];
    const w = new Float32Array([0.5, 2, 1]);
    const eps = 0.3, C = 3;
    const lsm = (r: number) => {
      const row = Array.from(z.subarray(r * C, r * C + C));
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      return row.map((v) => v - lse);
    };
    const nll = (r: number) => (y[r] === -100 ? 0 : -w[y[r]] * lsm(r)[y[r]]);
    const smooth = (r: number) => (y[r] === -100 ? 0 : -lsm(r).reduce((s, v, c) => s + w[c] * v, 0));
    const rows = [0, 1, 2, 3];
    const perRow = rows.map((r) => (1 - eps) * nll(r) + (eps / C) * smooth(r));
    const weightSum = w[2] + w[0] + w[1];
    const options = { classes: C, weight: w, labelSmoothing: eps };
    expectClose(xe.crossEntropy(z, y, options), perRow.reduce((a, b) => a + b) / weightSum, { rel: 1e-6, abs: 0 });
    expectClose(xe.crossEntropy(z, y, { ...options, reduction: 'sum' }), perRow.reduce((a, b) => a + b), { rel: 1e-6, abs: 0 });
    expectClose(xe.crossEntropy(z, y, { ...options, reduction: 'none' }), perRow, { rel: 1e-6, abs: 0 });
  });

  it('follows PyTorch with soft targets, weights and smoothing (mean divides by N)', () => {
    const z = new Float32Array([0.5, -1, 2, 0, 1, 1]);
    const t = new Float32Array([0.2, 0.3, 0.5, 1, 0, 0]);
    const w = new Float32Array([1, 0.5, 2]);
    const eps = 0.1, C = 3;
    let total = 0;
    for (let r = 0; r < 2; r++) {
      const row = Array.from(z.subarray(r * C, r * C + C));
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      for (let c = 0; c < C; c++) total -= w[c] * ((1 - eps) * t[r * C + c] + eps / C) * (row[c] - lse);
    }
    expectClose(xe.crossEntropy(z, t, { classes: C, weight: w, labelSmoothing: eps }), total / 2, { rel: 1e-6, abs: 0 });
  });

  it('treats a one-hot Float32Array target like the class index', () => {
    const z = normal(6 * 7, 2, 11);
    const y = [3, 0, 6, 2, 2, 5];
    const onehot = new Float32Array(42);
    y.forEach((c, r) => { onehot[r * 7 + c] = 1; });
    const a = xe.crossEntropyWithGrad(z, y, { classes: 7 });
    const b = xe.crossEntropyWithGrad(z, onehot, { classes: 7 });
    expectClose(a.loss, b.loss, { rel: 1e-6, abs: 0 });
    expectClose(a.grad, b.grad, { rel: 0, abs: 1e-7 });
  });

  it('accepts every integer label type and plain arrays alike', () => {
    const z = normal(4 * 5, 1, 3);
    const ys = [1, 4, 0, 2];
    const expected = xe.crossEntropy(z, new Int32Array(ys), { classes: 5 });
    for (const t of [new Uint8Array(ys), new Uint16Array(ys), new Uint32Array(ys), ys]) {
      expect(xe.crossEntropy(z, t, { classes: 5 })).toBe(expected);
    }
  });

  it('gives NaN for an empty or fully ignored mean, 0 for their sum, and zero gradient rows', () => {
    expect(xe.crossEntropy(new Float32Array(0), [], { classes: 3 })).toBeNaN();
    expect(xe.crossEntropy(new Float32Array(0), [], { classes: 3, reduction: 'sum' })).toBe(0);
    expect((xe.crossEntropy(new Float32Array(0), [], { classes: 3, reduction: 'none' }) as Float32Array).length).toBe(0);
    const z = normal(6, 1, 5);
    const r = xe.crossEntropyWithGrad(z, [-100, -100], { classes: 3 });
    expect(r.loss).toBeNaN();
    expect(Array.from(r.grad)).toEqual([0, 0, 0, 0, 0, 0]);
    const none = xe.crossEntropyWithGrad(z, [1, 7], { classes: 3, ignoreIndex: 7, reduction: 'none' });
    expect((none.loss as Float32Array)[1]).toBe(0);
    expect(Array.from(none.grad.subarray(3))).toEqual([0, 0, 0]);
  });

  it('has gradients that pass a finite-difference check for every option combination', () => {
    const C = 4, N = 3;
    const z = normal(N * C, 1.5, 21);
    const targets: [string, Int32Array | Float32Array][] = [
      ['indices', new Int32Array([2, -100, 0])],
      ['probabilities', probabilities(N, C, 22)],
    ];
    const weight = new Float32Array([0.5, 1.5, 1, 2]);
    for (const [kind, t] of targets) {
      for (const w of [undefined, weight]) {
        for (const eps of [0, 0.2]) {
          for (const reduction of ['mean', 'sum', 'none'] as const) {
            const o: CrossEntropyOptions = { classes: C, weight: w, labelSmoothing: eps, reduction };
            const { grad } = xe.crossEntropyWithGrad(z, t, o);
            for (let j = 0; j < z.length; j++) {
              // Central difference on the backend's own loss; the step is read back after rounding.
              const up = z.slice(), down = z.slice();
              up[j] += 1e-2;
              down[j] -= 1e-2;
              const fd = (lossOf(xe, up, t, o) - lossOf(xe, down, t, o)) / (up[j] - down[j]);
              if (Math.abs(fd - grad[j]) > 2e-4 + 1e-3 * Math.abs(fd)) {
                expect.fail(`${kind} w=${!!w} eps=${eps} ${reduction}: grad[${j}] = ${grad[j]}, finite difference ${fd}`);
              }
            }
          }
        }
      }
    }
  });

  it('has a gradient of the mean loss that sums to zero across each row', () => {
    const C = 9, N = 5;
    const z = normal(N * C, 2, 31);
    const { grad } = xe.crossEntropyWithGrad(z, labels(N, C, 32), {
      classes: C, weight: new Float32Array(C).fill(0.7), labelSmoothing: 0.1,
    });
    for (let r = 0; r < N; r++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += grad[r * C + c];
      expect(Math.abs(s)).toBeLessThan(1e-7);
    }
  });

  it('is unchanged when a row is shifted by a constant', () => {
    const C = 33, N = 4;
    const z = normal(N * C, 2, 41);
    const y = labels(N, C, 42);
    const shifted = z.map((v, i) => v + (i < C ? 1000 : -250));
    const a = xe.crossEntropy(z, y, { classes: C, labelSmoothing: 0.05 }) as number;
    const b = xe.crossEntropy(shifted, y, { classes: C, labelSmoothing: 0.05 }) as number;
    // Shifting by 1000 rounds each float32 logit by up to 2^-14, so the loss moves by about that much.
    expectClose(b, a, { rel: 0, abs: 2e-4 });
  });

  it('computes the gradient in place when gradOut is the input', () => {
    const C = 17, N = 6;
    const z = normal(N * C, 2, 51);
    const y = labels(N, C, 52);
    const expected = xe.crossEntropyWithGrad(z, y, { classes: C, gradOut: new Float32Array(z.length) });
    const inPlace = z.slice();
    const r = xe.crossEntropyWithGrad(inPlace, y, { classes: C, gradOut: inPlace });
    expect(r.grad).toBe(inPlace);
    expect(r.loss).toBe(expected.loss);
    expect(Array.from(inPlace)).toEqual(Array.from(expected.grad));
  });
});

describe.each(wasmBackends)('crossEntropy on %s against the float64 reference', (_name, xe) => {
  const shapes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 32000];
  const tolLoss = { rel: 2e-6, abs: 1e-6 };
  const tolGrad = { rel: 0, abs: 1e-6 };

  it.each(shapes)('agrees for classes = %i with every option, on unaligned inputs', (C) => {
    const N = C >= 1000 ? 3 : 7;
    const z = unaligned(normal(N * C, 3, C));
    const u = rng(C + 1);
    const y = labels(N, C, C + 2);
    y[1] = -100;
    const soft = unaligned(probabilities(N, C, C + 3));
    const weight = unaligned(Float32Array.from({ length: C }, () => 0.25 + 2 * u()));
    for (const target of [y, soft]) {
      for (const w of [undefined, weight]) {
        for (const eps of [0, 0.15]) {
          for (const reduction of ['mean', 'sum', 'none'] as const) {
            const o: CrossEntropyOptions = { classes: C, weight: w, labelSmoothing: eps, reduction };
            const got = xe.crossEntropyWithGrad(z, target, o);
            const want = reference.crossEntropyWithGrad(z, target, o);
            expectClose(got.loss as number, want.loss as number, tolLoss);
            expectClose(got.grad, want.grad, tolGrad);
            expectClose(xe.crossEntropy(z, target, o) as number, want.loss as number, tolLoss);
          }
        }
      }
    }
  });

  it('agrees on non-finite logits: masked -inf classes, +inf and NaN', () => {
    const C = 6;
    const z = new Float32Array([
      0, -Infinity, 1, -Infinity, 2, 0.5, // masked classes, finite maximum
      -Infinity, -Infinity, 3, -Infinity, -Infinity, -Infinity, // one finite class
      0, Infinity, 1, 2, 3, 4, // +inf
      0, NaN, 1, 2, 3, 4, // NaN
      -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, // nothing finite
    ]);
    for (const y of [[0, 2, 0, 0, 0], [1, 2, 1, 2, 3]]) {
      for (const eps of [0, 0.1]) {
        const o: CrossEntropyOptions = { classes: C, labelSmoothing: eps, reduction: 'none' };
        const got = xe.crossEntropyWithGrad(z, y, o);
        const want = reference.crossEntropyWithGrad(z, y, o);
        expectClose(got.loss as unknown as Float32Array, want.loss as Float64Array, tolLoss);
        expectClose(got.grad, want.grad, tolGrad);
      }
    }
  });

  it('gives the same loss bits with and without the gradient on rows reaching far below their maximum', () => {
    // The loss alone sums exponentials clamped at e^-87.34 (assembly/exp.ts, expNeg4Sumk); with the
    // gradient they are flushed to 0. Terms that far down must vanish in the row sum either way.
    const C = 40, N = 6;
    const z = normal(N * C, 3, 71);
    const far = [-Infinity, -87.5, -90, -200, -1e4, -1e30];
    for (let r = 0; r < N; r++) {
      for (let c = r % 3; c < C; c += 2 + (r % 3)) z[r * C + c] = 5 + far[(r + c) % far.length];
    }
    z.fill(-Infinity, C, 2 * C - 1); // row 1: one finite class
    const y = labels(N, C, 72);
    y[1] = C - 1;
    for (const eps of [0, 0.1]) {
      const o: CrossEntropyOptions = { classes: C, labelSmoothing: eps, reduction: 'none' };
      const alone = xe.crossEntropy(z, y, o) as unknown as Float32Array;
      const withGrad = xe.crossEntropyWithGrad(z, y, o).loss as unknown as Float32Array;
      expect(Array.from(alone)).toEqual(Array.from(withGrad));
      if (eps === 0) expect(alone[1]).toBe(0);
      const want = reference.crossEntropy(z, y, o) as Float64Array;
      // Smoothing over -inf classes is +inf, as in PyTorch.
      expectClose(alone, want, tolLoss);
    }
  });

  it.each([7, 1000, 5000])(
    'keeps smoothed and soft-target losses finite on logits near float32\'s limits (classes = %i), in place or not',
    (C) => {
      // sum_c u_c (max - z_c) goes beyond float32 here as a sum (or as one term, where the span
      // max - z exceeds FLT_MAX), though the loss, within float32, does not (assembly/row.ts).
      const N = 4;
      const z = normal(N * C, 3, C + 80);
      for (let c = 0; c < C; c++) {
        if (c % 3 === 0) z[c] = -3e38; // row 0: far below a moderate maximum
        if (c % 2 === 1) z[C + c] = -1e38; // row 1: across a span beyond FLT_MAX
        z[2 * C + c] = c % 5 === 0 ? -1e30 : z[2 * C + c]; // row 2: large, but within the in-place bound
      }
      z[C + 2] = 2.5e38;
      const y = new Int32Array([1, 2, 0, 1]);
      const soft = probabilities(N, C, C + 81);
      const weight = Float32Array.from({ length: C }, (_, c) => 0.25 + 0.25 * (c % 4));
      for (const target of [y, soft]) {
        for (const w of [undefined, weight]) {
          const o = { classes: C, weight: w, labelSmoothing: 0.1, reduction: 'none' as const };
          const want = reference.crossEntropyWithGrad(z, target, o);
          const wantLoss = want.loss as Float64Array;
          expect(wantLoss.slice(0, 3).every((v) => v > 1e20 && v < 3e38)).toBe(true);
          const alone = xe.crossEntropy(z, target, o) as Float32Array;
          expectClose(alone, wantLoss, tolLoss);
          // Staged copy (the gradient overwrites it), resident in place, resident into a second buffer.
          const staged = xe.crossEntropyWithGrad(z, target, o);
          const zr = xe.tensor(z), gr = xe.alloc(z.length);
          const apart = xe.crossEntropyWithGrad(zr, target, { ...o, gradOut: gr });
          expectClose(apart.grad, want.grad, tolGrad);
          const inPlace = xe.crossEntropyWithGrad(zr, target, { ...o, gradOut: zr });
          for (const got of [staged, apart, inPlace]) {
            expectClose(got.loss as Float32Array, wantLoss, tolLoss);
            // One block (2048 floats): the same sums whichever path, so the same bits.
            if (C <= 2048) expect(Array.from(got.loss as Float32Array)).toEqual(Array.from(alone));
            expectClose(got.grad, want.grad, tolGrad);
          }
          zr.free();
          gr.free();
        }
      }
    },
  );

  it('merges a block of only -inf into a longer row without a trace', () => {
    // Rows longer than a block (2048 floats) are summed block by block; a block of only -inf is
    // swept with shift 0 and must add nothing visible.
    const C = 5000, N = 2;
    const z = normal(N * C, 3, 73);
    z.fill(-Infinity, 0, 2048);
    z.fill(-Infinity, C + 2048, C + 4096);
    const y = new Int32Array([3000, 100]);
    const got = xe.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float32Array;
    expectClose(got, reference.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float64Array, { rel: 1e-6, abs: 0 });
    expectClose(xe.logSumExp(z, C), reference.logSumExp(z, C), { rel: 1e-6, abs: 0 });
  });

  it.each([
    [4096, 1000],
    [64, 128256],
  ])('reaches 1e-6 relative loss error and 1e-6 gradient error on N = %i, C = %i, logits ~ N(0, 3^2)', (N, C) => {
    const z = normal(N * C, 3, N + C);
    const y = labels(N, C, N * C);
    const got = xe.crossEntropyWithGrad(z, y, { classes: C });
    const want = reference.crossEntropyWithGrad(z, y, { classes: C });
    const rel = Math.abs((got.loss as number) - (want.loss as number)) / (want.loss as number);
    const gradErr = maxAbsError(got.grad, want.grad);
    console.log(`N=${N} C=${C}: loss relative error ${rel.toExponential(2)}, gradient max abs error ${gradErr.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(1e-6);
    expect(gradErr).toBeLessThanOrEqual(1e-6);
    const none = xe.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float32Array;
    const noneRef = reference.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float64Array;
    expectClose(none, noneRef, { rel: 1e-6, abs: 0 });
  });

  it('stays exact on confident rows, where the loss is tiny (p_y ~ 0.99)', () => {
    const N = 4096, C = 1000;
    const z = normal(N * C, 1, 61);
    const y = labels(N, C, 62);
    for (let r = 0; r < N; r++) z[r * C + y[r]] += 12;
    const got = xe.crossEntropy(z, y, { classes: C }) as number;
    const want = reference.crossEntropy(z, y, { classes: C }) as number;
    expect(want).toBeLessThan(0.02);
    expect(Math.abs(got - want) / want).toBeLessThanOrEqual(1e-7);
    const rows = xe.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float32Array;
    expectClose(rows, reference.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float64Array, { rel: 1e-6, abs: 0 });
  });

  it('streams inputs far larger than its memory without growing it', async () => {
    const fresh = await init();
    const start = fresh.driver.memoryBytes;
    const C = 1000, N = 4096; // 16 MB of logits
    const z = normal(N * C, 3, 7);
    const y = labels(N, C, 8);
    const got = fresh.crossEntropyWithGrad(z, y, { classes: C });
    expectClose(got.loss, reference.crossEntropy(z, y, { classes: C }) as number, { rel: 1e-6, abs: 0 });
    expect(fresh.driver.memoryBytes).toBeLessThan(2 * 1024 * 1024);
    expect(fresh.driver.memoryBytes).toBeGreaterThan(start); // it did have to grow once, to the window
  });

  it('grows memory for a single row larger than its initial memory', async () => {
    const fresh = await init();
    const start = fresh.driver.memoryBytes;
    const C = 128256;
    expect(C * 4).toBeGreaterThan(start);
    const z = normal(2 * C, 3, 9);
    const y = [5, C - 1];
    expectClose(fresh.crossEntropy(z, y, { classes: C }) as number, reference.crossEntropy(z, y, { classes: C }) as number, tolLoss);
    expect(fresh.driver.memoryBytes).toBeGreaterThanOrEqual(C * 4);
  });
});
