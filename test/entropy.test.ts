import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type { EntropyOptions } from '../src/index.js';
import {
  backends, wasmBackends, normal, unaligned, expectClose, sparseProbabilities, relError,
} from './helpers.js';

describe.each(backends)('entropy on %s', (_name, xe) => {
  it('matches the containers of the article in bits', () => {
    // 26 red + 4 blue, 14 + 16, and a pure container.
    const p = new Float32Array([26 / 30, 4 / 30, 14 / 30, 16 / 30, 0, 1]);
    const bits = xe.entropy(p, 2, { unit: 'bits' });
    expectClose(bits, [0.5665, 0.9968, 0], { rel: 0, abs: 5e-5 });
    expect(bits[2]).toBe(0);
    const nats = xe.entropy(p, 2);
    expectClose(nats, Array.from(bits, (b) => b * Math.LN2), { rel: 1e-6, abs: 1e-7 });
  });

  it('reduces over rows: mean, sum, and bits = nats / ln 2', () => {
    const p = sparseProbabilities(6, 9, 1);
    const rows = Array.from(xe.entropy(p, 9));
    const sum = rows.reduce((a, b) => a + b, 0);
    expectClose(xe.entropy(p, 9, { reduction: 'sum' }), sum, { rel: 1e-6, abs: 0 });
    expectClose(xe.entropy(p, 9, { reduction: 'mean' }), sum / 6, { rel: 1e-6, abs: 0 });
    expectClose(xe.entropy(p, 9, { reduction: 'mean', unit: 'bits' }), sum / 6 / Math.LN2, { rel: 1e-6, abs: 0 });
  });

  it('gives log C for a uniform row and the entropy of the softmax for logits', () => {
    for (const C of [1, 5, 64, 1000]) {
      expectClose(xe.entropy(new Float32Array(C).fill(1 / C), C), [Math.log(C)], { rel: 1e-6, abs: 1e-7 });
      expectClose(xe.entropy(new Float32Array(C).fill(-3.5), C, { from: 'logits' }), [Math.log(C)], { rel: 1e-6, abs: 1e-7 });
    }
    const z = normal(5 * 13, 2, 2);
    const viaSoftmax = reference.entropy(reference.softmax(z, 13, new Float32Array(z.length)) as Float32Array, 13);
    expectClose(xe.entropy(z, 13, { from: 'logits' }), viaSoftmax as Float64Array, { rel: 2e-6, abs: 1e-7 });
  });

  it('gives masked (-inf) logits no weight and non-finite logit rows NaN, as PyTorch', () => {
    const z = new Float32Array([
      0, -Infinity, 0, -Infinity, // two equal classes left: ln 2
      0, Infinity, 1, 2, // +inf
      0, NaN, 1, 2, // NaN
      -Infinity, -Infinity, -Infinity, -Infinity, // nothing finite
    ]);
    const h = xe.entropy(z, 4, { from: 'logits' });
    expectClose(h[0], Math.LN2, { rel: 1e-6, abs: 0 });
    expect(Array.from(h.subarray(1)).every(Number.isNaN)).toBe(true);
  });

  it('handles an empty batch: none is empty, mean NaN, sum 0', () => {
    expect(xe.entropy(new Float32Array(0), 3).length).toBe(0);
    expect(xe.entropy(new Float32Array(0), 3, { reduction: 'mean' })).toBeNaN();
    expect(xe.entropy(new Float32Array(0), 3, { reduction: 'sum' })).toBe(0);
  });
});

describe.each(wasmBackends)('entropy on %s against the float64 reference', (_name, xe) => {
  const shapes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 32000];
  const tol = { rel: 1e-6, abs: 1e-7 };

  it.each(shapes)('agrees for classes = %i, probabilities and logits, every reduction, unaligned', (C) => {
    const N = C >= 1000 ? 3 : 7;
    const inputs: [EntropyOptions['from'], Float32Array][] = [
      ['probs', unaligned(sparseProbabilities(N, C, C))],
      ['logits', unaligned(normal(N * C, 3, C + 1))],
    ];
    for (const [from, p] of inputs) {
      for (const reduction of ['none', 'mean', 'sum'] as const) {
        for (const unit of ['nats', 'bits'] as const) {
          const o: EntropyOptions = { from, reduction, unit };
          expectClose(xe.entropy(p, C, o), reference.entropy(p, C, o) as number, tol);
        }
      }
    }
  });

  it.each([
    [4096, 1000],
    [16, 32000],
  ])('reaches 1e-6 relative error on N = %i, C = %i', (N, C) => {
    const p = sparseProbabilities(N, C, N + C);
    const z = normal(N * C, 3, N * C);
    for (const [from, x] of [['probs', p], ['logits', z]] as const) {
      const rows = relError(xe.entropy(x, C, { from }), reference.entropy(x, C, { from }) as Float64Array);
      const mean = relError(xe.entropy(x, C, { from, reduction: 'mean' }), reference.entropy(x, C, { from, reduction: 'mean' }) as number);
      console.log(`entropy ${from} N=${N} C=${C}: worst row relative error ${rows.toExponential(2)}, mean ${mean.toExponential(2)}`);
      expect(rows).toBeLessThanOrEqual(1e-6);
      expect(mean).toBeLessThanOrEqual(1e-6);
    }
  });
});
