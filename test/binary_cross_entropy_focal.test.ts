// Binary focal loss: binaryCrossEntropy(input, target, { focal: { gamma, alpha } }), torchvision's
// sigmoid_focal_loss (Keras BinaryFocalCrossentropy with apply_class_balancing), on every backend and
// against the float64 reference.

import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type { BinaryCrossEntropyOptions } from '../src/index.js';
import {
  backends, wasmBackends, normal, unaligned, uniform, bits, expectClose, maxAbsError, type Backend,
} from './helpers.js';

const f32 = (values: number[]) => new Float32Array(values);

/** Element losses as numbers (reduction 'none'). */
function elementLosses(xe: Backend, x: Float32Array, t: Float32Array | Uint8Array, o: BinaryCrossEntropyOptions): ArrayLike<number> {
  return xe.binaryCrossEntropy(x, t, { ...o, reduction: 'none' }) as unknown as ArrayLike<number>;
}

/**
 * torchvision.ops.sigmoid_focal_loss written literally (reduction 'none'): p = sigmoid(x),
 * ce = BCE-with-logits, p_t = p t + (1 - p)(1 - t), loss = alpha_t ce (1 - p_t)^gamma.
 */
function torchvisionFocal(x: number, t: number, gamma: number, alpha: number): number {
  const p = 1 / (1 + Math.exp(-x));
  const ce = Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
  const pt = p * t + (1 - p) * (1 - t);
  return (alpha * t + (1 - alpha) * (1 - t)) * ce * (1 - pt) ** gamma;
}

/** Keras' binary_focal_crossentropy with apply_class_balancing, on probabilities clipped to [1e-7, 1 - 1e-7]. */
function kerasFocal(p: number, t: number, gamma: number, alpha: number): number {
  const q = Math.min(Math.max(p, Math.fround(1e-7)), Math.fround(1 - 1e-7));
  const ce = -(t * Math.log(q) + (1 - t) * Math.log(1 - q));
  const pt = t * q + (1 - t) * (1 - q);
  return (t * alpha + (1 - t) * (1 - alpha)) * (1 - pt) ** gamma * ce;
}

