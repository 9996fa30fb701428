// Every refused call: the exact error class, a message naming the argument and showing the value,
// and afterwards a valid call on the same instance that returns exactly what it returned before.

import { describe, expect, it } from 'vitest';
import { backends, normal, type Backend } from './helpers.js';

const C = 5, N = 3;
const z = normal(N * C, 2, 1);
const y = new Int32Array([4, 0, 2]);
const soft = new Float32Array(N * C).fill(1 / C);

function detached(): Float32Array {
  const b = new ArrayBuffer(N * C * 4);
  const view = new Float32Array(b);
  structuredClone(b, { transfer: [b] });
  return view;
}

type Case = [name: string, call: (xe: Backend) => unknown, error: typeof TypeError | typeof RangeError, message: RegExp];

const cases: Case[] = [
  // row operations
  ['logits as Float64Array', (xe) => xe.logSoftmax(new Float64Array(10) as never, 5), TypeError, /logits must be a Float32Array, got Float64Array\(10\)/],
  ['logits as plain array', (xe) => xe.softmax([1, 2] as never, 2), TypeError, /logits .*got Array\(2\)/],
  ['logits as string', (xe) => xe.logSumExp('1,2' as never, 2), TypeError, /logits .*got "1,2"/],
  ['logits detached', (xe) => xe.softmax(detached(), C), TypeError, /logits is a Float32Array whose buffer is detached/],
  ['classes as string', (xe) => xe.logSoftmax(z, '5' as never), TypeError, /classes must be a number, got "5"/],
  ['classes zero', (xe) => xe.softmax(z, 0), RangeError, /classes must be an integer in \[1, 2\^28\], got 0/],
  ['classes negative', (xe) => xe.logSumExp(z, -5), RangeError, /classes .*got -5/],
  ['classes fractional', (xe) => xe.logSoftmax(z, 2.5), RangeError, /classes .*got 2\.5/],
  ['classes NaN', (xe) => xe.softmax(z, NaN), RangeError, /classes .*got NaN/],
  ['classes huge', (xe) => xe.softmax(z, 2 ** 40), RangeError, /classes .*got 1099511627776/],
  ['length not a multiple of classes', (xe) => xe.logSoftmax(z, 4), RangeError, /logits\.length = 15 is not a multiple of classes = 4/],
  ['out of the wrong length', (xe) => xe.softmax(z, C, new Float32Array(14)), RangeError, /out\.length must be 15, got 14/],
  ['out of the wrong type', (xe) => xe.logSoftmax(z, C, new Int32Array(15) as never), TypeError, /out must be a Float32Array, got Int32Array\(15\)/],
  ['logSumExp out of the wrong length', (xe) => xe.logSumExp(z, C, new Float32Array(15)), RangeError, /out\.length must be 3, got 15/],
  ['out partly overlapping logits', (xe) => {
    const backing = new Float32Array(20);
    return xe.softmax(backing.subarray(0, 15), C, backing.subarray(5, 20));
  }, RangeError, /out overlaps the input/],
  ['logSumExp out inside logits', (xe) => {
    const copy = z.slice();
    return xe.logSumExp(copy, C, copy.subarray(0, 3));
  }, RangeError, /out overlaps the input/],

  // cross-entropy: inputs and targets
  ['input as Float64Array', (xe) => xe.crossEntropy(new Float64Array(15) as never, y, { classes: C }), TypeError, /input must be a Float32Array, got Float64Array\(15\)/],
  ['input detached', (xe) => xe.crossEntropy(detached(), y, { classes: C }), TypeError, /input is a Float32Array whose buffer is detached/],
  ['options missing', (xe) => xe.crossEntropy(z, y, undefined as never), TypeError, /options must be an object .* got undefined/],
  ['options.classes missing', (xe) => xe.crossEntropy(z, y, {} as never), TypeError, /options\.classes must be a number, got undefined/],
  ['options.classes not dividing', (xe) => xe.crossEntropy(z, y, { classes: 4 }), RangeError, /input\.length = 15 is not a multiple of classes = 4/],
  ['target as string', (xe) => xe.crossEntropy(z, 'abc' as never, { classes: C }), TypeError, /target must be class indices .* got "abc"/],
  ['target as Float64Array', (xe) => xe.crossEntropy(z, new Float64Array(3) as never, { classes: C }), TypeError, /target .*got Float64Array\(3\)/],
  ['target as Int8Array', (xe) => xe.crossEntropy(z, new Int8Array(3) as never, { classes: C }), TypeError, /target .*got Int8Array\(3\)/],
  ['target detached', (xe) => xe.crossEntropy(z, detached(), { classes: C }), TypeError, /target is a Float32Array whose buffer is detached/],
  ['indices of the wrong length', (xe) => xe.crossEntropy(z, [1, 2], { classes: C }), RangeError, /target\.length must be the number of rows 3, got 2/],
  ['probabilities of the wrong length', (xe) => xe.crossEntropy(z, new Float32Array(3), { classes: C }), RangeError, /length must be input\.length = 15, got 3/],
  ['label equal to classes', (xe) => xe.crossEntropy(z, [0, 5, 1], { classes: C }), RangeError, /target\[1\] = 5 is not a class index in \[0, 5\)/],
  ['negative label', (xe) => xe.crossEntropy(z, new Int32Array([0, 1, -1]), { classes: C }), RangeError, /target\[2\] = -1 /],
  ['fractional label', (xe) => xe.crossEntropy(z, [0, 1.5, 1], { classes: C }), RangeError, /target\[1\] = 1\.5 /],
  ['NaN label', (xe) => xe.crossEntropy(z, [NaN, 1, 1], { classes: C }), RangeError, /target\[0\] = NaN /],
  ['string label', (xe) => xe.crossEntropy(z, ['1', 1, 1] as never, { classes: C }), TypeError, /target\[0\] must be a number, got "1"/],
  ['uint32 label that wraps to ignoreIndex', (xe) => xe.crossEntropy(z, new Uint32Array([2 ** 32 - 100, 0, 0]), { classes: C }), RangeError, /target\[0\] = 4294967196 /],
  ['label beyond 255 classes in a Uint16Array', (xe) => xe.crossEntropy(z, new Uint16Array([0, 300, 0]), { classes: C }), RangeError, /target\[1\] = 300/],

  // cross-entropy: options
  ['unknown option', (xe) => xe.crossEntropy(z, y, { classes: C, reductions: 'sum' } as never), TypeError, /no option "reductions"/],
  ['gradOut given to crossEntropy', (xe) => xe.crossEntropy(z, y, { classes: C, gradOut: new Float32Array(15) }), TypeError, /crossEntropy options has no option "gradOut"/],
  ['unknown reduction', (xe) => xe.crossEntropy(z, y, { classes: C, reduction: 'avg' as never }), RangeError, /options\.reduction must be one of 'mean', 'sum', 'none', got "avg"/],
  ['reduction of the wrong type', (xe) => xe.crossEntropy(z, y, { classes: C, reduction: 1 as never }), TypeError, /options\.reduction must be a string, got 1/],
  ['weight of the wrong length', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float32Array(4) }), RangeError, /options\.weight\.length must equal classes = 5, got 4/],
  ['weight as Float64Array', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float64Array(5) as never }), TypeError, /options\.weight must be a Float32Array, got Float64Array\(5\)/],
  ['negative weight', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float32Array([1, -1, 1, 1, 1]) }), RangeError, /options\.weight\[1\] = -1 must be finite and non-negative/],
  ['NaN weight', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float32Array([1, 1, 1, NaN, 1]) }), RangeError, /options\.weight\[3\] = NaN/],
  ['infinite weight', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float32Array([Infinity, 1, 1, 1, 1]) }), RangeError, /options\.weight\[0\] = Infinity/],
  ['labelSmoothing above 1', (xe) => xe.crossEntropy(z, y, { classes: C, labelSmoothing: 1.5 }), RangeError, /options\.labelSmoothing must be in \[0, 1\], got 1\.5/],
  ['labelSmoothing negative', (xe) => xe.crossEntropy(z, y, { classes: C, labelSmoothing: -0.1 }), RangeError, /labelSmoothing .*got -0\.1/],
  ['labelSmoothing NaN', (xe) => xe.crossEntropy(z, y, { classes: C, labelSmoothing: NaN }), RangeError, /labelSmoothing .*got NaN/],
  ['labelSmoothing as string', (xe) => xe.crossEntropy(z, y, { classes: C, labelSmoothing: '0.1' as never }), TypeError, /labelSmoothing must be a number, got "0\.1"/],
  ['ignoreIndex fractional', (xe) => xe.crossEntropy(z, y, { classes: C, ignoreIndex: 1.5 }), RangeError, /options\.ignoreIndex must be an integer .*got 1\.5/],
  ['ignoreIndex beyond int32', (xe) => xe.crossEntropy(z, y, { classes: C, ignoreIndex: 2 ** 32 + 1 }), RangeError, /ignoreIndex .*got 4294967297/],
  ['ignoreIndex as string', (xe) => xe.crossEntropy(z, y, { classes: C, ignoreIndex: '-100' as never }), TypeError, /ignoreIndex must be a number, got "-100"/],
  ['gradOut of the wrong length', (xe) => xe.crossEntropyWithGrad(z, y, { classes: C, gradOut: new Float32Array(16) }), RangeError, /options\.gradOut\.length must be 15, got 16/],
  ['gradOut of the wrong type', (xe) => xe.crossEntropyWithGrad(z, y, { classes: C, gradOut: new Float64Array(15) as never }), TypeError, /options\.gradOut must be a Float32Array, got Float64Array\(15\)/],
  ['gradOut partly overlapping input', (xe) => {
    const backing = normal(20, 1, 3);
    return xe.crossEntropyWithGrad(backing.subarray(0, 15), y, { classes: C, gradOut: backing.subarray(5, 20) });
  }, RangeError, /options\.gradOut overlaps the input/],
  ['gradOut overlapping soft targets', (xe) => {
    const t = soft.slice();
    return xe.crossEntropyWithGrad(z, t, { classes: C, gradOut: t });
  }, RangeError, /options\.gradOut overlaps target/],
  ['gradOut overlapping labels', (xe) => {
    const shared = new ArrayBuffer(15 * 4 + 3 * 4);
    const labels = new Int32Array(shared, 15 * 4, 3).fill(1);
    return xe.crossEntropyWithGrad(z, labels, { classes: C, gradOut: new Float32Array(shared, 4, 15) });
  }, RangeError, /options\.gradOut overlaps target/],
];

describe.each(backends)('bad input on %s', (_name, xe) => {
  // What valid calls return before any error; they must return exactly this after each one.
  const baseline = () => ({
    lsm: Array.from(xe.logSoftmax(z, C)),
    ce: xe.crossEntropy(z, y, { classes: C, labelSmoothing: 0.1 }),
    grad: Array.from(xe.crossEntropyWithGrad(z, soft, { classes: C }).grad),
  });
  const before = baseline();

  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));

  it.each(cases)('refuses %s, and the next valid call is exact', (_case, call, error, message) => {
    let thrown: unknown;
    try {
      call(xe);
    } catch (e) {
      thrown = e;
    }
    expect(thrown, 'an error was thrown').toBeInstanceOf(Error);
    expect((thrown as Error).constructor).toBe(error);
    expect((thrown as Error).message).toMatch(message);
    expect(baseline()).toEqual(before);
  });
});
