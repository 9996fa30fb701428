import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import { windowRows } from '../src/engine/staging.js';
import type { BinaryCrossEntropyOptions } from '../src/index.js';
import {
  backends, wasmBackends, normal, rng, unaligned, uniform, bits, expectClose, expectSameBits, maxAbsError, type Backend,
} from './helpers.js';

const f32 = (values: number[]) => new Float32Array(values);

/** PyTorch's formula, written literally: (1 - t) x + (1 + (pw - 1) t)(log1p(exp(-|x|)) + max(-x, 0)). */
function torchLogits(x: number, t: number, pw = 1, w = 1): number {
  return w * ((1 - t) * x + (1 + (pw - 1) * t) * (Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0)));
}

/** Element losses as numbers (reduction 'none'). */
function elementLosses(xe: Backend, x: Float32Array, t: Float32Array | Uint8Array, o: BinaryCrossEntropyOptions): ArrayLike<number> {
  return xe.binaryCrossEntropy(x, t, { ...o, reduction: 'none' }) as unknown as ArrayLike<number>;
}

// expNeg flushes e^x below -87.34 to 0, so a loss of e^-100 = 3.72e-44 comes back as 0 from the
// float32 kernel: an absolute error under 2^-126 = 1.18e-38, the flush bound of assembly/exp.ts.
const FLUSH = 1.18e-38;

