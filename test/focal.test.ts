// The categorical focal loss option of crossEntropy (assembly/focal.ts).

import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type { CrossEntropyOptions } from '../src/index.js';
import { backends, wasmBackends, normal, labels, probabilities, unaligned, expectClose, expectSameBits, rng } from './helpers.js';

const num = (v: unknown) => v as number;
const ln = (ps: number[]) => new Float32Array(ps.map(Math.log));

describe.each(backends)('focal loss on %s', (_name, xe) => {
  it('is alpha (1 - p_y)^gamma times the cross-entropy of the true class', () => {
    // p_y = 0.1: 0.25 * 0.9^2 * ln 10
    const z = ln([0.1, 0.5, 0.1, 0.1, 0.2]);
    expectClose(num(xe.crossEntropy(z, [0], { classes: 5, focal: {} })), 0.25 * 0.81 * Math.log(10), { rel: 1e-6, abs: 0 });
    expectClose(num(xe.crossEntropy(z, [1], { classes: 5, focal: { gamma: 1, alpha: 1 } })), 0.5 * Math.log(2), { rel: 1e-6, abs: 0 });
  });

  it('equals cross-entropy for gamma = 0 and alpha = 1, with every option', () => {
    const C = 6, N = 5;
    const z = normal(N * C, 2, 1);
    for (const t of [[1, 5, -100, 0, 3], probabilities(N, C, 2)]) {
      const o: CrossEntropyOptions = {
        classes: C, labelSmoothing: 0.1, weight: new Float32Array([1, 2, 0.5, 1, 1, 3]),
        sampleWeight: new Float32Array([1, 0.5, 2, 1, 1]),
      };
      const plain = xe.crossEntropyWithGrad(z, t, o);
      const focal = xe.crossEntropyWithGrad(z, t, { ...o, focal: { gamma: 0, alpha: 1 } });
      expectClose(num(focal.loss), num(plain.loss), { rel: 1e-6, abs: 0 });
      expectClose(focal.grad, plain.grad, { rel: 0, abs: 1e-7 });
    }
  });

  it('down-weights well-classified rows', () => {
    const z = new Float32Array([4, 0, 0, 0.2, 0, 0]);
    const ce = xe.crossEntropy(z, [0, 0], { classes: 3, reduction: 'none' }) as unknown as ArrayLike<number>;
    const fl = xe.crossEntropy(z, [0, 0], { classes: 3, reduction: 'none', focal: { alpha: 1 } }) as unknown as ArrayLike<number>;
    expect(fl[0] / ce[0]).toBeLessThan(0.01);
    expect(fl[1] / ce[1]).toBeGreaterThan(0.3);
  });

  it('has gradients that pass a finite-difference check', () => {
    const C = 4, N = 3;
    const z = normal(N * C, 1.5, 3);
    for (const t of [new Int32Array([2, -100, 0]), probabilities(N, C, 4)]) {
      for (const gamma of [0.5, 2, 3.5]) {
        for (const eps of [0, 0.2]) {
          const o: CrossEntropyOptions = {
            classes: C, focal: { gamma, alpha: 0.7 }, labelSmoothing: eps,
            weight: new Float32Array([1, 2, 0.5, 1.5]), sampleWeight: new Float32Array([1, 3, 0.5]), softcap: eps ? 3 : undefined,
          };
          const { grad } = xe.crossEntropyWithGrad(z, t, o);
          for (let j = 0; j < z.length; j++) {
            const up = z.slice(), down = z.slice();
            up[j] += 1e-2;
            down[j] -= 1e-2;
            const fd = (num(xe.crossEntropy(up, t, o)) - num(xe.crossEntropy(down, t, o))) / (up[j] - down[j]);
            if (Math.abs(fd - grad[j]) > 2e-4 + 1e-3 * Math.abs(fd)) {
              expect.fail(`gamma=${gamma} eps=${eps}: grad[${j}] = ${grad[j]}, finite difference ${fd}`);
            }
          }
        }
      }
    }
  });
});

