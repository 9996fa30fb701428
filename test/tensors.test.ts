// Tensor objects wherever a function takes an array (issue 25): the functions that take `classes` as an
// argument, binary cross-entropy's targets, the binary and multilabel scorers' labels; every tensor's
// dims checked against the input's; masks of 0 and 1 only; a tensor's type describing its data.

import { describe, expect, it } from 'vitest';
import { reference, type Xentropy } from '../src/index.js';
// The pool runs its worker script from dist/, as test/pool.test.ts does.
import { createPool, type XentropyPool } from '../dist/index.js';
import { backends, bits, expectSameBits, labels as drawLabels, normal, probabilities, wasmBackends } from './helpers.js';

const N = 6, C = 5;
const logits = normal(N * C, 2, 31);
const p = probabilities(N, C, 32);
const q = probabilities(N, C, 33);
const other = normal(N * C, 2, 41);
const binaryLogits = normal(N * C, 2, 34);
const binaryTargets = Float32Array.from(bits(N * C, 35));

/** The tensor forms runtimes hand over: onnxruntime's / transformers.js's, { data, shape }, TensorFlow.js's. */
class TfTensor {
  constructor(readonly values: ArrayLike<number>, readonly shape: number[]) {}
  dataSync() { return this.values; }
}
const FORMS: [string, (data: Float32Array | Uint8Array, dims: number[]) => unknown][] = [
  ['{ data, dims, type }', (data, dims) => ({ type: data instanceof Uint8Array ? 'bool' : 'float32', data, dims })],
  ['{ data, shape }', (data, shape) => ({ data, shape })],
  ['a TensorFlow.js tensor', (data, shape) => new TfTensor(data, shape)],
];

/** Every backend's functions, called with what a user may pass (the tests check the types' promises at run time). */
type Api = Record<string, (...args: unknown[]) => unknown>;

describe.each(backends)('the functions that take classes as an argument take tensors (%s)', (_name, backend) => {
  const xe = backend as unknown as Api;
  // Each call with the tensor it is given, and whose dims give classes in its messages.
  const calls: [string, (x: unknown, classes?: number) => unknown, string][] = [
    ['softmax', (x, c) => xe.softmax(x, c), "the input's"],
    ['logSoftmax', (x, c) => xe.logSoftmax(x, c), "the input's"],
    ['logSumExp', (x, c) => xe.logSumExp(x, c), "the input's"],
    ['entropy', (x, c) => xe.entropy(x, c, { from: 'logits' }), "the input's"],
    ['klDivergence', (x, c) => xe.klDivergence(p, x, c, { from: 'logits', reduction: 'none' }), "q's"],
    ['klDivergenceWithGrad', (x, c) => (xe.klDivergenceWithGrad(p, x, c, { from: 'logits' }) as { grad: unknown }).grad, "q's"],
    ['jsDivergence', (x, c) => xe.jsDivergence(x, other, c, { from: 'logits', reduction: 'none' }), "p's"],
  ];
  for (const [name, call, whose] of calls) {
    it(`${name}: classes defaults to the last dimension, gives the flat call's bits, and must agree with it`, () => {
      const flat = call(logits, C);
      for (const [form, make] of FORMS) {
        expectSameBits(call(make(logits, [N, C])), flat, `${name}, ${form}`);
        expectSameBits(call(make(logits, [2, 3, C]), C), flat, `${name}, ${form}, 3-D`);
        expect(() => call(make(logits, [N, C]), 2 * C), `${name}, ${form}`).toThrow(
          new RangeError(`classes = ${2 * C} disagrees with ${whose} last dimension ${C} (dims [${N}, ${C}])`),
        );
      }
      // A flat array still needs classes, and a 0-D tensor has no class axis.
      expect(() => call(logits)).toThrow(TypeError);
      expect(() => call({ data: logits.subarray(0, 1), dims: [] })).toThrow(`classes cannot come from ${whose} dims []: a 0-D tensor has no class axis`);
    });
  }

  it("klDivergence and jsDivergence: q's dims must be p's; classes from either tensor", () => {
    const flat = xe.klDivergence(p, q, C, { reduction: 'none' });
    expectSameBits(xe.klDivergence({ data: p, dims: [N, C] }, { data: q, dims: [N, C] }, undefined, { reduction: 'none' }), flat);
    expectSameBits(xe.klDivergence(p, { data: q, dims: [N, C] }, undefined, { reduction: 'none' }), flat);
    // A 1-D tensor of as many elements is the same values flattened.
    expectSameBits(xe.klDivergence({ data: p, dims: [N, C] }, { data: q, dims: [N * C] }, undefined, { reduction: 'none' }), flat);
    expect(() => xe.klDivergence({ data: p, dims: [N, C] }, { data: q, dims: [C, N] })).toThrow(
      new RangeError(`q has dims [${C}, ${N}], but p's dims [${N}, ${C}] call for [${N}, ${C}]`),
    );
    expect(() => xe.jsDivergence({ data: p, dims: [N, C] }, { data: q, dims: [2, N * C / 2] })).toThrow(/q has dims \[2, 15\]/);
  });
});

