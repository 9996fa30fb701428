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

// The scorer on language-model outputs (issue 25): shift, attention masks, per-sequence results, tensor
// inputs, against the same float64 computation, xe.perplexity and the reference scorer.
describe.each(wasmBackends)('the scorer on language models (%s)', (_name, xe) => {
  const seqOptions = { classes: V, shift: true, sequenceLength: T, perSequence: true, topK: [1, 5] } as const;

  it('shift and a ragged mask: corpus and per-sequence figures of the float64 computation; all-masked sequences count 0', () => {
    const want = obvious(true, true);
    const r = xe.scorer(seqOptions).update(logits, ids, { attentionMask: mask }).result();
    expect(r.count).toBe(want.count);
    expectClose(r.lossNats, want.mean, REL);
    expectClose(r.perplexity, Math.exp(want.mean), REL);
    const per = r.perSequence!;
    expect(per.tokens).toEqual(want.tokens);
    expectClose(per.lossNats.subarray(0, 3), want.perSequence.subarray(0, 3), REL);
    expectClose(per.perplexity.subarray(0, 3), want.perSequence.subarray(0, 3).map(Math.exp), REL);
    expect(per.tokens[3]).toBe(0);
    expect(per.lossNats[3]).toBeNaN();
    expect(per.perplexity[3]).toBeNaN();
    // The reference scorer: every metric, per-sequence sums in the same row order.
    const ref = reference.score(logits, ids, { ...seqOptions, attentionMask: mask });
    expect(ref.count).toBe(r.count);
    // The scorer's tolerance against the reference (test/scorer.test.ts).
    const tol = { rel: 2e-6, abs: 1e-7 };
    expectClose(r.lossNats, ref.lossNats, tol);
    expectClose(r.brier, ref.brier, tol);
    expect(r.topK).toEqual(ref.topK);
    expect(r.accuracy).toBe(ref.accuracy);
    expect(ref.perSequence!.tokens).toEqual(per.tokens);
    expectClose(per.lossNats, ref.perSequence!.lossNats, tol);
  });

  it('perSequence equals xe.perplexity(...).perSequence on the same data (tokens exactly; losses to float32 rounding)', () => {
    for (const withMask of [false, true]) {
      const options = { classes: V, shift: true, sequenceLength: T, ...(withMask ? { attentionMask: mask } : {}) };
      const p = xe.perplexity(logits, ids, options);
      const r = xe.scorer(seqOptions).update(logits, ids, withMask ? { attentionMask: mask } : undefined).result();
      expect(r.perSequence!.tokens).toEqual(p.perSequence.tokens);
      expect(r.count).toBe(p.tokens);
      // xe.perplexity sums float32 per-token losses, the scorer float64 ones: 2^-24 relative each.
      expectClose(r.perSequence!.lossNats, p.perSequence.lossNats, { rel: 2 ** -22, abs: 0 });
      expectClose(r.perSequence!.perplexity, p.perSequence.perplexity, { rel: 2 ** -20, abs: 0 });
      expectClose(r.lossNats, p.lossNats, { rel: 2 ** -22, abs: 0 });
    }
  });

  it('without shift or a sequence length, the mask of each row decides', () => {
    const want = obvious(false, true);
    const r = xe.scorer({ classes: V }).update(logits, ids, { attentionMask: mask }).result();
    expect(r.count).toBe(want.count);
    expectClose(r.lossNats, want.mean, REL);
    // The same as labels of ignoreIndex where the mask is 0.
    const masked = Int32Array.from(ids, (id, i) => (mask[i] ? id : -100));
    expect(r).toEqual(xe.scorer({ classes: V }).update(logits, masked).result());
  });

  it('updates of whole sequences, and shards merged in order (through JSON), equal one pass', () => {
    const whole = xe.scorer(seqOptions).update(logits, ids, { attentionMask: mask, bytes: 100 });
    const split = xe.scorer(seqOptions);
    for (const [b0, b1] of [[0, 1], [1, 3], [3, 4]]) {
      split.update(logits.subarray(b0 * T * V, b1 * T * V), ids.subarray(b0 * T, b1 * T), { attentionMask: mask.subarray(b0 * T, b1 * T), bytes: 25 * (b1 - b0) });
    }
    expect(split.result()).toEqual(whole.result());
    const shards = [[0, 2], [2, 3], [3, 4]].map(([b0, b1]) => JSON.parse(JSON.stringify(
      xe.scorer(seqOptions).update(logits.subarray(b0 * T * V, b1 * T * V), ids.subarray(b0 * T, b1 * T), { attentionMask: mask.subarray(b0 * T, b1 * T), bytes: 25 * (b1 - b0) }).state(),
    )));
    expect(shards[0]).toMatchObject({ version: 3, shift: true, sequenceLength: T });
    const merged = xe.scorerFromState(shards[0]).merge(shards[1]).merge(xe.scorerFromState(shards[2]));
    const m = merged.result(), w = whole.result();
    // Per-sequence sums are whole within a shard: concatenated in shard order, they are the single pass's bit for bit.
    expect(m.perSequence).toEqual(w.perSequence);
    expect(m.count).toBe(w.count);
    expectClose(m.lossNats, w.lossNats, { rel: 1e-12, abs: 0 });
    expectClose(m.bitsPerByte!, w.bitsPerByte!, { rel: 1e-12, abs: 0 });
    // In another order, the sequences follow the order of the merges.
    const reversed = xe.scorerFromState(shards[2]).merge(shards[0]).result().perSequence!;
    expect(Array.from(reversed.tokens)).toEqual([w.perSequence!.tokens[3], w.perSequence!.tokens[0], w.perSequence!.tokens[1]]);
    // A scorer merged into itself doubles its sequences.
    const twice = xe.scorerFromState(shards[1]);
    expect(Array.from(twice.merge(twice).result().perSequence!.tokens)).toEqual([w.perSequence!.tokens[2], w.perSequence!.tokens[2]]);
  });

  it('keeps a sequence with an infinite loss through JSON; refuses forged per-sequence states', () => {
    const z = Float32Array.from(logits.subarray(0, T * V));
    z[0 * V + ids[1]] = -Infinity; // position 0 predicts token 1 with probability 0
    const s = xe.scorer(seqOptions).update(z, ids.subarray(0, T));
    const state = s.state();
    expect(state.sequences!.loss[0]).toBe('Infinity');
    const back = xe.scorerFromState(JSON.parse(JSON.stringify(state)));
    expect(back.result().perSequence!.lossNats[0]).toBe(Infinity);
    expect(back.state()).toEqual(state);
    const forged = (edit: (q: { loss: unknown[]; tokens: unknown[] }) => void) => {
      const f = JSON.parse(JSON.stringify(state));
      edit(f.sequences);
      return f;
    };
    expect(() => xe.scorerFromState(forged((q) => { q.tokens[0] = 7; }))).toThrow(/^state\.sequences\.tokens sums to 7, not state\.count = 8/);
    expect(() => xe.scorerFromState(forged((q) => { q.tokens.push(0); }))).toThrow('state.sequences.tokens.length must be 1, got 2');
    expect(() => xe.scorerFromState(forged((q) => { q.loss[0] = -1; }))).toThrow('state.sequences.loss[0] = -1 is negative');
    const empty = xe.scorer(seqOptions).update(z, Int32Array.from(ids.subarray(0, T)).fill(-100)).state();
    expect(empty.sequences!.tokens).toEqual([0]);
    expect(() => xe.scorerFromState({ ...empty, sequences: { loss: [0.5], tokens: [0] } })).toThrow('state.sequences.loss[0] = 0.5 must be 0 when state.sequences.tokens[0] = 0');
    expect(() => xe.scorerFromState({ ...state, sequences: { loss: [1], tokens: [T] } })).toThrow(/tokens\[0\] = 9 exceeds the 8 rows a sequence of state\.sequenceLength = 9 can count/);
    // A version 2 or 3 state needs its fields; a version 1 state never has them.
    const { shift: _, ...noShift } = state;
    expect(() => xe.scorerFromState(noShift)).toThrow('state.shift is missing');
    const plain = xe.scorer({ classes: V }).update(z, ids.subarray(0, T)).state();
    expect(plain).toMatchObject({ version: 3, shift: false, sequenceLength: null, sequences: null });
    const { shift: __, sequenceLength: ___, sequences: ____, classSupport: _1, classPredicted: _2, classCorrect: _3, confusion: _4, ...v1 } = plain;
    const v1Back = xe.scorerFromState({ ...v1, version: 1 }).state();
    expect(v1Back.version).toBe(1);
    expect('sequences' in v1Back).toBe(false);
  });

  it('takes tensors: [B, T, V] logits give T, int64 ids and a bool mask tensor, TensorFlow.js-like tensors', () => {
    const want = xe.scorer(seqOptions).update(logits, ids, { attentionMask: mask }).result();
    const ortLogits = { type: 'float32', data: logits, dims: [B, T, V] };
    const ortIds = { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [B, T] };
    const boolMask = { type: 'bool', data: mask, dims: [B, T] };
    const noT = { classes: V, shift: true, perSequence: true, topK: [1, 5] };
    expect(xe.scorer(noT).update(ortLogits, ortIds, { attentionMask: boolMask }).result()).toEqual(want);
    class TfTensor {
      constructor(readonly values: Float32Array, readonly shape: number[]) {}
      dataSync() { return this.values; }
    }
    expect(xe.scorer(noT).update(new TfTensor(logits, [B, T, V]), { data: Array.from(ids), shape: [B, T] }, { attentionMask: Array.from(mask, Boolean) }).result()).toEqual(want);
    // [B, T] ids alone give T as well.
    expect(xe.scorer(noT).update(logits, ortIds, { attentionMask: boolMask }).result()).toEqual(want);
    // A resident [B, T, V] is read in place.
    const resident = xe.tensor(logits);
    expect(xe.scorer(seqOptions).update(resident, ids, { attentionMask: mask }).result()).toEqual(want);
    resident.free();
  });

  it('refuses what does not fit, naming it, and adds nothing', () => {
    const s = xe.scorer(seqOptions);
    const cases: [() => unknown, ErrorConstructor, string][] = [
      [() => s.update(logits, ids, { attentionMask: mask.subarray(1) }), RangeError, `attentionMask.length must be ${B * T}, got ${B * T - 1}`],
      [() => s.update(logits.subarray(0, (2 * T - 1) * V), ids.subarray(0, 2 * T - 1)), RangeError, `logits hold ${2 * T - 1} rows, not whole sequences of ${T}`],
      [() => s.update({ data: new Float32Array(B * T * (V + 1)), dims: [B, T, V + 1] }, ids), RangeError, `the scorer's classes = ${V} disagrees with the input's last dimension ${V + 1}`],
      [() => s.update({ data: logits, dims: [T, B, V] }, ids), RangeError, `the scorer's sequenceLength = ${T} disagrees with the tensors' sequence dimension ${B}`],
      [() => s.update(logits, { data: ids, dims: [T, B] }), RangeError, `the scorer's sequenceLength = ${T} disagrees with the tensors' sequence dimension ${B}`],
      [() => s.update({ type: 'int8', data: new Int8Array(B * T * V), dims: [B, T, V] }, ids), TypeError, 'logits is a tensor of type "int8"'],
      [() => s.update(logits, Float32Array.from(ids) as never), TypeError, 'labels must be class indices'],
    ];
    for (const [call, type, message] of cases) {
      expect(call, message).toThrow(type);
      expect(call, message).toThrow(message);
    }
    expect(s.count).toBe(0);
    expect(s.result().perSequence!.tokens).toHaveLength(0);
    // With shift, the first token of each sequence is no row's label: it is not read.
    const firstBad = Int32Array.from(ids);
    for (let b = 0; b < B; b++) firstBad[b * T] = V + 7;
    expect(xe.scorer(seqOptions).update(logits, firstBad).result().count).toBe(B * (T - 1));
    firstBad[1] = V + 7;
    expect(() => xe.scorer(seqOptions).update(logits, firstBad)).toThrow(`labels[1] = ${V + 7} is not a class index in [0, ${V})`);
  });
});