describe.each(backends)('binary focal loss on %s', (_name, xe) => {
  it('matches torchvision sigmoid_focal_loss and Keras BinaryFocalCrossentropy, written literally', () => {
    const x = f32([0.3, -1.7, 4, -0.2, 2.5, -3, 0]);
    const t = f32([1, 0, 1, 0.5, 0, 1, 0.25]);
    const p = f32([0.3, 0.1, 0.95, 0.5, 0.7, 0.02, 0.5]);
    for (const [gamma, alpha] of [[2, 0.25], [0.5, 1], [0, 0.25], [3, 0.75]]) {
      const focal = { gamma, alpha };
      expectClose(elementLosses(xe, x, t, { focal }), Array.from(x, (v, i) => torchvisionFocal(v, t[i], gamma, alpha)), { rel: 2e-6, abs: 1e-9 });
      expectClose(elementLosses(xe, p, t, { focal, from: 'probs' }), Array.from(p, (v, i) => kerasFocal(v, t[i], gamma, alpha)), { rel: 2e-6, abs: 1e-9 });
    }
    // The defaults are torchvision's: gamma 2, alpha 0.25.
    expectClose(elementLosses(xe, x, t, { focal: {} }), elementLosses(xe, x, t, { focal: { gamma: 2, alpha: 0.25 } }), { rel: 0, abs: 0 });
  });

  it('is 0.5 x plain binary cross-entropy for gamma 0, alpha 0.5, loss and gradient', () => {
    const C = 3, n = 8 * C;
    const x = normal(n, 3, 5), p = uniform(n, 6, 0.01, 0.99), t = uniform(n, 7);
    const weight = f32([0.5, 2, 1]);
    for (const o of [
      { classes: C }, { classes: C, weight, labelSmoothing: 0.1 },
      { classes: C, from: 'probs' as const }, { classes: C, from: 'probs' as const, weight, labelSmoothing: 0.2, epsilon: 0.05 },
    ]) {
      const input = o.from ? p : x;
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const plain = xe.binaryCrossEntropyWithGrad(input, t, { ...o, reduction });
        const focal = xe.binaryCrossEntropyWithGrad(input, t, { ...o, reduction, focal: { gamma: 0, alpha: 0.5 } });
        // The loss is a number, or element losses for 'none'.
        const plainLoss = plain.loss as unknown as number | ArrayLike<number>;
        const focalLoss = focal.loss as unknown as number | ArrayLike<number>;
        expectClose(focalLoss, typeof plainLoss === 'number' ? 0.5 * plainLoss : Array.from(plainLoss, (v) => 0.5 * v), { rel: 1e-7, abs: 0 });
        // The two kernels round the gradient differently (focal: (1 - t) sigma - t (1 - sigma); plain:
        // a (P - Q e), see assembly/binary_cross_entropy.ts), so entries near 0 differ by a few ulps
        // of the largest.
        const largest = Math.max(...Array.from(plain.grad, Math.abs));
        expectClose(focal.grad, Array.from(plain.grad, (g) => 0.5 * g), { rel: 1e-7, abs: 4 * 2 ** -24 * largest });
      }
    }
  });

  it('stays finite at confident logits of +-100, where 1 - p_t is 0 in float32', () => {
    // x = 100, t = 1 and x = -100, t = 0 are right (1 - p_t = e^-100, flushed to 0 in float32): loss
    // and gradient ~0 even for gamma 0.5 < 1, where (1 - p_t)^(gamma - 1) is unbounded. The wrong
    // answers cost alpha_t * 100 with |gradient| alpha_t.
    const x = f32([100, -100, 100, -100]), t = f32([1, 0, 0, 1]);
    for (const gamma of [0, 0.5, 2]) {
      const { loss, grad } = xe.binaryCrossEntropyWithGrad(x, t, { reduction: 'none', focal: { gamma, alpha: 0.25 } });
      expectClose(loss, [0, 0, 75, 25], { rel: 1e-6, abs: 1e-30 });
      expectClose(grad, [0, 0, 0.75, -0.25], { rel: 1e-6, abs: 1e-30 });
    }
  });

  it('has gradients that pass a finite-difference check for gamma 0, 0.5, 2 and alpha 0.25, 1', () => {
    // As the plain suite: each element's loss depends only on its own input, so all are perturbed at once.
    const C = 3, n = 4 * C;
    const weight = f32([0.5, 2, 1]);
    let checked = 0;
    for (const from of ['logits', 'probs'] as const) {
      const x = from === 'logits' ? normal(n, 2, 32) : uniform(n, 33, 0.1, 0.9);
      const h = from === 'logits' ? 1e-2 : 1e-3;
      const up = Float32Array.from(x, (v) => v + h), down = Float32Array.from(x, (v) => v - h);
      for (const t of [uniform(n, 31), bits(n, 34)]) {
        for (const gamma of [0, 0.5, 2]) {
          for (const alpha of [0.25, 1]) {
            for (const w of [undefined, weight]) {
              for (const labelSmoothing of [0, 0.3]) {
                for (const reduction of ['mean', 'sum'] as const) {
                  const o: BinaryCrossEntropyOptions = { classes: C, from, weight: w, labelSmoothing, focal: { gamma, alpha } };
                  const lu = elementLosses(xe, up, t, o), ld = elementLosses(xe, down, t, o);
                  const scale = reduction === 'mean' ? 1 / n : 1;
                  const fd = Array.from(x, (_v, i) => scale * (lu[i] - ld[i]) / (up[i] - down[i]));
                  const { grad } = xe.binaryCrossEntropyWithGrad(x, t, { ...o, reduction });
                  expectClose(grad, fd, { rel: 3e-3, abs: 1e-4 * scale });
                  checked++;
                }
              }
            }
          }
        }
      }
    }
    expect(checked).toBe(2 * 2 * 3 * 2 * 2 * 2 * 2);
  });

  it('computes the gradient in place when gradOut is the input', () => {
    for (const o of [{ classes: 5, weight: f32([1, 2, 3, 0, 1]) }, { classes: 5, from: 'probs' as const }]) {
      const x = o.from ? uniform(35, 41, 0.05, 0.95) : normal(35, 3, 41);
      const t = uniform(35, 42);
      const focal = { gamma: 1.5, alpha: 0.4 };
      const expected = xe.binaryCrossEntropyWithGrad(x, t, { ...o, focal });
      const buffer = x.slice();
      const inPlace = xe.binaryCrossEntropyWithGrad(buffer, t, { ...o, focal, gradOut: buffer });
      expect(inPlace.grad).toBe(buffer);
      expect(inPlace.loss).toBe(expected.loss);
      expect(Array.from(buffer)).toEqual(Array.from(Float32Array.from(expected.grad)));
    }
  });
});

