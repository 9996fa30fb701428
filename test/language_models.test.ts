// Language-model evaluation: the causal shift, attention masks and perplexity, checked against a float64
// computation that does the shift and the mask the obvious way (slice, mask, -log softmax); and the
// tensor objects ML runtimes hand over ({ data, dims, type } of onnxruntime and transformers.js,
// { data, shape }, TensorFlow.js tensors), int64 ids and boolean masks.

import { describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import { expectClose, expectSameBits, labels as drawLabels, normal, wasmBackends, type Backend } from './helpers.js';

const B = 4, T = 9, V = 37;
const logits = normal(B * T * V, 3, 21);
const ids = drawLabels(B * T, V, 22);
/** Ragged right padding, the last sequence masked entirely. */
const lengths = [9, 5, 1, 0];
const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)] ? 1 : 0));

/** The obvious float64 computation: per sequence, position t predicts t + 1 where the mask allows. */
function obvious(shift: boolean, withMask: boolean) {
  const lossNats = new Float64Array(B), tokens = new Int32Array(B);
  const perRow = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - (shift ? 1 : 0); t++) {
      const target = b * T + t + (shift ? 1 : 0);
      if (withMask && !mask[target]) continue;
      const row = logits.subarray((b * T + t) * V, (b * T + t + 1) * V);
      const lsm = reference.logSoftmax(row, V) as Float64Array;
      const nll = -lsm[ids[target]];
      perRow[b * T + t] = nll;
      lossNats[b] += nll;
      tokens[b]++;
    }
  }
  const total = lossNats.reduce((a, x) => a + x, 0), count = tokens.reduce((a, x) => a + x, 0);
  return {
    perRow, tokens, count,
    mean: total / count,
    perSequence: Float64Array.from(lossNats, (s, b) => s / tokens[b]),
  };
}

const REL = { rel: 1e-6, abs: 1e-6 };
const ALL: [string, Backend & { perplexity?: unknown }][] = [['reference', reference as unknown as Backend], ...wasmBackends];

