// crossEntropy from probabilities and log-probabilities, units, and onAllIgnored.

import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type { CrossEntropyOptions } from '../src/index.js';
import { backends, wasmBackends, normal, labels, probabilities, unaligned, expectClose, rng } from './helpers.js';

/** Row-wise softmax in float64, rounded to float32: probabilities a model would output. */
function softmaxOf(z: Float32Array, C: number): Float32Array {
  return Float32Array.from(reference.softmax(z, C));
}

describe.each(backends)('crossEntropy from probabilities on %s', (_name, xe) => {
  it('gives -ln q_y for both of the seed text\'s predictions, and 0.3677 bits for the dog', () => {
    const p = new Float32Array([0.1, 0.5, 0.1, 0.1, 0.2, 0.1, 0.6, 0.1, 0.1, 0.1]);
    expectClose(xe.crossEntropy(p, [0, 0], { classes: 5, from: 'probs', reduction: 'none' }), [2.302585, 2.302585], { rel: 0, abs: 1e-6 });
    const lp = new Float32Array(Array.from(p, Math.log));
    expectClose(xe.crossEntropy(lp, [0, 0], { classes: 5, from: 'logProbs', reduction: 'none' }), [2.302585, 2.302585], { rel: 0, abs: 1e-6 });
    const dog = new Float32Array([0.775, 0.116, 0.039, 0.070]);
    expectClose(xe.crossEntropy(dog, [0], { classes: 4, from: 'probs', unit: 'bits' }), 0.3677, { rel: 0, abs: 5e-5 });
  });

  it('clips a zero probability on the true class to epsilon instead of returning infinity', () => {
    const p = new Float32Array([0, 1, 0.5, 0.5]);
    expectClose(xe.crossEntropy(p, [0, 0], { classes: 2, from: 'probs', reduction: 'none' }), [-Math.log(1e-7), Math.LN2], { rel: 1e-6, abs: 0 });
    expectClose(xe.crossEntropy(p, [0], { classes: 4, from: 'probs', epsilon: 1e-3 }), -Math.log(1e-3), { rel: 1e-6, abs: 0 });
    // The clipped probability no longer moves the loss, so its gradient is 0.
    const { grad } = xe.crossEntropyWithGrad(p, [0, 0], { classes: 2, from: 'probs', reduction: 'sum' });
    expectClose(grad, [0, 0, -2, 0], { rel: 1e-6, abs: 0 });
  });

  it('clips at the float32 bounds: a probability of 1 costs -log(1 - 1.19e-7), as in Keras', () => {
    // 1 - 1e-7 is 0.99999988 = 1 - 1.19e-7 in float32, where the kernels compare (the reference once
    // clipped at 1 - 1e-7 in float64 and gave 1.0e-7).
    const loss = xe.crossEntropy(new Float32Array([1, 0]), [0], { classes: 2, from: 'probs', reduction: 'sum' });
    expectClose(loss, -Math.log(Math.fround(1 - Math.fround(1e-7))), { rel: 1e-6, abs: 0 });
  });

  it('forms soft coefficients in float32: one below 2^-150 is 0, and 0 · log 0 is NaN (PyTorch float32)', () => {
    // a_0 = weight_0 t_0 = 1.4e-45 · 0.1 is 0 in float32 (the reference once kept 1.4e-46 and gave +inf).
    const lp = new Float32Array([-Infinity, 0]);
    const target = new Float32Array([0.1, 0.9]);
    const weight = new Float32Array([1.4e-45, 1]);
    const loss = xe.crossEntropy(lp, target, { classes: 2, from: 'logProbs', weight, reduction: 'none' });
    expect(loss[0]).toBeNaN();
    // A coefficient float32 holds keeps the infinity.
    expect(xe.crossEntropy(lp, target, { classes: 2, from: 'logProbs', reduction: 'none' })[0]).toBe(Infinity);
  });

  it('agrees with the logits form when given softmax(z) or logSoftmax(z)', () => {
    const C = 12, N = 6;
    const z = normal(N * C, 1, 3);
    const y = labels(N, C, 4);
    const soft = probabilities(N, C, 5);
    for (const t of [y, soft]) {
      for (const eps of [0, 0.2]) {
        const o: CrossEntropyOptions = { classes: C, labelSmoothing: eps, weight: new Float32Array(C).fill(1.5) };
        const fromLogits = xe.crossEntropy(z, t, o) as number;
        expectClose(xe.crossEntropy(softmaxOf(z, C), t, { ...o, from: 'probs' }), fromLogits, { rel: 1e-6, abs: 1e-6 });
        const lp = Float32Array.from(reference.logSoftmax(z, C));
        expectClose(xe.crossEntropy(lp, t, { ...o, from: 'logProbs' }), fromLogits, { rel: 1e-6, abs: 1e-6 });
      }
    }
  });

  it('has gradients that pass a finite-difference check for every option combination', () => {
    const C = 4, N = 3;
    const u = rng(8);
    // Probabilities well inside the clip, so a small step never crosses it.
    const probs = Float32Array.from({ length: N * C }, () => 0.1 + 0.8 * u());
    const logProbs = probs.map(Math.log);
    const targets = [new Int32Array([2, -100, 0]), probabilities(N, C, 9)];
    for (const [from, input] of [['probs', probs], ['logProbs', logProbs]] as const) {
      for (const t of targets) {
        for (const w of [undefined, new Float32Array([0.5, 1.5, 1, 2])]) {
          for (const eps of [0, 0.2]) {
            for (const reduction of ['mean', 'sum'] as const) {
              const o: CrossEntropyOptions = { classes: C, from, weight: w, labelSmoothing: eps, reduction, unit: 'bits' };
              const { grad } = xe.crossEntropyWithGrad(input, t, o);
              for (let j = 0; j < input.length; j++) {
                const up = input.slice(), down = input.slice();
                up[j] += 1e-3;
                down[j] -= 1e-3;
                const fd = ((xe.crossEntropy(up, t, o) as number) - (xe.crossEntropy(down, t, o) as number)) / (up[j] - down[j]);
                if (Math.abs(fd - grad[j]) > 1e-3 + 1e-3 * Math.abs(fd)) {
                  expect.fail(`${from} w=${!!w} eps=${eps} ${reduction}: grad[${j}] = ${grad[j]}, finite difference ${fd}`);
                }
              }
            }
          }
        }
      }
    }
  });
});