describe.each(wasmBackends)('binary focal loss on %s against the float64 reference', (_name, xe) => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000];

  it.each(sizes)('agrees on %i unaligned elements, flat and as one row', (n) => {
    const x = unaligned(normal(n, 3, n)), p = unaligned(uniform(n, n + 1));
    const soft = unaligned(uniform(n, n + 2)), hard = bits(n, n + 3);
    for (const classes of [1, n]) {
      const weight = uniform(classes, n + 4, 0.5, 2);
      const optionSets: (BinaryCrossEntropyOptions & { weight?: Float32Array })[] = [
        { classes, focal: {} },
        { classes, focal: { gamma: 0.5, alpha: 1 }, weight: unaligned(weight), labelSmoothing: 0.1, unit: 'bits' },
        { classes, focal: { gamma: 0, alpha: 0.25 }, weight },
        { classes, from: 'probs', focal: {} },
        { classes, from: 'probs', focal: { gamma: 3, alpha: 0.6 }, weight, labelSmoothing: 0.2, epsilon: 1e-3 },
      ];
      for (const o of optionSets) {
        const input = o.from === 'probs' ? p : x;
        for (const t of [soft, hard]) {
          const mine = xe.binaryCrossEntropyWithGrad(input, t, { ...o, reduction: 'sum' });
          const ref = reference.binaryCrossEntropyWithGrad(input, t, { ...o, reduction: 'sum' });
          expectClose(mine.loss, ref.loss, { rel: 2e-6, abs: 1e-30 });
          expectClose(elementLosses(xe, input, t, o), elementLosses(reference as unknown as Backend, input, t, o), { rel: 5e-6, abs: 1e-7 });
          // Errors in units of the gradient's size: w for logits, w / (p (1 - p)) for probabilities.
          const w = (i: number) => (o.weight ? o.weight[i % classes] : 1);
          const unitOf = o.from === 'probs' ? (i: number) => w(i) / (input[i] * (1 - input[i]) || 1) : w;
          let worst = 0;
          for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(mine.grad[i] - ref.grad[i]) / unitOf(i));
          expect(worst).toBeLessThanOrEqual(1e-6);
        }
      }
    }
  });

  it('has mean loss within 1e-6 relative on 1,000,000 elements, logits and probabilities', () => {
    const n = 1_000_000;
    const x = unaligned(normal(n, 3, 99)), t = uniform(n, 100), hard = bits(n, 102), p = uniform(n, 101);
    for (const target of [t, hard]) {
      for (const focal of [{}, { gamma: 0.5, alpha: 1 }]) {
        expectClose(xe.binaryCrossEntropy(x, target, { focal }), reference.binaryCrossEntropy(x, target, { focal }) as number, { rel: 1e-6, abs: 0 });
        expectClose(xe.binaryCrossEntropy(p, target, { from: 'probs', focal }), reference.binaryCrossEntropy(p, target, { from: 'probs', focal }) as number, { rel: 1e-6, abs: 0 });
      }
    }
  });

  it('has gradient max abs error <= 1e-6 on 210,000 logits streamed in chunks', () => {
    const n = 210_000, classes = 7;
    const x = normal(n, 3, 77), weight = uniform(classes, 80, 0, 2);
    for (const target of [uniform(n, 78), bits(n, 79)]) {
      for (const o of [{ classes, focal: {} }, { classes, weight, labelSmoothing: 0.05, focal: { gamma: 0.5, alpha: 0.9 } }]) {
        const mine = xe.binaryCrossEntropyWithGrad(x, target, { ...o, reduction: 'sum' });
        const ref = reference.binaryCrossEntropyWithGrad(x, target, { ...o, reduction: 'sum' });
        expect(maxAbsError(mine.grad, ref.grad)).toBeLessThanOrEqual(1e-6);
        expectClose(mine.loss, ref.loss, { rel: 1e-6, abs: 0 });
      }
    }
  });
});