describe.each(backends)('binary cross-entropy takes tensors of targets (%s)', (_name, backend) => {
  const xe = backend as unknown as Api;
  for (const withGrad of [false, true]) {
    const fn = withGrad ? 'binaryCrossEntropyWithGrad' : 'binaryCrossEntropy';
    // The loss per element, and the gradient after it.
    const call = (x: unknown, t: unknown, o?: object): Float64Array => {
      const r = xe[fn](x, t, { reduction: 'none', ...o });
      if (!withGrad) return Float64Array.from(r as ArrayLike<number>);
      const { loss, grad } = r as { loss: ArrayLike<number>; grad: ArrayLike<number> };
      return Float64Array.from([...Array.from(loss), ...Array.from(grad)]);
    };
    it(`${fn}: float32, bool and uint8 tensors of targets give the flat call's bits`, () => {
      const flat = call(binaryLogits, binaryTargets);
      const u8 = Uint8Array.from(binaryTargets);
      for (const [form, make] of FORMS) {
        expectSameBits(call(make(binaryLogits, [N * C]), make(binaryTargets, [N * C])), flat, form);
        expectSameBits(call(binaryLogits, make(u8, [N * C])), flat, `${form}, 0/1 bytes`);
      }
    });

    it(`${fn}: integer labels of 0 and 1 (int64 as ONNX gives them) are targets; other integers are refused`, () => {
      const flat = call(binaryLogits, Uint8Array.from(binaryTargets));
      for (const View of [Int8Array, Int16Array, Int32Array, Uint16Array, Uint32Array]) expectSameBits(call(binaryLogits, View.from(binaryTargets)), flat, View.name);
      expectSameBits(call(binaryLogits, { type: 'int64', data: BigInt64Array.from(binaryTargets, BigInt), dims: [N * C] }), flat);
      expectSameBits(call(binaryLogits, BigUint64Array.from(binaryTargets, BigInt)), flat);
      const bad = Int32Array.from(binaryTargets);
      bad[3] = 2;
      expect(() => call(binaryLogits, bad)).toThrow(new RangeError('target[3] = 2 is not 0 or 1 (integer targets are labels)'));
      expect(() => call(binaryLogits, BigInt64Array.from(bad, BigInt))).toThrow(new RangeError('target[3] = 2n is not 0 or 1 (integer targets are labels)'));
    });

    it(`${fn}: an [N, C] input's classes is C (weight and posWeight per column); dims must agree`, () => {
      const posWeight = Float32Array.from({ length: C }, (_, i) => 1 + i / 2);
      const flat = call(binaryLogits, binaryTargets, { classes: C, posWeight });
      expectSameBits(call({ data: binaryLogits, dims: [N, C] }, { data: binaryTargets, dims: [N, C] }, { posWeight }), flat);
      expectSameBits(call({ data: binaryLogits, dims: [N, C] }, binaryTargets, { classes: C, posWeight }), flat);
      expect(() => call({ data: binaryLogits, dims: [N, C] }, binaryTargets, { classes: 1 })).toThrow(
        new RangeError(`options.classes = 1 disagrees with the input's dims [${N}, ${C}] (a binary input's classes is its last dimension, 1 for a 1-D input)`),
      );
      expect(() => call({ data: binaryLogits, dims: [N * C] }, binaryTargets, { classes: C })).toThrow(/options\.classes = 5 disagrees with the input's dims \[30\]/);
      expect(() => call({ data: binaryLogits, dims: [N, C] }, { data: binaryTargets, dims: [C, N] })).toThrow(
        new RangeError(`target has dims [${C}, ${N}], but the input's dims [${N}, ${C}] call for [${N}, ${C}]`),
      );
      expect(() => call(binaryLogits, { type: 'float64', data: new Float64Array(N * C), dims: [N * C] })).toThrow(TypeError);
    });
  }
});

describe.each(wasmBackends)('the binary and multilabel scorers take tensors (%s)', (_name, xe) => {
  it("labels as tensors give the flat update's result; scores' and labels' dims must fit", () => {
    const flat = xe.binaryScorer().update(binaryLogits, binaryTargets).result();
    for (const [form, make] of FORMS) {
      expect(xe.binaryScorer().update(make(binaryLogits, [N * C]) as Float32Array, make(binaryTargets, [N * C]) as Float32Array).result(), form).toEqual(flat);
      expect(xe.binaryScorer().update(binaryLogits, make(Uint8Array.from(binaryTargets), [N * C, 1]) as Float32Array).result(), form).toEqual(flat);
    }
    expect(xe.binaryScorer().update(binaryLogits, { type: 'int64', data: BigInt64Array.from(binaryTargets, BigInt), dims: [N * C] } as never).result()).toEqual(flat);
    expect(() => xe.binaryScorer().update(binaryLogits, BigInt64Array.from([...binaryTargets.subarray(0, 29), 3].map(BigInt)))).toThrow(
      new RangeError('labels[29] = 3n is not a target in [0, 1]'),
    );
    const multi = xe.multilabelScorer({ labels: C }).update(binaryLogits, binaryTargets).result();
    expect(xe.multilabelScorer({ labels: C }).update({ data: binaryLogits, dims: [N, C] }, { type: 'bool', data: Uint8Array.from(binaryTargets), dims: [N, C] }).result()).toEqual(multi);
    expect(() => xe.multilabelScorer({ labels: C }).update({ data: binaryLogits, dims: [C, N] }, binaryTargets)).toThrow(
      new RangeError(`scores has dims [${C}, ${N}], but the scorer scores ${C} labels per row`),
    );
    expect(() => xe.multilabelScorer({ labels: C }).update({ data: binaryLogits, dims: [N, C] }, { data: binaryTargets, dims: [3, 10] })).toThrow(
      new RangeError(`labels has dims [3, 10], but the scores' dims [${N}, ${C}] call for [${N}, ${C}]`),
    );
    expect(() => xe.binaryScorer().update({ data: binaryLogits, dims: [N, C] }, binaryTargets)).toThrow(/scores has dims \[6, 5\], but the scorer scores 1 label per row/);
  });
});

describe.each(backends)('the dims of ids and masks must fit the logits (%s)', (_name, backend) => {
  const xe = backend as unknown as Api;
  const B = 2, T = 3;
  const lm = normal(B * T * C, 2, 36);
  const ids = drawLabels(B * T, C, 37);
  const mask = Uint8Array.from([1, 1, 0, 1, 0, 0]);
  it('a transposed [T, B] is refused, a flat 1-D tensor of as many elements is taken', () => {
    const logitsTensor = { type: 'float32', data: lm, dims: [B, T, C] };
    const flat = xe.crossEntropy(lm, ids, { classes: C, shift: true, sequenceLength: T, attentionMask: mask });
    expectSameBits(xe.crossEntropy(logitsTensor, { data: ids, dims: [B * T] }, { shift: true, attentionMask: { data: mask, dims: [B * T] } }), flat);
    expect(() => xe.crossEntropy(logitsTensor, { data: ids, dims: [T, B] }, { shift: true })).toThrow(
      new RangeError(`target has dims [${T}, ${B}], but the input's dims [${B}, ${T}, ${C}] call for [${B}, ${T}]`),
    );
    expect(() => xe.crossEntropy(logitsTensor, ids, { shift: true, attentionMask: { type: 'bool', data: mask, dims: [T, B] } })).toThrow(
      new RangeError(`options.attentionMask has dims [${T}, ${B}], but the input's dims [${B}, ${T}, ${C}] call for [${B}, ${T}]`),
    );
    // With flat logits the ids' dims decide.
    expect(() => xe.crossEntropy(lm, { data: ids, dims: [B, T] }, { classes: C, attentionMask: { data: mask, dims: [T, B] } })).toThrow(
      /options\.attentionMask has dims \[3, 2\], but the target's dims \[2, 3\] call for \[2, 3\]/,
    );
    // Probabilities as the target have the input's own dims.
    const soft = probabilities(B * T, C, 38);
    expectSameBits(xe.crossEntropy(logitsTensor, { data: soft, dims: [B, T, C] }), xe.crossEntropy(lm, soft, { classes: C }));
    expect(() => xe.crossEntropy(logitsTensor, { data: soft, dims: [B, C, T] })).toThrow(/target has dims \[2, 5, 3\]/);
  });

  it('without shift, a mask marks rows and needs no sequence length (as labels of ignoreIndex would)', () => {
    const ignored = Int32Array.from(ids, (y, i) => (mask[i] ? y : -100));
    const want = xe.crossEntropy(lm, ignored, { classes: C });
    expectSameBits(xe.crossEntropy(lm, ids, { classes: C, attentionMask: mask }), want);
    expect(() => xe.crossEntropy(lm, ids, { classes: C, shift: true, attentionMask: mask })).toThrow(/needs the sequence length/);
  });

  it('a mask holds 0 and 1 (or booleans): anything else is a RangeError naming the entry', () => {
    for (const bad of [Uint8Array.from([1, 2, 0, 1, 0, 0]), Int32Array.from([1, 1, -1, 0, 0, 0]), BigInt64Array.from([1n, 1n, 0n, 5n, 0n, 0n]), [1, 0.5, 0, 1, 0, 0]]) {
      expect(() => xe.crossEntropy(lm, ids, { classes: C, attentionMask: bad })).toThrow(/^options\.attentionMask\[\d\] = -?[\d.]+n? is not 0 or 1$/);
    }
    expectSameBits(
      xe.crossEntropy(lm, ids, { classes: C, attentionMask: [true, true, false, true, false, false] }),
      xe.crossEntropy(lm, ids, { classes: C, attentionMask: mask }),
    );
  });

  it("a float tensor's type must describe its data", () => {
    expect(() => xe.crossEntropy({ type: 'float16', data: lm, dims: [B * T, C] }, ids)).toThrow(
      new TypeError(`input is a tensor of type 'float16' whose data is Float32Array(${B * T * C})`),
    );
    expect(() => xe.softmax({ type: 'float64', data: lm, dims: [B * T, C] })).toThrow(/logits is a tensor of type 'float64' whose data is Float32Array/);
    expect(() => xe.softmax({ type: 'float32', data: new Uint16Array(B * T * C), dims: [B * T, C] })).toThrow(/type 'float32' whose data is Uint16Array/);
    expectSameBits(xe.softmax({ type: 'float64', data: Float64Array.from(lm), dims: [B * T, C] }), xe.softmax(Float64Array.from(lm), C));
  });

  it('a float16 (bfloat16, float64) tensor where class indices go is a TypeError, not indices', () => {
    const logitsTensor = { type: 'float32', data: lm, dims: [B * T, C] };
    // onnxruntime's float16 tensors hold a Uint16Array, which would otherwise read as class indices.
    expect(() => xe.crossEntropy(logitsTensor, { type: 'float16', data: new Uint16Array(B * T * C), dims: [B * T, C] })).toThrow(
      new TypeError('target is a float16 tensor, but it takes class indices (an integer tensor) or probabilities as float32'),
    );
    expect(() => xe.crossEntropy(logitsTensor, { type: 'bfloat16', data: new Uint16Array(B * T), dims: [B * T] })).toThrow(/target is a bfloat16 tensor/);
  });
});

describe.each(wasmBackends)("the scorer's labels and mask dims (%s)", (_name, xe) => {
  it('labels and masks that do not fit [B, T] are refused before anything is added', () => {
    const B = 2, T = 3;
    const lm = normal(B * T * C, 2, 39);
    const ids = drawLabels(B * T, C, 40);
    const s = xe.scorer({ classes: C });
    expect(() => s.update({ data: lm, dims: [B, T, C] }, { data: ids, dims: [T, B] })).toThrow(
      new RangeError(`labels has dims [${T}, ${B}], but the logits' dims [${B}, ${T}, ${C}] call for [${B}, ${T}]`),
    );
    expect(() => s.update({ data: lm, dims: [B, T, C] }, ids, { attentionMask: { data: new Uint8Array(B * T), dims: [T, B] } })).toThrow(/attentionMask has dims \[3, 2\]/);
    expect(() => s.update(lm, ids, { attentionMask: Uint8Array.from([1, 3, 1, 1, 1, 1]) })).toThrow(new RangeError('attentionMask[1] = 3 is not 0 or 1'));
    expect(() => s.update(lm, { type: 'float16', data: new Uint16Array(B * T), dims: [B * T] })).toThrow(
      new TypeError('labels is a float16 tensor, but it takes class indices (an integer tensor)'),
    );
    expect(() => s.update(lm, { type: 'float32', data: new Float32Array(B * T), dims: [B * T] })).toThrow(/labels is a float32 tensor/);
    expect(s.count).toBe(0);
    s.update({ data: lm, dims: [B, T, C] }, { data: ids, dims: [B * T] });
    expect(s.count).toBe(B * T);
  });
});

describe.each(wasmBackends)('tensors of every kind of argument (%s)', (_name, xe) => {
  const B = 2, T = 3;
  const lm = normal(B * T * C, 2, 42);
  const ids = drawLabels(B * T, C, 43);
  const logitsTensor = { type: 'float32', data: lm, dims: [B, T, C] };

  it("crossEntropyOver: classes left out comes from the first batch's tensor and binds the others", () => {
    const other = { type: 'float32', data: normal(B * 2, 2, 44), dims: [B, 2] };
    const first = { input: { data: lm, dims: [B * T, C] }, target: ids };
    expect(xe.crossEntropyOver([first, first], {})).toBe(xe.crossEntropy(lm, ids, { classes: C }));
    expect(() => xe.crossEntropyOver([first, { input: other, target: [0, 1] }], { reduction: 'sum' })).toThrow(
      new RangeError(`batches[1]: options.classes = ${C} disagrees with the input's last dimension 2 (dims [${B}, 2])`),
    );
  });

  it("an integer, bool or float tensor's type must describe its data, wherever it goes", () => {
    expect(() => xe.crossEntropy(logitsTensor, { type: 'float32', data: ids, dims: [B, T] })).toThrow(
      new TypeError(`target is a tensor of type 'float32' whose data is Int32Array(${B * T})`),
    );
    expect(() => xe.crossEntropy(logitsTensor, { type: 'int64', data: ids, dims: [B, T] })).toThrow(/target is a tensor of type 'int64' whose data is Int32Array/);
    expect(() => xe.crossEntropy(logitsTensor, ids, { attentionMask: { type: 'float32', data: new Uint8Array(B * T), dims: [B, T] } })).toThrow(
      /options\.attentionMask is a tensor of type 'float32' whose data is Uint8Array/,
    );
    expect(() => xe.binaryCrossEntropy(binaryLogits, { type: 'float16', data: new Uint8Array(N * C), dims: [N * C] })).toThrow(/target is a tensor of type 'float16' whose data is Uint8Array/);
    expect(() => xe.binaryScorer().update({ type: 'float16', data: new Float32Array(4), dims: [4] } as never, new Uint8Array(4))).toThrow(/scores is a tensor of type 'float16' whose data is Float32Array/);
    // Types of other runtimes' own, and tensors without one, are read by their data.
    expectSameBits(xe.crossEntropy({ type: 'tfjs-float', data: lm, dims: [B * T, C] }, ids), xe.crossEntropy(lm, ids, { classes: C }));
  });

  it('a tensor without dims or shape says so', () => {
    expect(() => xe.softmax({ type: 'float32', data: lm } as never, C)).toThrow(
      new TypeError('logits has data but no dims or shape: a tensor object is { data, dims } (onnxruntime, transformers.js) or { data, shape }'),
    );
    expect(() => xe.crossEntropy(lm, { data: ids } as never, { classes: C })).toThrow(/^target has data but no dims or shape/);
  });

  it('a tensor with both dims and shape: they must agree', () => {
    expectSameBits(xe.softmax({ data: lm, dims: [B * T, C], shape: [B * T, C] }), xe.softmax(lm, C));
    expect(() => xe.softmax({ data: lm, dims: [B * T, C], shape: [C, B * T] })).toThrow(
      new RangeError(`logits has dims [${B * T}, ${C}] and shape [${C}, ${B * T}], which disagree`),
    );
  });

  it("weights as tensors: class weights are [C], sample weights the logits' [B, T]", () => {
    const weight = Float32Array.from({ length: C }, (_, c) => 1 + c);
    const sampleWeight = Float32Array.from({ length: B * T }, (_, r) => (r % 3) + 0.5);
    const want = xe.crossEntropy(lm, ids, { classes: C, weight, sampleWeight });
    expectSameBits(xe.crossEntropy(logitsTensor, ids, { weight: { data: weight, dims: [C] }, sampleWeight: { data: sampleWeight, dims: [B, T] } }), want);
    expect(() => xe.crossEntropy(logitsTensor, ids, { sampleWeight: { data: sampleWeight, dims: [T, B] } })).toThrow(
      new RangeError(`options.sampleWeight has dims [${T}, ${B}], but the input's dims [${B}, ${T}, ${C}] call for [${B}, ${T}]`),
    );
    expect(() => xe.crossEntropy(logitsTensor, ids, { weight: { data: weight, dims: [1, C] } })).toThrow(/options\.weight has dims \[1, 5\], but the input's dims \[2, 3, 5\] call for \[5\]/);
    expect(() => xe.binaryCrossEntropy({ data: binaryLogits, dims: [N, C] }, binaryTargets, { posWeight: { data: weight, dims: [C, 1] } })).toThrow(/options\.posWeight has dims \[5, 1\]/);
  });
});

/** onnxruntime's Tensor as its declarations describe it: a class with readonly fields. */
class OrtTensor<T extends Float32Array | Uint8Array | BigInt64Array> {
  constructor(readonly type: string, readonly data: T, readonly dims: readonly number[]) {}
}

/**
 * What a TypeScript user writes with onnxruntime's tensors, without a cast: the declarations must take
 * it (vitest type-checks this file), and every call must run, on the instance, the reference and the pool.
 */
function typedCalls(
  xe: Xentropy, pool: XentropyPool, logits: OrtTensor<Float32Array>, probs: OrtTensor<Float32Array>, ids: OrtTensor<BigInt64Array>, targets: OrtTensor<Uint8Array>,
): unknown[] {
  const weights = new OrtTensor('float32', Float32Array.from({ length: C }, (_, c) => 1 + c), [C]);
  return [
    xe.softmax(logits), xe.logSumExp(logits), xe.entropy(logits, undefined, { from: 'logits' }),
    xe.klDivergence(probs, logits, undefined, { from: 'logits' }), xe.jsDivergence(probs, probs.data, C),
    xe.binaryCrossEntropy(logits, targets, { posWeight: weights }), xe.crossEntropy(logits, ids, { weight: weights }),
    xe.crossEntropyOver([{ input: logits, target: ids, sampleWeight: new OrtTensor('float32', new Float32Array(N).fill(1), [N]) }], {}),
    xe.binaryScorer().update(new OrtTensor('float32', logits.data, [N * C]), targets.data).result(),
    xe.multilabelScorer({ labels: C }).update(logits, targets).result(),
    reference.softmax(logits), reference.entropy(probs), reference.klDivergence(probs, probs), reference.jsDivergence(probs.data, probs),
    reference.binaryCrossEntropy(logits, targets), reference.crossEntropy(logits, ids), reference.perplexity(logits, ids),
    reference.binaryScore(new OrtTensor('float32', logits.data, [N * C]), targets.data), reference.multilabelScore(logits, targets, { labels: C }),
    pool.crossEntropy(logits, ids), pool.crossEntropyWithGrad(logits, ids), pool.binaryCrossEntropy(logits, targets),
  ];
}

describe.each(wasmBackends)("onnxruntime's Tensor class, as TypeScript sees it (%s)", (_name, xe) => {
  it('gives the results of plain arrays, on the instance and the reference', () => {
    const t = new OrtTensor('float32', logits, [N, C]);
    const ids = new OrtTensor('int64', BigInt64Array.from(drawLabels(N, C, 45), BigInt), [N]);
    const bools = new OrtTensor('bool', Uint8Array.from(binaryTargets), [N, C]);
    expectSameBits(xe.softmax(t), xe.softmax(logits, C));
    expectSameBits(reference.softmax(t), reference.softmax(logits, C));
    expectSameBits(xe.crossEntropy(t, ids), xe.crossEntropy(logits, ids.data, { classes: C }));
    expectSameBits(reference.binaryCrossEntropy(t, bools), reference.binaryCrossEntropy(logits, Uint8Array.from(binaryTargets), { classes: C }));
  });
});

describe("the calls a TypeScript user writes with onnxruntime's Tensor class", () => {
  it('type-check and run on the instance, the reference and the pool', async () => {
    const pool = await createPool({ threads: 2 });
    try {
      const results = await Promise.all(typedCalls(
        wasmBackends[0][1], pool, new OrtTensor('float32', logits, [N, C]), new OrtTensor('float32', p, [N, C]),
        new OrtTensor('int64', BigInt64Array.from(drawLabels(N, C, 46), BigInt), [N]), new OrtTensor('bool', Uint8Array.from(binaryTargets), [N, C]),
      ));
      expect(results).toHaveLength(22);
      for (const [i, r] of results.entries()) expect(typeof r === 'number' ? Number.isNaN(r) : r == null, `call ${i}`).toBe(false);
    } finally {
      await pool.close();
    }
  });
});