describe.each(backends)('binaryCrossEntropy on %s', (_name, xe) => {
  it('matches the worked examples', () => {
    // The binary dog example: p = 0.775 for the true class, -ln 0.775 = 0.2549 nats = 0.3677 bits.
    const nats = xe.binaryCrossEntropy(f32([0.775]), f32([1]), { from: 'probs' });
    expectClose(nats, 0.2549, { rel: 0, abs: 5e-5 });
    expectClose(nats, -Math.log(Math.fround(0.775)), { rel: 1e-6, abs: 0 });
    expectClose(xe.binaryCrossEntropy(f32([0.775]), f32([1]), { from: 'probs', unit: 'bits' }), 0.3677, { rel: 0, abs: 5e-5 });
    // A logit of 0 is p = 1/2 whatever the target: ln 2.
    expectClose(xe.binaryCrossEntropy(f32([0]), f32([1])), Math.LN2, { rel: 1e-7, abs: 0 });
    expectClose(xe.binaryCrossEntropy(f32([0]), new Uint8Array([0])), Math.LN2, { rel: 1e-7, abs: 0 });
  });

  it('stays finite and exact for logits of +-100', () => {
    const x = f32([100, -100, 100, -100]);
    const t = f32([0, 0, 1, 1]);
    const { loss, grad } = xe.binaryCrossEntropyWithGrad(x, t, { reduction: 'none' });
    // x = 100, t = 0 and x = -100, t = 1 cost |x| (+ e^-100); the right answers cost e^-100.
    expectClose(loss, [100, Math.exp(-100), Math.exp(-100), 100], { rel: 1e-7, abs: FLUSH });
    expectClose(grad, [1, 0, 0, -1], { rel: 1e-7, abs: FLUSH });
  });

  it('follows PyTorch pos_weight, computed by hand from its formula', () => {
    // [N = 2, C = 2]; pos_weight [3, 0.5] per column.
    const x = f32([1, -2, 0.5, 3]);
    const t = f32([1, 0, 0.3, 1]);
    const pw = [3, 0.5];
    // Column 0: x = 1, t = 1: 3 log(1 + e^-1) = 0.9397851; x = 0.5, t = 0.3:
    // 0.7 * 0.5 + 1.6 * log(1 + e^-0.5) = 1.1085232. Column 1: x = -2, t = 0: log(1 + e^-2) = 0.1269280;
    // x = 3, t = 1: 0.5 log(1 + e^-3) = 0.0242937. (t = 0.3 is float32 0.30000001.)
    const byHand = [0.9397851, 0.1269280, 1.1085232, 0.0242937];
    const formula = [0, 1, 2, 3].map((i) => torchLogits(x[i], t[i], pw[i % 2]));
    expectClose(formula, byHand, { rel: 0, abs: 1e-7 });
    const posWeight = f32(pw);
    expectClose(xe.binaryCrossEntropy(x, t, { classes: 2, posWeight, reduction: 'none' }), formula, { rel: 1e-6, abs: 0 });
    expectClose(xe.binaryCrossEntropy(x, t, { classes: 2, posWeight }), formula.reduce((a, b) => a + b) / 4, { rel: 1e-6, abs: 0 });
    // Gradient (1 + (pw - 1) t) sigma(x) - pw t; for pw = 1 it is sigma(x) - t.
    const sigma = (v: number) => 1 / (1 + Math.exp(-v));
    const grad = [0, 1, 2, 3].map((i) => (1 + (pw[i % 2] - 1) * t[i]) * sigma(x[i]) - pw[i % 2] * t[i]);
    expectClose(xe.binaryCrossEntropyWithGrad(x, t, { classes: 2, posWeight, reduction: 'sum' }).grad, grad, { rel: 1e-6, abs: 1e-7 });
  });

  it('smooths labels as Keras: t (1 - eps) + eps / 2', () => {
    // t = 1, eps = 0.2 -> 0.9; t = 0 -> 0.1.
    const x = f32([2, -1]);
    const expected = [torchLogits(2, 0.9), torchLogits(-1, 0.1)];
    expectClose(xe.binaryCrossEntropy(x, new Uint8Array([1, 0]), { labelSmoothing: 0.2, reduction: 'none' }), expected, { rel: 1e-6, abs: 0 });
    // With probabilities: -(0.9 log 0.8 + 0.1 log 0.2).
    const p = xe.binaryCrossEntropy(f32([0.8]), f32([1]), { from: 'probs', labelSmoothing: 0.2 });
    expectClose(p, -(0.9 * Math.log(Math.fround(0.8)) + 0.1 * Math.log1p(-Math.fround(0.8))), { rel: 1e-6, abs: 0 });
    // eps = 1 makes every target 1/2.
    expectClose(xe.binaryCrossEntropy(x, f32([1, 0]), { labelSmoothing: 1, reduction: 'none' }), [torchLogits(2, 0.5), torchLogits(-1, 0.5)], { rel: 1e-6, abs: 0 });
  });

  it('broadcasts weight over rows', () => {
    const x = normal(12, 2, 7), t = uniform(12, 8);
    const weight = f32([2, 0, 0.5]);
    const plain = elementLosses(xe, x, t, { classes: 3 });
    const weighted = elementLosses(xe, x, t, { classes: 3, weight });
    expectClose(weighted, Array.from(plain, (v, i) => v * weight[i % 3]), { rel: 1e-6, abs: 0 });
    const p = uniform(12, 9, 0.01, 0.99);
    const plainP = elementLosses(xe, p, t, { classes: 3, from: 'probs' });
    expectClose(elementLosses(xe, p, t, { classes: 3, from: 'probs', weight }), Array.from(plainP, (v, i) => v * weight[i % 3]), { rel: 1e-6, abs: 0 });
  });

  it('takes soft targets: -[t log sigma(x) + (1 - t) log(1 - sigma(x))]', () => {
    const x = f32([0.3, -1.7, 4, -0.2, 2.5]);
    const t = f32([0.25, 0.6, 0.9, 0.5, 0]);
    const expected = Array.from(x, (v, i) => {
      const s = 1 / (1 + Math.exp(-v));
      return -(t[i] * Math.log(s) + (1 - t[i]) * Math.log(1 - s));
    });
    expectClose(elementLosses(xe, x, t, {}), expected, { rel: 1e-6, abs: 0 });
    const p = f32([0.3, 0.1, 0.95, 0.5, 0.7]);
    const expectedP = Array.from(p, (v, i) => -(t[i] * Math.log(v) + (1 - t[i]) * Math.log(1 - v)));
    expectClose(elementLosses(xe, p, t, { from: 'probs' }), expectedP, { rel: 1e-6, abs: 0 });
  });

  it('gives the same results for Uint8Array and Float32Array 0/1 targets', () => {
    const x = normal(37, 3, 3), t = bits(37, 4);
    const tf = Float32Array.from(t);
    for (const o of [{}, { from: 'probs' as const }]) {
      const input = o.from ? uniform(37, 5) : x;
      const a = xe.binaryCrossEntropyWithGrad(input, t, { ...o, reduction: 'none' });
      const b = xe.binaryCrossEntropyWithGrad(input, tf, { ...o, reduction: 'none' });
      expect(Array.from(a.loss)).toEqual(Array.from(b.loss));
      expect(Array.from(a.grad)).toEqual(Array.from(b.grad));
    }
  });

  it('reports bits as nats / ln 2, for the loss and the gradient', () => {
    const x = normal(20, 2, 13), t = uniform(20, 14);
    for (const from of ['logits', 'probs'] as const) {
      const input = from === 'probs' ? uniform(20, 15) : x;
      const nats = xe.binaryCrossEntropyWithGrad(input, t, { from });
      const inBits = xe.binaryCrossEntropyWithGrad(input, t, { from, unit: 'bits' });
      expectClose(inBits.loss, nats.loss / Math.LN2, { rel: 1e-7, abs: 0 });
      expectClose(inBits.grad, Array.from(nats.grad, (g) => g / Math.LN2), { rel: 1e-6, abs: 0 });
      expectClose(elementLosses(xe, input, t, { from, unit: 'bits' }), Array.from(elementLosses(xe, input, t, { from }), (v) => v / Math.LN2), { rel: 1e-6, abs: 0 });
    }
  });

  it('reduces as PyTorch: mean over all elements, sum, none; an empty mean is NaN', () => {
    const x = normal(15, 2, 21), t = uniform(15, 22);
    const none = Array.from(elementLosses(xe, x, t, { classes: 5 }));
    const sum = none.reduce((a, b) => a + b);
    expectClose(xe.binaryCrossEntropy(x, t, { classes: 5, reduction: 'sum' }), sum, { rel: 1e-6, abs: 0 });
    expectClose(xe.binaryCrossEntropy(x, t, { classes: 5 }), sum / 15, { rel: 1e-6, abs: 0 });
    expect(xe.binaryCrossEntropy(new Float32Array(0), new Float32Array(0))).toBeNaN();
    expect(xe.binaryCrossEntropy(new Float32Array(0), new Float32Array(0), { reduction: 'sum' })).toBe(0);
    expect(elementLosses(xe, new Float32Array(0), new Float32Array(0), {}).length).toBe(0);
  });

  it('clips probabilities to [epsilon, 1 - epsilon], with gradient 0 outside the clip', () => {
    // Default epsilon 1e-7: p = 0 with t = 1 costs -log(fround(1e-7)) = 16.118; p = 1 with t = 0 costs
    // -log(1 - fround(1 - 1e-7)) = -log(1.19e-7) = 15.942.
    const { loss, grad } = xe.binaryCrossEntropyWithGrad(f32([0, 1, 1, 0]), f32([1, 0, 1, 0]), { from: 'probs', reduction: 'none' });
    expectClose(loss, [-Math.log(Math.fround(1e-7)), -Math.log(2 ** -23), -Math.log(Math.fround(1 - 1e-7)), -Math.log1p(-Math.fround(1e-7))], { rel: 1e-6, abs: 0 });
    expectClose(grad, [0, 0, 0, 0], { rel: 0, abs: 0 });
    // epsilon = 0.2: 0.1 -> 0.2 (gradient 0), 0.2 on the bound (gradient passes), 0.9 -> 0.8.
    const clipped = xe.binaryCrossEntropyWithGrad(f32([0.1, 0.2, 0.9]), f32([1, 1, 0]), { from: 'probs', epsilon: 0.2, reduction: 'none' });
    const e = Math.fround(0.2);
    expectClose(clipped.loss, [-Math.log(e), -Math.log(e), -Math.log1p(-Math.fround(0.8))], { rel: 1e-6, abs: 0 });
    expectClose(clipped.grad, [0, (e - 1) / (e * (1 - e)), 0], { rel: 1e-6, abs: 0 });
  });

  it('has gradients that pass a finite-difference check for every option combination', () => {
    // Each element's loss depends only on its own input, so every element is perturbed at once and
    // (l(x + h) - l(x - h)) / (2h) from the 'none' losses checks the whole gradient. The float32
    // element losses carry ~1e-7 relative rounding, so h = 1e-2 (logits) / 1e-3 (probs) keeps
    // cancellation near 1e-5 and truncation (h^2 / 6 times the third derivative) under 1e-3.
    const C = 3, n = 4 * C;
    const t = uniform(n, 31);
    const weight = f32([0.5, 2, 1]), posWeight = f32([3, 0.25, 1]);
    let checked = 0;
    for (const from of ['logits', 'probs'] as const) {
      const x = from === 'logits' ? normal(n, 2, 32) : uniform(n, 33, 0.1, 0.9);
      const h = from === 'logits' ? 1e-2 : 1e-3;
      for (const w of [undefined, weight]) {
        for (const pw of from === 'logits' ? [undefined, posWeight] : [undefined]) {
          for (const labelSmoothing of [0, 0.3]) {
            for (const reduction of ['mean', 'sum', 'none'] as const) {
              for (const unit of ['nats', 'bits'] as const) {
                const o: BinaryCrossEntropyOptions = { classes: C, from, weight: w, posWeight: pw, labelSmoothing, unit };
                const up = Float32Array.from(x, (v) => v + h), down = Float32Array.from(x, (v) => v - h);
                const lu = elementLosses(xe, up, t, o), ld = elementLosses(xe, down, t, o);
                const scale = reduction === 'mean' ? 1 / n : 1;
                const fd = Array.from(x, (_v, i) => scale * (lu[i] - ld[i]) / (up[i] - down[i]));
                const { grad } = xe.binaryCrossEntropyWithGrad(x, t, { ...o, reduction });
                expectClose(grad, fd, { rel: 2e-3, abs: 1e-4 * scale });
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBe(2 * 2 * 2 * 3 * 2 + 2 * 2 * 3 * 2);
  });

  it('computes the gradient in place when gradOut is the input', () => {
    for (const o of [{ classes: 5, weight: f32([1, 2, 3, 0, 1]), posWeight: f32([2, 1, 1, 1, 0.5]) }, { classes: 5, from: 'probs' as const }]) {
      const x = o.from ? uniform(35, 41, 0.05, 0.95) : normal(35, 3, 41);
      const t = uniform(35, 42);
      const expected = xe.binaryCrossEntropyWithGrad(x, t, o);
      const buffer = x.slice();
      const inPlace = xe.binaryCrossEntropyWithGrad(buffer, t, { ...o, gradOut: buffer });
      expect(inPlace.grad).toBe(buffer);
      expect(inPlace.loss).toBe(expected.loss);
      // Bit for bit: the reference's float64 gradient is rounded to float32 by the Float32Array.
      expect(Array.from(buffer)).toEqual(Array.from(Float32Array.from(expected.grad)));
    }
  });
});

describe.each(wasmBackends)('binaryCrossEntropy on %s against the float64 reference', (_name, xe) => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000];

  /** Largest |a - b| / scale[i]. */
  function maxScaledError(a: ArrayLike<number>, b: ArrayLike<number>, scale: (i: number) => number): number {
    let worst = 0;
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale(i));
    return worst;
  }

  it.each(sizes)('agrees on %i unaligned elements, flat and as one row, with every option', (n) => {
    const x = unaligned(normal(n, 3, n)), p = unaligned(uniform(n, n + 1));
    const soft = unaligned(uniform(n, n + 2)), hard = bits(n, n + 3);
    for (const classes of [1, n]) {
      const weight = uniform(classes, n + 4, 0.5, 2), posWeight = uniform(classes, n + 5, 0.5, 3);
      const optionSets: (BinaryCrossEntropyOptions & { weight?: Float32Array; posWeight?: Float32Array })[] = [
        { classes },
        { classes, weight, posWeight, labelSmoothing: 0.1, unit: 'bits' },
        { classes, weight: unaligned(weight) },
        { classes, posWeight },
        { classes, from: 'probs' },
        { classes, from: 'probs', weight, labelSmoothing: 0.2, epsilon: 1e-3 },
      ];
      for (const o of optionSets) {
        const input = o.from === 'probs' ? p : x;
        for (const t of [soft, hard]) {
          const w = (i: number) => (o.weight ? o.weight[i % classes] : 1) * (o.posWeight ? Math.max(1, o.posWeight[i % classes]) : 1);
          const mine = xe.binaryCrossEntropyWithGrad(input, t, { ...o, reduction: 'sum' });
          const ref = reference.binaryCrossEntropyWithGrad(input, t, { ...o, reduction: 'sum' });
          expectClose(mine.loss, ref.loss, { rel: 1e-6, abs: 0 });
          expectClose(xe.binaryCrossEntropy(input, t, o), reference.binaryCrossEntropy(input, t, o) as number, { rel: 1e-6, abs: 0 });
          expectClose(elementLosses(xe, input, t, o), elementLosses(reference as unknown as Backend, input, t, o), { rel: 2e-6, abs: 1e-6 });
          // The gradient's size is w pw for logits, w / (p (1 - p)) for probabilities: errors are
          // measured in those units (float32 carries ~6e-8 of them per operation).
          const unitOf = o.from === 'probs'
            ? (i: number) => w(i) / (input[i] * (1 - input[i]) || 1)
            : w;
          expect(maxScaledError(mine.grad, ref.grad, unitOf)).toBeLessThanOrEqual(1e-6);
        }
      }
    }
  });

  it('smooths flat logits through the posWeight loop with the bits of the loop without it', () => {
    // assembly/binary_cross_entropy.ts runs flat smoothing-only logits in its posWeight variant with
    // pw = 1, which relies on (1 - t) + t == 1 in float32 for every t in [0, 1]: checked here on a
    // spread of t, then the element losses and gradients against the row-span loop (weight of ones,
    // no posWeight), which smooths without that factor.
    const r = rng(91);
    const notOne: number[] = [];
    for (let k = 0; k < 200_000; k++) {
      const t = Math.fround(k < 100_000 ? r() : r() * 2 ** -(k % 60));
      if (Math.fround(Math.fround(1 - t) + t) !== 1) notOne.push(t);
    }
    expect(notOne).toEqual([]);
    // Rows of a multiple of 4 put every element in the same lane both ways (the relaxed build fuses
    // lanes' multiply-adds, and tails do not); three rows span several SPLIT sub-blocks and BLOCKs.
    const classes = 4132, n = 3 * classes;
    const x = normal(n, 12, 92), t = uniform(n, 93);
    for (const labelSmoothing of [0.1, 0.37, 1]) {
      const flat = xe.binaryCrossEntropyWithGrad(x, t, { labelSmoothing, reduction: 'none' });
      const rows = xe.binaryCrossEntropyWithGrad(x, t, { classes, weight: new Float32Array(classes).fill(1), labelSmoothing, reduction: 'none' });
      expect(Array.from(flat.loss as Float32Array)).toEqual(Array.from(rows.loss as Float32Array));
      expect(Array.from(flat.grad)).toEqual(Array.from(rows.grad));
    }
  });

  it('has mean loss within 1e-6 relative on 4,000,000 elements', () => {
    const n = 4_000_000;
    const x = unaligned(normal(n, 3, 99)), t = uniform(n, 100), p = uniform(n, 101);
    const logits = xe.binaryCrossEntropy(x, t);
    const probs = xe.binaryCrossEntropy(p, t, { from: 'probs' });
    expectClose(logits, reference.binaryCrossEntropy(x, t) as number, { rel: 1e-6, abs: 0 });
    expectClose(probs, reference.binaryCrossEntropy(p, t, { from: 'probs' }) as number, { rel: 1e-6, abs: 0 });
  });

  it('keeps 3e-7 relative loss error where every term is alike (an untrained model, clipped probabilities)', () => {
    // Equal terms round the same way at every f32 addition: summed 512 to a lane (2048-element
    // blocks) they lost 2e-6 to 7e-6; the lanes now go to f64 every 64 elements (assembly/binary_cross_entropy.ts).
    const n = 1 << 19;
    const same = (v: number) => new Float32Array(n).fill(v);
    const cases: [string, Float32Array, Float32Array, BinaryCrossEntropyOptions][] = [
      ['logits 0, targets 1', same(0), same(1), {}],
      ['logits 0.3, targets 0.5', same(0.3), same(0.5), {}],
      ['logits -5, targets 1, posWeight', same(-5), same(1), { posWeight: f32([3]) }],
      ['logits 1.9 as [n/8, 8] with weights', same(1.9), same(0), { classes: 8, weight: f32([1, 2, 1, 2, 1, 2, 1, 2]) }],
      ['probabilities 0 (clipped), targets 1', same(0), same(1), { from: 'probs' }],
      ['probabilities 0.37, targets 0.5', same(0.37), same(0.5), { from: 'probs' }],
      ['logits 0.3, focal', same(0.3), same(0.5), { focal: {} }],
      ['probabilities 0.37, focal', same(0.37), same(0.5), { from: 'probs', focal: { gamma: 1 } }],
    ];
    for (const [what, x, t, o] of cases) {
      const want = reference.binaryCrossEntropy(x, t, o) as number;
      const got = xe.binaryCrossEntropy(x, t, o) as number;
      expect(Math.abs(got - want) / want, what).toBeLessThanOrEqual(3e-7);
      const withGrad = xe.binaryCrossEntropyWithGrad(x, t, o).loss as number;
      expect(Math.abs(withGrad - want) / want, `${what}, with the gradient`).toBeLessThanOrEqual(3e-7);
    }
  });

  it('has gradient max abs error <= 1e-6 on large random logits, streamed in chunks', () => {
    // 700,000 elements as [100000, 7]: three copy windows (the last partial), row spans with weights.
    const n = 700_000, classes = 7;
    expect(n / classes).toBeGreaterThan(2 * windowRows(classes));
    const x = normal(n, 3, 77), t = uniform(n, 78), hard = bits(n, 79);
    for (const target of [t, hard]) {
      const mine = xe.binaryCrossEntropyWithGrad(x, target, { classes, reduction: 'sum' });
      const ref = reference.binaryCrossEntropyWithGrad(x, target, { classes, reduction: 'sum' });
      expect(maxAbsError(mine.grad, ref.grad)).toBeLessThanOrEqual(1e-6);
      expectClose(mine.loss, ref.loss, { rel: 1e-6, abs: 0 });
      const weighted = { classes, weight: uniform(classes, 80, 0, 1), posWeight: uniform(classes, 81, 0, 1), labelSmoothing: 0.05 };
      const a = xe.binaryCrossEntropyWithGrad(x, target, { ...weighted, reduction: 'sum' });
      const b = reference.binaryCrossEntropyWithGrad(x, target, { ...weighted, reduction: 'sum' });
      expect(maxAbsError(a.grad, b.grad)).toBeLessThanOrEqual(1e-6);
      expectClose(a.loss, b.loss, { rel: 1e-6, abs: 0 });
    }
  });
});

describe.each(wasmBackends)('binaryCrossEntropy on %s with resident buffers', (_name, xe) => {
  // Over two copy windows of 262,144 elements (classes = 1), so both paths cross a window boundary.
  const n = 300_003;
  const x = normal(n, 3, 41), soft = uniform(n, 42), p = uniform(n, 43, 0.001, 0.999);
  const weight = f32([0.5, 2, 1]);

  it('reads resident input and target and writes a resident gradient: bit-identical to plain arrays', () => {
    for (const o of [
      {}, { labelSmoothing: 0.1, unit: 'bits' as const }, { classes: 3, weight, posWeight: f32([2, 1, 0.5]) },
      { from: 'probs' as const }, { focal: {} }, { classes: 3, weight, focal: { gamma: 1, alpha: 0.4 } },
    ]) {
      const input = o.from ? p : x;
      for (const reduction of ['mean', 'none'] as const) {
        const plain = xe.binaryCrossEntropyWithGrad(input, soft, { ...o, reduction });
        const rx = xe.tensor(input), rt = xe.tensor(soft), rg = xe.alloc(n);
        try {
          expectSameBits(xe.binaryCrossEntropy(rx, rt, { ...o, reduction }), plain.loss);
          // Each resident argument alone, then all three.
          expectSameBits(xe.binaryCrossEntropy(rx, soft, { ...o, reduction }), plain.loss);
          expectSameBits(xe.binaryCrossEntropy(input, rt, { ...o, reduction }), plain.loss);
          const r = xe.binaryCrossEntropyWithGrad(rx, rt, { ...o, reduction, gradOut: rg });
          expectSameBits(r.loss, plain.loss);
          expectSameBits(r.grad, plain.grad);
          expectSameBits(rg.array, plain.grad);
          // A resident input with a plain gradient, and a plain input with a resident one.
          expectSameBits(xe.binaryCrossEntropyWithGrad(rx, rt, { ...o, reduction }).grad, plain.grad);
          rg.array.fill(0);
          xe.binaryCrossEntropyWithGrad(input, soft, { ...o, reduction, gradOut: rg });
          expectSameBits(rg.array, plain.grad);
          // In place over the resident input.
          const inPlace = xe.binaryCrossEntropyWithGrad(rx, rt, { ...o, reduction, gradOut: rx });
          expectSameBits(inPlace.loss, plain.loss);
          expectSameBits(rx.array, plain.grad);
        } finally {
          rx.free(); rt.free(); rg.free();
        }
      }
    }
  });

  it('reads Uint8Array targets into the same numbers as Float32Array 0/1, resident input or not', () => {
    const hard = bits(n, 44);
    const asFloat = Float32Array.from(hard);
    const rx = xe.tensor(x);
    try {
      const a = xe.binaryCrossEntropyWithGrad(rx, hard), b = xe.binaryCrossEntropyWithGrad(x, asFloat);
      expectSameBits(a.loss, b.loss, 'loss');
      expectSameBits(a.grad, b.grad, 'grad');
    } finally {
      rx.free();
    }
  });

  it('refuses a bad element anywhere, with the reference message, writing nothing', () => {
    const before = xe.binaryCrossEntropy(x, soft);
    // Each bad value placed in the second copy window; gradOut holds a sentinel that must survive.
    expect(270_000).toBeGreaterThanOrEqual(windowRows(1)); // the lowest bad index below
    const cases: [string, Float32Array | Uint8Array, Float32Array, 'logits' | 'probs', RegExp][] = [];
    const badSoft = soft.slice(); badSoft[280_000] = 1.5;
    cases.push(['target above 1', badSoft, x, 'logits', /^target\[280000\] = 1\.5 is not in \[0, 1\]$/]);
    const nanSoft = soft.slice(); nanSoft[n - 1] = NaN;
    cases.push(['NaN target, the last element', nanSoft, x, 'logits', /^target\[300002\] = NaN is not in \[0, 1\]$/]);
    const badHard = bits(n, 45); badHard[270_000] = 2;
    cases.push(['Uint8Array target 2', badHard, x, 'logits', /^target\[270000\] = 2 is not in \[0, 1\]$/]);
    const badP = p.slice(); badP[299_999] = -0.25;
    cases.push(['probability below 0', soft, badP, 'probs', /^input\[299999\] = -0\.25 is not a probability in \[0, 1\] \(options\.from is 'probs'\)$/]);
    for (const [what, target, input, from, message] of cases) {
      // The reference says exactly this.
      expect(() => reference.binaryCrossEntropy(input, target, { from }), what).toThrow(message);
      const sentinel = new Float32Array(n).fill(7);
      for (const resident of [false, true]) {
        const rx = resident ? xe.tensor(input) : null;
        const rt = resident && target instanceof Float32Array ? xe.tensor(target) : null;
        const rg = resident ? xe.tensor(sentinel) : null;
        const gradOut = new Float32Array(n).fill(7);
        try {
          const inArg = rx ?? input, tArg = rt ?? target;
          expect(() => xe.binaryCrossEntropy(inArg, tArg, { from }), `${what}, resident ${resident}`).toThrow(RangeError);
          expect(() => xe.binaryCrossEntropy(inArg, tArg, { from, reduction: 'none' })).toThrow(message);
          expect(() => xe.binaryCrossEntropyWithGrad(inArg, tArg, { from })).toThrow(message);
          expect(() => xe.binaryCrossEntropyWithGrad(inArg, tArg, { from, gradOut })).toThrow(message);
          expectSameBits(gradOut, sentinel, `${what}: gradOut untouched`);
          if (rg) {
            expect(() => xe.binaryCrossEntropyWithGrad(inArg, tArg, { from, gradOut: rg })).toThrow(message);
            expectSameBits(rg.array, sentinel, `${what}: resident gradOut untouched`);
          }
          if (rx) {
            expect(() => xe.binaryCrossEntropyWithGrad(rx, tArg, { from, gradOut: rx })).toThrow(message);
            expectSameBits(rx.array, input, `${what}: input untouched by a refused in-place call`);
          }
        } finally {
          rx?.free(); rt?.free(); rg?.free();
        }
      }
    }
    // The instance is unharmed: the next call gives the bits it gave before the refusals.
    expectSameBits(xe.binaryCrossEntropy(x, soft), before, 'after the refusals');
  });

  it('refuses resident buffers that are freed, of another instance, or overlapping the targets', () => {
    const rx = xe.tensor(x.subarray(0, 8)), rt = xe.tensor(soft.subarray(0, 8));
    const other = wasmBackends.find(([, b]) => b !== xe)![1];
    const foreign = other.tensor(soft.subarray(0, 8));
    try {
      expect(() => xe.binaryCrossEntropy(rx, foreign)).toThrow(/^target is a resident buffer of another xentropy instance$/);
      expect(() => xe.binaryCrossEntropy(foreign, rt)).toThrow(/^input is a resident buffer of another xentropy instance$/);
      expect(() => xe.binaryCrossEntropyWithGrad(rx, rt, { gradOut: foreign })).toThrow(
        /^options\.gradOut is a resident buffer of another xentropy instance$/,
      );
      expect(() => xe.binaryCrossEntropyWithGrad(rx, rt, { gradOut: rt })).toThrow(/options\.gradOut overlaps target/);
      const freed = xe.tensor(soft.subarray(0, 8));
      freed.free();
      expect(() => xe.binaryCrossEntropy(rx, freed)).toThrow(/^target is a resident buffer that was freed$/);
      expect(() => xe.binaryCrossEntropy(freed, rt)).toThrow(TypeError);
    } finally {
      rx.free(); rt.free(); foreign.free();
    }
  });
});
