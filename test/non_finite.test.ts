// docs/accuracy.md's "Non-finite inputs" table, row by row: what every function returns for -inf, +inf and
// NaN logits and for probabilities of exactly 0 and 1, on the reference and on every build.

import { describe, expect, it } from 'vitest';
import { backends, type Backend } from './helpers.js';

const I = Infinity, N = NaN;

/**
 * Exact expectation, element by element: a number must equal the result to rel 1e-6 + abs 1e-7
 * (the finite entries are ordinary float32 results); NaN must be NaN and ±inf must be ±inf exactly.
 */
function expectValues(actual: ArrayLike<number> | number, expected: number[]): void {
  const got = typeof actual === 'number' ? [actual] : Array.from(actual);
  expect(got.length).toBe(expected.length);
  got.forEach((g, i) => {
    const e = expected[i];
    if (Number.isNaN(e)) expect(g, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(e)) expect(g, `element ${i}`).toBe(e);
    else expect(Math.abs(g - e), `element ${i}: ${g} vs ${e}`).toBeLessThanOrEqual(1e-6 * Math.abs(e) + 1e-7);
  });
}

const f32 = (...v: number[]) => new Float32Array(v);
const LN2 = Math.LN2;
/** Softmax and log-softmax of [0, -inf, 1]. */
const P0 = 1 / (1 + Math.E), P2 = Math.E / (1 + Math.E);
/** -log of the clipped probabilities: 1 - 1e-7 (in float32), 1 - that, and 1e-7 (Keras' epsilon). */
const TOP = Math.fround(1 - 1e-7);
const CLIP_TOP = -Math.log(TOP), CLIP_HI = -Math.log(1 - TOP), CLIP_LO = -Math.log(Math.fround(1e-7));

