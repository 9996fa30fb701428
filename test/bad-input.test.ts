// Every refused call: the exact error class, a message naming the argument and showing the value,
// and afterwards a valid call on the same instance that returns exactly what it returned before.

import { describe, expect, it } from 'vitest';
import { backends, normal, wasm, type Backend } from './helpers.js';

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
  ['logits as Uint16Array without dtype', (xe) => xe.logSoftmax(new Uint16Array(10) as never, 5), TypeError, /logits is a Uint16Array: pass options\.dtype 'float16' or 'bfloat16'/],
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
  ['input as Int32Array', (xe) => xe.crossEntropy(new Int32Array(15) as never, y, { classes: C }), TypeError, /input must be a Float32Array, Float64Array, Float16Array, .*got Int32Array\(15\)/],
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
  ['gradOut given to crossEntropy', (xe) => xe.crossEntropy(z, y, { classes: C, gradOut: new Float32Array(15) } as never), TypeError, /crossEntropy options has no option "gradOut"/],
  ['unknown reduction', (xe) => xe.crossEntropy(z, y, { classes: C, reduction: 'avg' as never }), RangeError, /options\.reduction must be one of 'mean', 'sum', 'none', got "avg"/],
  ['reduction of the wrong type', (xe) => xe.crossEntropy(z, y, { classes: C, reduction: 1 as never }), TypeError, /options\.reduction must be a string, got 1/],
  ['weight of the wrong length', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float32Array(4) }), RangeError, /options\.weight\.length must equal classes = 5, got 4/],
  ['weight as Float64Array', (xe) => xe.crossEntropy(z, y, { classes: C, weight: new Float64Array(5) as never }), TypeError, /options\.weight must be a Float32Array \(convert it with Float32Array\.from\(values\)\), got Float64Array\(5\)/],
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
  ['gradOut of the wrong type', (xe) => xe.crossEntropyWithGrad(z, y, { classes: C, gradOut: new Float64Array(15) as never }), TypeError, /options\.gradOut must be a Float32Array \(convert it with Float32Array\.from\(values\)\), got Float64Array\(15\)/],
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

  // entropy, klDivergence, jsDivergence
  ['entropy p as Uint16Array without dtype', (xe) => xe.entropy(new Uint16Array(15) as never, C), TypeError, /p is a Uint16Array: pass options\.dtype 'float16' or 'bfloat16'/],
  ['entropy probability above 1', (xe) => xe.entropy(new Float32Array([0.5, 1.5, 0, 0, 0]), C), RangeError, /p\[1\] = 1\.5 is not a probability in \[0, 1\]/],
  ['entropy NaN probability', (xe) => xe.entropy(new Float32Array([0.5, 0.5, 0, NaN, 0]), C), RangeError, /p\[3\] = NaN is not a probability/],
  ['entropy negative probability', (xe) => xe.entropy(soft.map((v, i) => (i === 7 ? -0.25 : v)), C), RangeError, /p\[7\] = -0\.25 /],
  ['entropy unknown from', (xe) => xe.entropy(z, C, { from: 'logprobs' as never }), RangeError, /options\.from must be one of 'probs', 'logits', got "logprobs"/],
  ['entropy batchmean reduction', (xe) => xe.entropy(soft, C, { reduction: 'batchmean' as never }), RangeError, /options\.reduction must be one of 'none', 'mean', 'sum', got "batchmean"/],
  ['entropy unit bytes', (xe) => xe.entropy(soft, C, { unit: 'bytes' as never }), RangeError, /options\.unit must be one of 'nats', 'bits', got "bytes"/],
  ['entropy options not an object', (xe) => xe.entropy(soft, C, 'bits' as never), TypeError, /entropy options must be an object, got "bits"/],
  ['entropy unknown option', (xe) => xe.entropy(soft, C, { classes: C } as never), TypeError, /entropy options has no option "classes"/],
  ['klDivergence q of the wrong length', (xe) => xe.klDivergence(soft, new Float32Array(10), C), RangeError, /q\.length must equal p\.length = 15, got 10/],
  ['klDivergence q as plain array', (xe) => xe.klDivergence(soft, [0.2] as never, C), TypeError, /q must be a Float32Array, Float64Array, .*got Array\(1\)/],
  ['klDivergence q probability above 1', (xe) => xe.klDivergence(soft, soft.map((v, i) => (i === 4 ? 2 : v)), C), RangeError, /q\[4\] = 2 is not a probability in \[0, 1\]/],
  ['klDivergence positive log target', (xe) => xe.klDivergence(soft, soft, C, { logTarget: true }), RangeError, /p\[0\] = 0\.2\d* is not a log-probability in \[-Infinity, 0\]/],
  ['klDivergence logTarget as string', (xe) => xe.klDivergence(soft, soft, C, { logTarget: 'yes' as never }), TypeError, /options\.logTarget must be a boolean, got "yes"/],
  ['klDivergence epsilon with logits', (xe) => xe.klDivergence(soft, z, C, { from: 'logits', epsilon: 1e-7 }), RangeError, /options\.epsilon applies only to from: 'probs', got from: 'logits'/],
  ['klDivergence epsilon above 1', (xe) => xe.klDivergence(soft, soft, C, { epsilon: 2 }), RangeError, /options\.epsilon must be in \[0, 1\], got 2/],
  ['klDivergence unknown reduction', (xe) => xe.klDivergence(soft, soft, C, { reduction: 'avg' as never }), RangeError, /options\.reduction must be one of 'batchmean', 'sum', 'mean', 'none', got "avg"/],
  ['klDivergence gradOut given without grad', (xe) => xe.klDivergence(soft, soft, C, { gradOut: new Float32Array(15) } as never), TypeError, /klDivergence options has no option "gradOut"/],
  ['klDivergenceWithGrad gradOut overlapping p', (xe) => {
    const p = soft.slice();
    return xe.klDivergenceWithGrad(p, z, C, { from: 'logits', gradOut: p });
  }, RangeError, /options\.gradOut overlaps p/],
  ['klDivergenceWithGrad gradOut of the wrong length', (xe) => xe.klDivergenceWithGrad(soft, z, C, { from: 'logits', gradOut: new Float32Array(14) }), RangeError, /options\.gradOut\.length must be 15, got 14/],
  ['jsDivergence q probability NaN', (xe) => xe.jsDivergence(soft, soft.map((v, i) => (i === 9 ? NaN : v)), C), RangeError, /q\[9\] = NaN is not a probability/],
  ['jsDivergence from logProbs', (xe) => xe.jsDivergence(soft, soft, C, { from: 'logProbs' as never }), RangeError, /options\.from must be one of 'probs', 'logits', got "logProbs"/],
  // cross-entropy: inputs other than logits, units, layout and weighting options
  ['probability above 1', (xe) => xe.crossEntropy(new Float32Array([0.5, 1.5, 0, 1]), [0, 1], { classes: 2, from: 'probs' }), RangeError, /input\[1\] = 1\.5 is not a probability in \[0, 1\]/],
  ['NaN probability', (xe) => xe.crossEntropy(new Float32Array([NaN, 1]), [0], { classes: 2, from: 'probs' }), RangeError, /input\[0\] = NaN is not a probability/],
  ['positive log-probability', (xe) => xe.crossEntropy(new Float32Array([-1, 0.5]), [0], { classes: 2, from: 'logProbs' }), RangeError, /input\[1\] = 0\.5 is not a log-probability/],
  ['unknown from', (xe) => xe.crossEntropy(z, y, { classes: C, from: 'softmax' as never }), RangeError, /options\.from must be one of 'logits', 'probs', 'logProbs', got "softmax"/],
  ['epsilon of 0.5', (xe) => xe.crossEntropy(soft, [0, 1, 2], { classes: C, from: 'probs', epsilon: 0.5 }), RangeError, /options\.epsilon must be in \(0, 0\.5\), got 0\.5/],
  ['epsilon with logits', (xe) => xe.crossEntropy(z, y, { classes: C, epsilon: 1e-3 }), RangeError, /options\.epsilon applies only to from: 'probs', got from: 'logits'/],
  ['unknown unit', (xe) => xe.crossEntropy(z, y, { classes: C, unit: 'bytes' as never }), RangeError, /options\.unit must be one of 'nats', 'bits', got "bytes"/],
  ['unknown onAllIgnored', (xe) => xe.crossEntropy(z, y, { classes: C, onAllIgnored: 'skip' as never }), RangeError, /options\.onAllIgnored must be one of 'nan', 'zero', got "skip"/],
  ['spatial not dividing the input', (xe) => xe.crossEntropy(z, y, { classes: C, spatial: 2 }), RangeError, /input\.length = 15 is not a multiple of classes \* spatial = 10/],
  ['spatial of 0', (xe) => xe.crossEntropy(z, y, { classes: C, spatial: 0 }), RangeError, /options\.spatial must be a positive integer, got 0/],
  ['sampleWeight of the wrong length', (xe) => xe.crossEntropy(z, y, { classes: C, sampleWeight: new Float32Array(5) }), RangeError, /options\.sampleWeight\.length must equal the number of rows = 3, got 5/],
  ['negative sampleWeight', (xe) => xe.crossEntropy(z, y, { classes: C, sampleWeight: new Float32Array([1, -2, 1]) }), RangeError, /options\.sampleWeight\[1\] = -2 must be finite and non-negative/],
  ['negative zLoss', (xe) => xe.crossEntropy(z, y, { classes: C, zLoss: -1e-4 }), RangeError, /options\.zLoss must be in \[0, .*\], got -0\.0001/],
  ['zLoss with probabilities', (xe) => xe.crossEntropy(soft, y, { classes: C, from: 'probs', zLoss: 1e-4 }), RangeError, /options\.zLoss needs logits .*got from: 'probs'/],
  ['softcap of 0', (xe) => xe.crossEntropy(z, y, { classes: C, softcap: 0 }), RangeError, /options\.softcap must be in \[1\.17\d*e-38, 3\.40\d*e\+38\], got 0/],
  // float32 kernels divide by the cap: below float32's normal range 1 / cap is infinite (NaN losses).
  ['subnormal softcap', (xe) => xe.crossEntropy(z, y, { classes: C, softcap: 1e-39 }), RangeError, /options\.softcap must be in .*got 1e-39/],
  ['softcap past float32', (xe) => xe.crossEntropy(z, y, { classes: C, softcap: 1e39 }), RangeError, /options\.softcap must be in .*got 1e\+39/],
  ['focal as a number', (xe) => xe.crossEntropy(z, y, { classes: C, focal: 2 as never }), TypeError, /options\.focal must be an object \{ gamma\?, alpha\? \}, got 2/],
  ['focal with a negative gamma', (xe) => xe.crossEntropy(z, y, { classes: C, focal: { gamma: -1 } }), RangeError, /options\.focal\.gamma must be in \[0, 1000000\], got -1/],
  ['focal with an unknown key', (xe) => xe.crossEntropy(z, y, { classes: C, focal: { beta: 1 } as never }), TypeError, /options\.focal has no option "beta"/],
  ['focal with zLoss', (xe) => xe.crossEntropy(z, y, { classes: C, focal: {}, zLoss: 1e-4 }), RangeError, /options\.focal and options\.zLoss = 0\.0001 cannot be combined/],
  // binary cross-entropy
  ['binary input with a dtype it does not take', (xe) => xe.binaryCrossEntropy(z, soft, { dtype: 'float16' }), TypeError, /options\.dtype = 'float16' applies to a Uint16Array of half bits, but input is a Float32Array/],
  ['binary target as Float64Array', (xe) => xe.binaryCrossEntropy(z, new Float64Array(15) as never), TypeError, /target must be a Float32Array of probabilities in \[0, 1\], a Uint8Array or other integer array of 0\/1, a tensor of them \(a bool tensor too\) or a resident buffer, got Float64Array\(15\)/],
  ['binary target as Int32Array of a 2', (xe) => xe.binaryCrossEntropy(z, Int32Array.from({ length: 15 }, (_, i) => (i === 4 ? 2 : 0))), RangeError, /^target\[4\] = 2 is not 0 or 1 \(integer targets are labels\)$/],
  ['binary target of the wrong length', (xe) => xe.binaryCrossEntropy(z, new Float32Array(14)), RangeError, /target\.length must equal input\.length = 15, got 14/],
  ['binary target above 1', (xe) => xe.binaryCrossEntropy(z, soft.map((v, i) => (i === 7 ? 1.5 : v))), RangeError, /target\[7\] = 1\.5 is not in \[0, 1\]/],
  ['binary target NaN', (xe) => xe.binaryCrossEntropy(z, soft.map((v, i) => (i === 2 ? NaN : v))), RangeError, /target\[2\] = NaN is not in \[0, 1\]/],
  ['binary Uint8Array target of 2', (xe) => xe.binaryCrossEntropy(z, new Uint8Array(15).fill(2, 4)), RangeError, /target\[4\] = 2 is not in \[0, 1\]/],
  ['binary probabilities out of range', (xe) => xe.binaryCrossEntropy(z, soft, { from: 'probs' }), RangeError, /input\[\d+\] = -?[\d.e-]+ is not a probability in \[0, 1\] \(options\.from is 'probs'\)/],
  ['binary probability NaN', (xe) => xe.binaryCrossEntropy(new Float32Array(15).fill(0.5).fill(NaN, 9, 10), soft, { from: 'probs' }), RangeError, /input\[9\] = NaN is not a probability/],
  ['binary epsilon 0', (xe) => xe.binaryCrossEntropy(soft, soft, { from: 'probs', epsilon: 0 }), RangeError, /options\.epsilon must be in \(0, 0\.5\), got 0/],
  ['binary epsilon 0.5', (xe) => xe.binaryCrossEntropy(soft, soft, { from: 'probs', epsilon: 0.5 }), RangeError, /options\.epsilon must be in \(0, 0\.5\), got 0\.5/],
  ['binary epsilon with logits', (xe) => xe.binaryCrossEntropy(z, soft, { epsilon: 1e-3 }), TypeError, /options\.epsilon applies only to from 'probs'/],
  ['binary posWeight with probs', (xe) => xe.binaryCrossEntropy(soft, soft, { classes: C, from: 'probs', posWeight: new Float32Array(C).fill(1) }), TypeError, /options\.posWeight applies only to from 'logits'.*got from 'probs'/],
  ['binary unknown option', (xe) => xe.binaryCrossEntropy(z, soft, { pos_weight: new Float32Array(1) } as never), TypeError, /binaryCrossEntropy options has no option "pos_weight"/],
  ['binary gradOut given without grad', (xe) => xe.binaryCrossEntropy(z, soft, { gradOut: new Float32Array(15) } as never), TypeError, /binaryCrossEntropy options has no option "gradOut"/],
  ['binary unknown from', (xe) => xe.binaryCrossEntropy(z, soft, { from: 'logprobs' as never }), RangeError, /options\.from must be one of 'logits', 'probs', got "logprobs"/],
  ['binary negative weight', (xe) => xe.binaryCrossEntropy(z, soft, { classes: C, weight: new Float32Array([1, 1, -2, 1, 1]) }), RangeError, /options\.weight\[2\] = -2 must be finite and non-negative/],
  ['binary infinite posWeight', (xe) => xe.binaryCrossEntropy(z, soft, { classes: C, posWeight: new Float32Array([1, Infinity, 1, 1, 1]) }), RangeError, /options\.posWeight\[1\] = Infinity must be finite and non-negative/],
  ['binary weight of the wrong length', (xe) => xe.binaryCrossEntropy(z, soft, { weight: new Float32Array(5) }), RangeError, /options\.weight\.length must equal classes = 1, got 5/],
  ['binary classes not dividing', (xe) => xe.binaryCrossEntropy(z, soft, { classes: 4 }), RangeError, /input\.length = 15 is not a multiple of classes = 4/],
  ['binary unknown unit', (xe) => xe.binaryCrossEntropy(z, soft, { unit: 'bans' as never }), RangeError, /options\.unit must be one of 'nats', 'bits', got "bans"/],
  ['binary gradOut overlapping target', (xe) => {
    const t = soft.slice();
    return xe.binaryCrossEntropyWithGrad(z, t, { gradOut: t });
  }, RangeError, /options\.gradOut overlaps target/],
  ['binary focal as a number', (xe) => xe.binaryCrossEntropy(z, soft, { focal: 2 as never }), TypeError, /options\.focal must be an object \{ gamma\?, alpha\? \}, got 2/],
  ['binary focal with a negative gamma', (xe) => xe.binaryCrossEntropy(z, soft, { focal: { gamma: -0.5 } }), RangeError, /options\.focal\.gamma must be in \[0, 1000000\], got -0\.5/],
  ['binary focal with an unknown key', (xe) => xe.binaryCrossEntropyWithGrad(z, soft, { focal: { gama: 2 } as never }), TypeError, /options\.focal has no option "gama"/],
  ['binary focal with alpha above 1', (xe) => xe.binaryCrossEntropy(z, soft, { focal: { alpha: 1.5 } }), RangeError, /options\.focal\.alpha must be in \[0, 1\] for binary cross-entropy, got 1\.5/],
  ['binary focal with posWeight', (xe) => xe.binaryCrossEntropy(z, soft, { classes: C, posWeight: new Float32Array(C).fill(2), focal: {} }), RangeError, /options\.focal and options\.posWeight cannot be combined/],
  // resident buffers
  ['resident input used after free', (xe) => {
    const r = wasm.tensor(z);
    r.free();
    return xe.crossEntropy(r as never, y, { classes: C });
  }, TypeError, /input is a resident buffer that was freed/],
  ['resident out used after free', (xe) => {
    const r = wasm.alloc(15);
    r.free();
    return xe.softmax(z, C, r as never);
  }, TypeError, /out is a resident buffer that was freed/],
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