describe.each(backends)('units and onAllIgnored on %s', (_name, xe) => {
  it('reports bits as nats / ln 2, for the loss and its gradient', () => {
    const C = 7, N = 5;
    const z = normal(N * C, 2, 10);
    const y = labels(N, C, 11);
    for (const reduction of ['mean', 'sum'] as const) {
      const nats = xe.crossEntropyWithGrad(z, y, { classes: C, reduction });
      const bits = xe.crossEntropyWithGrad(z, y, { classes: C, reduction, unit: 'bits' });
      expectClose(bits.loss, (nats.loss as number) / Math.LN2, { rel: 1e-12, abs: 0 });
      expectClose(bits.grad, Array.from(nats.grad, (g) => g / Math.LN2), { rel: 1e-6, abs: 1e-9 });
    }
    const none = xe.crossEntropy(z, y, { classes: C, reduction: 'none', unit: 'bits' }) as Float32Array;
    const noneNats = xe.crossEntropy(z, y, { classes: C, reduction: 'none' }) as Float32Array;
    expectClose(none, Array.from(noneNats, (v) => v / Math.LN2), { rel: 1e-6, abs: 0 });
  });

  it("gives NaN for a mean over no counted rows by default and 0 with onAllIgnored: 'zero'", () => {
    const z = normal(6, 1, 12);
    const y = [-100, -100];
    expect(xe.crossEntropy(z, y, { classes: 3 })).toBeNaN();
    expect(xe.crossEntropy(z, y, { classes: 3, onAllIgnored: 'nan' })).toBeNaN();
    const zero = xe.crossEntropyWithGrad(z, y, { classes: 3, onAllIgnored: 'zero' });
    expect(zero.loss).toBe(0);
    expect(Array.from(zero.grad)).toEqual([0, 0, 0, 0, 0, 0]);
    // Counted rows whose weights are all 0: PyTorch divides by 0; 'zero' gives 0 and a zero gradient.
    const w = new Float32Array([0, 1, 1]);
    expect(xe.crossEntropy(z, [0, 0], { classes: 3, weight: w })).toBeNaN();
    const weighted = xe.crossEntropyWithGrad(z, [0, 0], { classes: 3, weight: w, onAllIgnored: 'zero' });
    expect(weighted.loss).toBe(0);
    expect(Array.from(weighted.grad)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(xe.crossEntropy(new Float32Array(0), new Float32Array(0), { classes: 3, onAllIgnored: 'zero' })).toBe(0);
  });

  it('gives the NaN mean a NaN gradient only where the loss depends on the input, as PyTorch', () => {
    const z = normal(6, 1, 13);
    const w = new Float32Array([0, 1, 1]);
    // With smoothing the rows' losses sum to more than 0, but the mean is 0 / 0 in PyTorch's NLL part:
    // NaN, not +inf (which xentropy once gave).
    const smoothed = xe.crossEntropyWithGrad(z, [0, -100], { classes: 3, weight: w, labelSmoothing: 0.1 });
    expect(smoothed.loss).toBeNaN();
    const asText = (g: ArrayLike<number>) => Array.from(g, (x) => (Number.isNaN(x) ? 'NaN' : x === 0 ? 0 : x));
    // Logits: every class moves the log-softmax of a counted row; the ignored row's gradient is 0.
    expect(asText(smoothed.grad)).toEqual(['NaN', 'NaN', 'NaN', 0, 0, 0]);
    // Probabilities without smoothing: only the label's probability moves the loss, and not when
    // clipped (row 1's q_0 = 0); nll_loss leaves the rest 0 (the reference once gave NaN everywhere).
    const q = new Float32Array([0.2, 0.3, 0.5, 0, 0.5, 0.5]);
    const probs = xe.crossEntropyWithGrad(q, [0, 0], { classes: 3, from: 'probs', weight: w });
    expect(probs.loss).toBeNaN();
    expect(asText(probs.grad)).toEqual(['NaN', 0, 0, 0, 0, 0]);
  });
});

describe.each(wasmBackends)('crossEntropy from probabilities on %s against the float64 reference', (_name, xe) => {
  const shapes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 32000];

  it.each(shapes)('agrees for classes = %i with every option, on unaligned inputs', (C) => {
    const N = C >= 1000 ? 3 : 7;
    const u = rng(C);
    const probs = unaligned(probabilities(N, C, C + 1));
    // Some exact zeros and ones, so clipping is exercised.
    probs[0] = 0;
    if (C > 1) probs[C + 1] = 1;
    const logProbs = unaligned(probs.map((p) => Math.log(Math.max(p, 1e-30))));
    const y = labels(N, C, C + 2);
    y[1] = -100;
    const soft = unaligned(probabilities(N, C, C + 3));
    const weight = unaligned(Float32Array.from({ length: C }, () => 0.25 + 2 * u()));
    for (const [from, input] of [['probs', probs], ['logProbs', logProbs]] as const) {
      for (const target of [y, soft]) {
        for (const w of [undefined, weight]) {
          for (const eps of [0, 0.15]) {
            for (const reduction of ['mean', 'none'] as const) {
              const o: CrossEntropyOptions = { classes: C, from, weight: w, labelSmoothing: eps, reduction };
              const got = xe.crossEntropyWithGrad(input, target, o);
              const want = reference.crossEntropyWithGrad(input, target, o);
              expectClose(got.loss as number, want.loss as number, { rel: 2e-6, abs: 1e-6 });
              // Gradients of probabilities grow like 1 / q; compare them relatively.
              expectClose(got.grad, want.grad, { rel: 1e-6, abs: 1e-6 });
            }
          }
        }
      }
    }
  });

  it('reaches 1e-6 relative loss error on N = 4096, C = 1000 from probabilities and log-probabilities', () => {
    const C = 1000, N = 4096;
    const z = normal(N * C, 3, 13);
    const y = labels(N, C, 14);
    const probs = softmaxOf(z, C);
    const lp = Float32Array.from(reference.logSoftmax(z, C));
    for (const [from, input] of [['probs', probs], ['logProbs', lp]] as const) {
      const got = xe.crossEntropy(input, y, { classes: C, from, labelSmoothing: 0.1 }) as number;
      const want = reference.crossEntropy(input, y, { classes: C, from, labelSmoothing: 0.1 }) as number;
      expect(Math.abs(got - want) / want).toBeLessThanOrEqual(1e-6);
    }
  });

  it.each([5, 1000, 5000])('sums log-probabilities near -FLT_MAX without overflow (classes = %i)', (C) => {
    // Smoothing sums w_c log q_c over the row in float32 lanes, which overflow long before
    // (eps / C) times that sum does: such a row is summed again in f64 (row.ts's exactDot).
    const N = 3;
    const logQ = Float32Array.from(normal(N * C, 3, C + 30), (v) => -Math.abs(v));
    for (let c = 0; c < C; c += 2) logQ[c] = -3e38;
    for (let c = 0; c < C; c++) logQ[C + c] = -2e38;
    const y = new Int32Array([1, 0, 3]);
    const soft = probabilities(N, C, C + 31);
    const weight = Float32Array.from({ length: C }, (_, c) => 0.5 + 0.25 * (c % 3));
    for (const t of [y, soft]) {
      for (const w of [undefined, weight]) {
        const o: CrossEntropyOptions = { classes: C, from: 'logProbs', labelSmoothing: 0.1, weight: w, reduction: 'none' };
        const want = reference.crossEntropyWithGrad(logQ, t, o);
        const wantLoss = want.loss as Float64Array;
        const sane = t === y || C <= 1000; // soft targets on wide rows: true losses beyond float32
        if (sane) expect(wantLoss.every((v) => v < 3e38) && wantLoss[0] > 1e30).toBe(true);
        const got = xe.crossEntropyWithGrad(logQ, t, o);
        expectClose(got.loss as never, wantLoss as never, { rel: 1e-6, abs: 1e-6 });
        expectClose(xe.crossEntropy(logQ, t, o) as never, wantLoss as never, { rel: 1e-6, abs: 1e-6 });
        expectClose(got.grad, want.grad, { rel: 0, abs: 1e-6 });
      }
    }
  });
});

