// Copy windows of whole blocks (engine/staging.ts windowRows): plain arrays are staged and copied out one
// window at a time, but every block of chunkRows rows is still its own kernel call, summed in block
// order. So a call over many windows gives the bits of the same call made block by block, and the
// bits of the same call on resident buffers (which copy nothing).

import { describe, expect, it } from 'vitest';
import { chunkRows, STREAM_BYTES, windowRows } from '../src/engine/staging.js';
import type { Xentropy } from '../src/api.js';
import { expectSameBits, labels, normal, probabilities, uniform, wasmBackends } from './helpers.js';

/** Runs `call` on each block of `per` rows of `rows` and joins the results: losses summed in order, arrays concatenated. */
function blockByBlock(
  rows: number, per: number, width: number,
  call: (r0: number, r1: number) => { loss: number | Float32Array; grad?: Float32Array },
): { loss: number | Float32Array; grad: Float32Array } {
  let total = 0;
  const losses: number[] = [], grad = new Float32Array(rows * width);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const r1 = Math.min(rows, r0 + per);
    const part = call(r0, r1);
    if (typeof part.loss === 'number') total += part.loss;
    else losses.push(...part.loss);
    if (part.grad) grad.set(part.grad, r0 * width);
  }
  return { loss: losses.length ? Float32Array.from(losses) : total, grad };
}

describe('copy windows', () => {
  it('hold whole blocks and reach STREAM_BYTES, or are one row when a row is larger', () => {
    for (const classes of [1, 3, 7, 1000, 3000, 32000, 128256, 300000]) {
      const per = chunkRows(classes), span = windowRows(classes);
      expect(span % per, `C = ${classes}`).toBe(0);
      if (classes * 4 <= STREAM_BYTES) {
        expect(span * classes * 4, `C = ${classes}`).toBeGreaterThanOrEqual(STREAM_BYTES);
        expect((span - per) * classes * 4, `C = ${classes}`).toBeLessThan(STREAM_BYTES);
      } else {
        expect(span, `C = ${classes}`).toBe(1);
      }
    }
  });
});

describe.each(wasmBackends)('streamed over several copy windows on %s', (_name, xe: Xentropy) => {
  it('crossEntropy gives the bits of block-by-block calls and of resident buffers', () => {
    const C = 1000, per = chunkRows(C), span = windowRows(C);
    const N = 2 * span + per + 7; // three windows, the last with a short block
    expect(span).toBeGreaterThan(per);
    const z = normal(N * C, 3, 1), y = labels(N, C, 2), soft = probabilities(N, C, 3);
    const sampleWeight = uniform(N, 4, 0.5, 2), weight = uniform(C, 5, 0.5, 2);
    const rz = xe.tensor(z), rg = xe.alloc(N * C);
    try {
      for (const target of ['labels', 'soft'] as const) {
        for (const o of [{}, { weight, labelSmoothing: 0.1, sampleWeight }, { focal: { gamma: 2 } }, { softcap: 5 }, { from: 'probs' as const }]) {
          for (const reduction of ['sum', 'none'] as const) {
            const what = `${target} ${JSON.stringify(Object.keys(o))} ${reduction}`;
            const input = o.from ? soft : z;
            const t = (r0: number, r1: number) => (target === 'labels' ? y.subarray(r0, r1) : soft.subarray(r0 * C, r1 * C));
            const options = (r0: number, r1: number) => ({
              ...o, classes: C, reduction, ...('sampleWeight' in o ? { sampleWeight: sampleWeight.subarray(r0, r1) } : {}),
            });
            const whole = xe.crossEntropyWithGrad(input, t(0, N), options(0, N));
            const blocks = blockByBlock(N, per, C, (r0, r1) => xe.crossEntropyWithGrad(input.subarray(r0 * C, r1 * C), t(r0, r1), options(r0, r1)));
            expectSameBits(whole.loss, blocks.loss, `${what}: loss`);
            expectSameBits(whole.grad, blocks.grad, `${what}: grad`);
            expectSameBits(xe.crossEntropy(input, t(0, N), options(0, N)), whole.loss, `${what}: loss without gradient`);
            if (!o.from) {
              const resident = xe.crossEntropyWithGrad(rz, t(0, N), { ...options(0, N), gradOut: rg });
              expectSameBits(resident.loss, whole.loss, `${what}: resident loss`);
              expectSameBits(rg.array, whole.grad, `${what}: resident grad`);
            }
          }
        }
      }
    } finally {
      rz.free(); rg.free();
    }
  });

  it('binaryCrossEntropy and klDivergence give the bits of block-by-block calls', () => {
    const C = 7, per = chunkRows(C), span = windowRows(C);
    const N = 2 * span + per + 3;
    const x = normal(N * C, 3, 6), t = uniform(N * C, 7);
    // A first block of losses near 1e12 puts the running f64 total above 2^53, so every later block
    // sum added to it rounds, and a different grouping of the additions shows in the last bits.
    x.fill(1e12, 0, per * C);
    t.fill(0, 0, per * C);
    const o = { classes: C, weight: uniform(C, 8, 0.5, 2), posWeight: uniform(C, 9, 0.5, 2), labelSmoothing: 0.05 };
    for (const reduction of ['sum', 'none'] as const) {
      const whole = xe.binaryCrossEntropyWithGrad(x, t, { ...o, reduction, gradOut: new Float32Array(N * C) });
      const blocks = blockByBlock(N, per, C, (r0, r1) => xe.binaryCrossEntropyWithGrad(x.subarray(r0 * C, r1 * C), t.subarray(r0 * C, r1 * C), { ...o, reduction }));
      expectSameBits(whole.loss, blocks.loss, `binary ${reduction}: loss`);
      expectSameBits(whole.grad, blocks.grad, `binary ${reduction}: grad`);
    }
    const K = 1000, kPer = chunkRows(K), rows = 2 * windowRows(K) + kPer + 1;
    const p = probabilities(rows, K, 10), q = probabilities(rows, K, 11);
    for (const reduction of ['sum', 'none'] as const) {
      const whole = xe.klDivergenceWithGrad(p, q, K, { reduction });
      const blocks = blockByBlock(rows, kPer, K, (r0, r1) => xe.klDivergenceWithGrad(p.subarray(r0 * K, r1 * K), q.subarray(r0 * K, r1 * K), K, { reduction }));
      expectSameBits(whole.loss, blocks.loss, `kl ${reduction}: loss`);
      expectSameBits(whole.grad, blocks.grad, `kl ${reduction}: grad`);
    }
  });

  it('softmax and logSoftmax give the bits of row-by-row calls, in place or not', () => {
    const C = 3000, N = 2 * windowRows(C) + 5;
    const z = normal(N * C, 3, 12);
    for (const op of ['softmax', 'logSoftmax'] as const) {
      const whole = xe[op](z, C);
      const rows = blockByBlock(N, 1, C, (r0, r1) => ({ loss: 0, grad: xe[op](z.subarray(r0 * C, r1 * C), C) }));
      expectSameBits(whole, rows.grad, op);
      const inPlace = z.slice();
      xe[op](inPlace, C, inPlace);
      expectSameBits(inPlace, whole, `${op} in place`);
    }
  });
});