describe.each(wasmBackends)('focal loss on %s against the float64 reference', (_name, xe) => {
  it.each([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 32000])('agrees for classes = %i on unaligned input', (C) => {
    const N = C >= 1000 ? 3 : 7;
    const u = rng(C);
    const z = unaligned(normal(N * C, 3, C));
    if (C > 2) z[1] = -Infinity; // a masked class
    const y = labels(N, C, C + 1);
    y[1] = -100;
    const soft = unaligned(probabilities(N, C, C + 2));
    const weight = unaligned(Float32Array.from({ length: C }, () => 0.25 + 2 * u()));
    for (const t of [y, soft]) {
      for (const eps of [0, 0.1]) {
        const o: CrossEntropyOptions = { classes: C, focal: { gamma: 2, alpha: 0.25 }, weight, labelSmoothing: eps, reduction: 'none' };
        const got = xe.crossEntropyWithGrad(z, t, o);
        const want = reference.crossEntropyWithGrad(z, t, o);
        expectClose(got.loss as never, want.loss as never, { rel: 2e-6, abs: 1e-6 });
        expectClose(got.grad, want.grad, { rel: 0, abs: 1e-6 });
      }
    }
  });

  it('keeps 2e-6 relative loss error on wide rows of equal terms (C = 2049 to 8192, smoothing)', () => {
    // Every class but the label has the same logit, so the f32 lane sums round the same way at each
    // addition: summed over whole 2048-class blocks (512 terms a lane) they lost 1e-5 to 1.6e-5.
    for (const C of [2049, 8192]) {
      for (const v of [1, 0.5]) {
        const z = new Float32Array(C).fill(v);
        z[0] = 0;
        const o: CrossEntropyOptions = { classes: C, labelSmoothing: 0.1, focal: { gamma: 2, alpha: 0.25 }, reduction: 'sum' };
        const want = num(reference.crossEntropy(z, [0], o));
        expect(Math.abs(num(xe.crossEntropy(z, [0], o)) - want) / want).toBeLessThanOrEqual(2e-6);
      }
    }
  });

  it.each([8, 1000])('follows the reference on logits near float32\'s limits (classes = %i)', (C) => {
    // log p = z - lse leaves float32 across a span beyond FLT_MAX, and p log p became 0 * -inf:
    // such rows are redone in f64 (assembly/focal.ts, rowFocalExact). Row 2 ties three maxima at
    // 0.999 FLT_MAX, where lse = max + log 3 rounds to max in f64 and each must still get p = 1/3.
    const N = 4;
    const z = normal(N * C, 3, C + 90);
    for (let c = 0; c < C; c += 3) z[c] = -3e38;
    z[1] = 2e37;
    for (let c = 1; c < C; c += 2) z[C + c] = -1e38;
    z[C] = 2.5e38;
    for (const c of [1, 4, 6]) z[2 * C + c] = Math.fround(0.999 * 3.4028234663852886e38);
    z[2 * C + 5] = -2e38;
    const y = new Int32Array([2, 1, 4, 1]);
    const soft = probabilities(N, C, C + 91);
    const weight = Float32Array.from({ length: C }, (_, c) => 0.25 + 0.25 * (c % 4));
    for (const t of [y, soft]) {
      for (const eps of [0, 0.1]) {
        const o: CrossEntropyOptions = { classes: C, focal: { gamma: 2, alpha: 0.25 }, weight, labelSmoothing: eps, reduction: 'none' };
        const want = reference.crossEntropyWithGrad(z, t, o);
        const wantLoss = want.loss as Float64Array;
        // Finite as float32 (row 3 is an ordinary row), and far beyond 1 where logits are huge.
        expect(wantLoss.every((v) => v < 3e38)).toBe(true);
        expect(wantLoss[0] > 1e30 && wantLoss[1] > 1e30).toBe(true);
        const got = xe.crossEntropyWithGrad(z, t, o);
        expectClose(got.loss as never, wantLoss as never, { rel: 2e-6, abs: 1e-6 });
        expectClose(xe.crossEntropy(z, t, o) as never, wantLoss as never, { rel: 2e-6, abs: 1e-6 });
        expectClose(got.grad, want.grad, { rel: 0, abs: 1e-6 });
      }
    }
  });

  it('reaches 1e-6 relative loss error on N = 1024, C = 1000', () => {
    const N = 1024, C = 1000;
    const z = normal(N * C, 3, 5);
    const y = labels(N, C, 6);
    const o = { classes: C, focal: { gamma: 2 } };
    const got = xe.crossEntropyWithGrad(z, y, o);
    const want = reference.crossEntropyWithGrad(z, y, o);
    expect(Math.abs(num(got.loss) - num(want.loss)) / num(want.loss)).toBeLessThanOrEqual(1e-6);
    expectClose(got.grad, want.grad, { rel: 0, abs: 1e-6 });
  });

  it.each([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 65, 1000, 2049, 4099])(
    'gives a hard label without smoothing the bits of its one-hot soft target (classes = %i)', (C) => {
      // Hard labels without smoothing take a path of their own (only y's term counts, one exponential
      // per class for the gradient: assembly/focal.ts, rowFocal); one-hot soft targets run the whole
      // row through the general arithmetic with the same coefficients, which must give the same bits.
      const N = 6;
      const z = normal(N * C, 4, C + 40);
      if (C > 2) z[1] = -Infinity; // a masked class
      if (C > 3) z[2 * C + 1] = 3e38; // a row redone in f64
      const y = labels(N, C, C + 41);
      y[3] = C - 1; // the last class: the scalar tail when C is not a multiple of 4
      y[4] = 0;
      const hot = new Float32Array(N * C);
      for (let r = 0; r < N; r++) hot[r * C + y[r]] = 1;
      const weight = Float32Array.from({ length: C }, (_, c) => 0.5 + (c % 3));
      weight[0] = 0; // row 4's label has no weight
      for (const w of [undefined, weight]) {
        for (const gamma of [0, 0.5, 2]) {
          const o: CrossEntropyOptions = { classes: C, focal: { gamma, alpha: 0.3 }, weight: w, reduction: 'sum' };
          const what = `gamma = ${gamma}, ${w ? 'weighted' : 'unweighted'}`;
          const hard = xe.crossEntropyWithGrad(z, y, o), soft = xe.crossEntropyWithGrad(z, hot, o);
          expectSameBits(hard.loss, soft.loss, `${what}: loss with gradient`);
          expectSameBits(hard.grad, soft.grad, `${what}: gradient`);
          expectSameBits(xe.crossEntropy(z, y, o), xe.crossEntropy(z, hot, o), `${what}: loss`);
          const none = { ...o, reduction: 'none' as const };
          expectSameBits(xe.crossEntropy(z, y, none), xe.crossEntropy(z, hot, none), `${what}: row losses`);
          // In place, where the row's logits are overwritten before y's gradient is written.
          const a = z.slice(), b = z.slice();
          xe.crossEntropyWithGrad(a, y, { ...o, gradOut: a });
          xe.crossEntropyWithGrad(b, hot, { ...o, gradOut: b });
          expectSameBits(a, b, `${what}: gradient in place`);
        }
      }
    });
});