// Softmax outputs rounded to float32 often reach a little past 1 (or below 0 after a subtraction): from
// 'probs', values within 4 float32 ulps outside [0, 1] are accepted and read as clipped to [0, 1];
// further out they are refused (docs/api.md, "Inputs other than logits").
describe.each(backends)('crossEntropy from probabilities a few ulps outside [0, 1] on %s', (_name, xe) => {
  const above = (ulps: number) => 1 + ulps * 2 ** -23;
  const below = (ulps: number) => -ulps * 2 ** -24;
  const clipped = new Float32Array([1, 0, 0, /**/ 0.25, 0.75, 0, /**/ 0, 0.5, 0.5]);
  const edge = (ulps: number) => new Float32Array([above(ulps), below(ulps), 0, /**/ 0.25, 0.75, below(ulps), /**/ below(ulps), 0.5, 0.5]);
  const y = [0, 1, 0];

  it('accepts 4 ulps either side and gives the clipped values\' loss, gradient and perplexity', () => {
    const four = edge(4);
    expect(four[0]).toBe(above(4));
    expect(four[1]).toBe(below(4));
    for (const reduction of ['none', 'mean'] as const) {
      expectSameBitsOf(xe.crossEntropy(four, y, { classes: 3, from: 'probs', reduction }), xe.crossEntropy(clipped, y, { classes: 3, from: 'probs', reduction }));
    }
    const g4 = xe.crossEntropyWithGrad(four, y, { classes: 3, from: 'probs' });
    const g0 = xe.crossEntropyWithGrad(clipped, y, { classes: 3, from: 'probs' });
    expectSameBitsOf(g4.loss, g0.loss);
    expectSameBitsOf(g4.grad, g0.grad);
    const api = xe as unknown as { perplexity(l: unknown, i: unknown, o: unknown): { lossNats: number } };
    expect(api.perplexity(four, y, { classes: 3, from: 'probs' }).lossNats).toBe(api.perplexity(clipped, y, { classes: 3, from: 'probs' }).lossNats);
  });

  it('refuses 5 ulps either side, naming the element', () => {
    const five = edge(5);
    five[1] = 0;
    five[5] = 0;
    five[6] = 0;
    expect(() => xe.crossEntropy(five, y, { classes: 3, from: 'probs' })).toThrow(RangeError);
    expect(() => xe.crossEntropy(five, y, { classes: 3, from: 'probs' })).toThrow(`input[0] = ${above(5)} is not a probability in [0, 1] (values within 4 float32 ulps of [0, 1] are read as clipped`);
    const low = edge(4);
    low[5] = below(5);
    expect(() => xe.crossEntropyWithGrad(low, y, { classes: 3, from: 'probs' })).toThrow(`input[5] = ${below(5)} is not a probability in [0, 1]`);
  });
});