describe.each(ALL)('language models on %s', (_name, xe) => {
  const api = xe as unknown as {
    perplexity(l: unknown, i: unknown, o?: unknown): {
      perplexity: number; lossNats: number; lossBits: number; tokens: number;
      perSequence: { lossNats: Float64Array; perplexity: Float64Array; tokens: Int32Array };
    };
    crossEntropy(l: unknown, i: unknown, o?: unknown): number | Float32Array;
  };

  it('shift: position t predicts token t + 1, the last position nothing', () => {
    const want = obvious(true, false);
    const none = api.crossEntropy(logits, ids, { classes: V, shift: true, sequenceLength: T, reduction: 'none' }) as Float32Array;
    expectClose(none, want.perRow, REL);
    const mean = api.crossEntropy(logits, ids, { classes: V, shift: true, sequenceLength: T });
    expectClose(mean as number, want.mean, REL);
  });

  it('attentionMask: positions whose predicted token is masked are not counted; all-masked sequences count 0', () => {
    const want = obvious(true, true);
    const r = api.perplexity(logits, ids, { classes: V, shift: true, sequenceLength: T, attentionMask: mask });
    expect(r.tokens).toBe(want.count);
    expectClose(r.lossNats, want.mean, REL);
    expectClose(r.perplexity, Math.exp(want.mean), REL);
    expectClose(r.lossBits, want.mean / Math.LN2, REL);
    expect(Array.from(r.perSequence.tokens)).toEqual(Array.from(want.tokens));
    expectClose(r.perSequence.lossNats.subarray(0, 3), want.perSequence.subarray(0, 3), REL);
    expect(r.perSequence.lossNats[3]).toBeNaN();
    expect(r.perSequence.perplexity[3]).toBeNaN();
    expectClose(r.perSequence.perplexity.subarray(0, 3), want.perSequence.subarray(0, 3).map(Math.exp), REL);
  });

  it('without shift, the mask of each position decides', () => {
    const want = obvious(false, true);
    const r = api.perplexity(logits, ids, { classes: V, sequenceLength: T, attentionMask: mask });
    expect(r.tokens).toBe(want.count);
    expectClose(r.lossNats, want.mean, REL);
  });

  it('takes tensors: [B, T, V] logits and [B, T] ids give classes and T, int64 ids and a bool mask', () => {
    const want = obvious(true, true);
    const ortLogits = { type: 'float32', data: logits, dims: [B, T, V] };
    const ortIds = { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [B, T] };
    const boolMask = { type: 'bool', data: mask, dims: [B, T] };
    const r = api.perplexity(ortLogits, ortIds, { shift: true, attentionMask: boolMask });
    expectClose(r.lossNats, want.mean, REL);
    // { data, shape } and a TensorFlow.js-like tensor (read with dataSync), number[] masks.
    class TfTensor {
      constructor(readonly values: Float32Array, readonly shape: number[]) {}
      dataSync() { return this.values; }
    }
    const tf = api.perplexity(new TfTensor(logits, [B, T, V]), { data: Array.from(ids), shape: [B, T] }, { shift: true, attentionMask: Array.from(mask) });
    expectClose(tf.lossNats, want.mean, REL);
    expectClose(api.crossEntropy(ortLogits, ortIds, { shift: true, attentionMask: boolMask }) as number, want.mean, REL);
  });

  it('refuses what does not fit, naming it', () => {
    expect(() => api.crossEntropy(logits, ids, { classes: V, shift: true })).toThrow(/needs the sequence length/);
    expect(() => api.crossEntropy({ data: logits, dims: [B, T, V] }, ids, { classes: V + 1 })).toThrow(RangeError);
    expect(() => api.crossEntropy({ data: logits, dims: [B, T, V] }, ids, { sequenceLength: T + 1, shift: true })).toThrow(/disagrees/);
    expect(() => api.crossEntropy({ data: logits, dims: [B, T, V + 1] }, ids)).toThrow(/dims \[4, 9, 38\]/);
    const big = BigInt64Array.from(ids, BigInt);
    big[5] = 2n ** 40n;
    expect(() => api.crossEntropy(logits, big, { classes: V })).toThrow(/target\[5\] = 1099511627776n is not a class index/);
    expect(() => api.crossEntropy({ type: 'float16', data: new Uint16Array(B * T * V), dims: [B, T, V] }, ids, { dtype: 'bfloat16' })).toThrow(/disagrees/);
    expect(() => api.crossEntropy(new Int32Array(B * T * V), ids, { classes: V })).toThrow(/input must be a Float32Array, Float64Array/);
    expect(() => api.crossEntropy(logits, new Float32Array(B * T * V), { classes: V, shift: true, sequenceLength: T })).toThrow(TypeError);
    expect(() => api.crossEntropy(logits, ids, { classes: V, sequenceLength: T, attentionMask: new Float32Array(B * T) })).toThrow(/mask/);
  });
});

describe.each(wasmBackends)('the shift on %s', (_name, xe) => {
  it('moves labels, not data: a resident [B, T, V] is used in place, and the gradient is zero at each last position', () => {
    // The same computation with the shifted labels written out by hand.
    const manual = new Int32Array(B * T).fill(-100);
    for (let r = 0; r < B * T; r++) if (r % T !== T - 1) manual[r] = ids[r + 1];
    const want = xe.crossEntropyWithGrad(logits, manual, { classes: V });
    const got = xe.crossEntropyWithGrad(logits, ids, { classes: V, shift: true, sequenceLength: T });
    expectSameBits(got.loss, want.loss);
    expectSameBits(got.grad, want.grad);
    for (let b = 0; b < B; b++) {
      expect(got.grad.subarray(((b + 1) * T - 1) * V, (b + 1) * T * V).every((g) => g === 0)).toBe(true);
    }
    const resident = xe.tensor(logits);
    const inPlace = xe.crossEntropyWithGrad(resident, ids, { classes: V, shift: true, sequenceLength: T, gradOut: resident });
    expectSameBits(inPlace.loss, want.loss);
    expectSameBits(resident.array, want.grad);
    resident.free();
    const p = xe.perplexity(logits, ids, { classes: V, shift: true, sequenceLength: T });
    expect(p.tokens).toBe(B * (T - 1));
  });
});