describe.each(backends)('non-finite inputs on %s (docs/accuracy.md table)', (_name, xe: Backend) => {
  it('a masked class (-inf beside finite logits) gets probability 0 and no gradient', () => {
    const z = f32(0, -I, 1);
    expectValues(xe.softmax(z, 3), [P0, 0, P2]);
    expectValues(xe.logSoftmax(z, 3), [Math.log(P0), -I, Math.log(P2)]);
    expectValues(xe.logSumExp(z, 3), [Math.log(1 + Math.E)]);
    const y0 = xe.crossEntropyWithGrad(z, [0], { classes: 3 });
    expectValues(y0.loss, [-Math.log(P0)]);
    expectValues(y0.grad, [P0 - 1, 0, P2]);
    // The label on the masked class: an infinite loss, as PyTorch.
    const y1 = xe.crossEntropyWithGrad(z, [1], { classes: 3 });
    expectValues(y1.loss, [I]);
    expectValues(y1.grad, [P0, -1, P2]);
    expectValues(xe.entropy(f32(0, -I), 2, { from: 'logits' }), [0]);
    expectValues(xe.klDivergence(f32(0.5, 0.5), f32(0, -I), 2, { from: 'logits', reduction: 'none' }), [I]);
  });

  it('a masked class with probability targets: NaN where its target is 0 (0 · -inf, as PyTorch), +inf above 0', () => {
    const z = f32(0, -I, 1);
    expectValues(xe.crossEntropy(z, f32(0.5, 0, 0.5), { classes: 3 }), [N]);
    expectValues(xe.crossEntropy(z, f32(0.5, 0.25, 0.25), { classes: 3 }), [I]);
    // Label smoothing gives the masked class a target above 0.
    expectValues(xe.crossEntropy(z, [0], { classes: 3, labelSmoothing: 0.1 }), [I]);
  });

  it('binary cross-entropy keeps the limit at infinite logits: +inf where the target disagrees (PyTorch: NaN)', () => {
    expectValues(xe.binaryCrossEntropy(f32(-I, -I, I), f32(1, 0.5, 0.5), { reduction: 'none' }), [I, I, I]);
  });

  it('focal binary cross-entropy at infinite logits: the gradient alpha_t (sigma - t), as torchvision (was NaN)', () => {
    const x = f32(-I, I, -I, I), t = f32(0, 0, 1, 1);
    for (const gamma of [0, 2]) {
      const r = xe.binaryCrossEntropyWithGrad(x, t, { focal: { gamma, alpha: 0.25 }, reduction: 'none' });
      expectValues(r.grad, [0, 0.75, -0.25, 0]);
      expectValues(r.loss, [N, I, I, N]);
    }
  });

  it('a row of only -inf has log-sum-exp -inf and NaN everywhere else', () => {
    const z = f32(-I, -I, -I);
    expectValues(xe.logSumExp(z, 3), [-I]);
    expectValues(xe.softmax(z, 3), [N, N, N]);
    expectValues(xe.logSoftmax(z, 3), [N, N, N]);
    const r = xe.crossEntropyWithGrad(z, [0], { classes: 3 });
    expectValues(r.loss, [N]);
    expectValues(r.grad, [N, N, N]);
  });

  it('a +inf logit has log-sum-exp +inf, softmax NaN at it and 0 elsewhere; loss +inf, or NaN on it', () => {
    const z = f32(0, I, 1);
    expectValues(xe.logSumExp(z, 3), [I]);
    expectValues(xe.softmax(z, 3), [0, N, 0]);
    expectValues(xe.logSoftmax(z, 3), [-I, N, -I]);
    const r = xe.crossEntropyWithGrad(z, [0], { classes: 3 });
    expectValues(r.loss, [I]);
    expectValues(r.grad, [-1, N, 0]);
    expectValues(xe.crossEntropy(z, [1], { classes: 3 }), [N]);
    expectValues(xe.entropy(f32(0, I), 2, { from: 'logits' }), [N]);
    expectValues(xe.klDivergence(f32(0.5, 0.5), f32(0, I), 2, { from: 'logits', reduction: 'none' }), [N]);
  });

  it('a NaN logit makes its whole row NaN', () => {
    const z = f32(0, N, 1);
    expectValues(xe.logSumExp(z, 3), [N]);
    expectValues(xe.softmax(z, 3), [N, N, N]);
    expectValues(xe.logSoftmax(z, 3), [N, N, N]);
    const r = xe.crossEntropyWithGrad(z, [0], { classes: 3 });
    expectValues(r.loss, [N]);
    expectValues(r.grad, [N, N, N]);
    expectValues(xe.entropy(f32(N, 0), 2, { from: 'logits' }), [N]);
  });

  it('binary cross-entropy with infinite logits: NaN loss (PyTorch\'s formula), finite gradient', () => {
    const r = xe.binaryCrossEntropyWithGrad(f32(I, I, -I, -I, N), f32(1, 0, 0, 1, 1), { reduction: 'none' });
    expectValues(r.loss, [N, I, N, I, N]);
    expectValues(r.grad, [0, 1, 0, -1, N]);
  });

  it('probabilities of exactly 0 and 1 are clipped to [1e-7, 1 - 1e-7] (Keras), with gradient 0 there', () => {
    const b = xe.binaryCrossEntropyWithGrad(f32(1, 1, 0, 0), f32(1, 0, 0, 1), { from: 'probs', reduction: 'none' });
    expectValues(b.loss, [CLIP_TOP, CLIP_HI, CLIP_TOP, CLIP_LO]);
    expectValues(b.grad, [0, 0, 0, 0]);
    const c = xe.crossEntropyWithGrad(f32(0, 1, 1, 0), [0, 0], { classes: 2, from: 'probs', reduction: 'none' });
    expectValues(c.loss, [CLIP_LO, CLIP_TOP]);
    expectValues(c.grad, [0, 0, 0, 0]);
    // Log-probabilities are taken as given: log q = -inf on the label is an infinite loss.
    expectValues(xe.crossEntropy(f32(-I, 0, 0, -I), [0, 0], { classes: 2, from: 'logProbs', reduction: 'none' }), [I, 0]);
  });

  it('entropy and divergences take 0 log 0 = 0; KL is +inf where p > 0 = q', () => {
    expectValues(xe.entropy(f32(0, 1, 0.5, 0.5), 2), [0, LN2]);
    expectValues(xe.klDivergence(f32(0, 1, 1, 0), f32(0.5, 0.5, 0, 1), 2, { reduction: 'none' }), [LN2, I]);
    expectValues(xe.jsDivergence(f32(0, 1, 1, 0), f32(1, 0, 1, 0), 2, { reduction: 'none' }), [LN2, 0]);
  });
});