describe.each(wasmBackends)('the WebAssembly range scan of probabilities on %s', (_name, xe) => {
  it('draws the same 4-ulp line as the JavaScript check, on resident and copied inputs of every length', () => {
    for (const n of [3, 17, 64, 1000]) {
      const p = new Float32Array(n * 3).fill(1 / 3);
      const y = new Int32Array(n);
      for (const [at, v, ok] of [[n * 3 - 1, 1 + 4 * 2 ** -23, true], [0, -4 * 2 ** -24, true], [n, 1 + 5 * 2 ** -23, false], [n * 3 - 2, -5 * 2 ** -24, false]] as const) {
        const q = Float32Array.from(p);
        q[at] = v;
        const resident = xe.tensor(q);
        for (const input of [q, resident]) {
          const call = () => xe.crossEntropy(input, y, { classes: 3, from: 'probs' });
          if (ok) expect(call).not.toThrow();
          else expect(call).toThrow(`input[${at}] = ${Math.fround(v)} is not a probability`);
        }
        resident.free();
      }
    }
  });
});

function expectSameBitsOf(a: number | ArrayLike<number>, b: number | ArrayLike<number>): void {
  expect(typeof a === 'number' ? [a] : Array.from(a)).toEqual(typeof b === 'number' ? [b] : Array.from(b));
}
