// What the suites of test/components share: seeded data, the widening of half-precision bits, the
// bit-for-bit comparison, the "float32 path" each tensor call is compared with, and the case harness.
//
// A suite prints a SUITE line (announce) and then one line per case on stdout, which run.mjs reads:
//   CASE <ok|fail> <suite> <case> <needs> <detail>      (tab-separated; needs is '-' or e.g. HALF)
// `needs` names the work a case depends on beyond the float32 tensor inputs of today's API: HALF
// (float16, bfloat16 and float64 inputs) and SCORER (tensor inputs to the scorer). Such a case is run
// and reported like any other; run.mjs says which failures carry which label.

import { init } from 'xentropy';

export const xe = await init();

// ---------------------------------------------------------------------------------------------------
// Data

/** mulberry32: a seeded stream of uniform floats in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** n float32 values, roughly normal with the given scale (Box-Muller). */
export function normals(random, n, scale = 1) {
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/** n class indices in [0, classes), with every `ignoreEvery`-th one -100 (when given). */
export function labels(random, n, classes, ignoreEvery = 0) {
  return Int32Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === ignoreEvery - 1 ? -100 : Math.floor(random() * classes)));
}

/**
 * A ragged attention mask [B, T]: sequence b keeps its first lengths[b] positions. The lengths run
 * from T down, and with `allMaskedLast` the last sequence is all padding (its perplexity is NaN).
 */
export function raggedMask(B, T, allMaskedLast) {
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const length = allMaskedLast && b === B - 1 ? 0 : Math.max(1, T - Math.floor((b * T) / B));
    mask.fill(1, b * T, b * T + length);
  }
  return mask;
}

// ---------------------------------------------------------------------------------------------------
// Half precision, widened exactly (the "float32 path" of float16 and bfloat16 data)

/**
 * The bits of float16 data as a Uint16Array: a Uint16Array itself, or a Float16Array's memory (what
 * onnxruntime and transformers.js hand over where the runtime has Float16Array, as Node 24 does).
 */
export function halfBits(data) {
  if (data instanceof Uint16Array) return data;
  if (typeof Float16Array !== 'undefined' && data instanceof Float16Array) return new Uint16Array(data.buffer, data.byteOffset, data.length);
  throw new TypeError(`float16 data must be a Uint16Array or a Float16Array, got a ${data?.constructor?.name}`);
}

/** The typed array a library holds float16 data in here: Float16Array where the runtime has it. */
export const Float16View = typeof Float16Array === 'undefined' ? Uint16Array : Float16Array;

/** The float32 values of float16 bit patterns (every float16 is exact in float32). */
export function widenFloat16(bits) {
  return Float32Array.from(bits, (h) => {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) return sign * mantissa * 2 ** -24;
    if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  });
}

/** float32 values cut to float16 bit patterns, rounding to nearest even (as a Cast to float16 does). */
export function toFloat16(values) {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  return Uint16Array.from(values, (x) => {
    f[0] = x;
    const bits = u[0];
    const sign = (bits >>> 16) & 0x8000;
    const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    const mantissa = bits & 0x7fffff;
    if (((bits >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
    if (exponent >= 31) return sign | 0x7c00;
    // Below float16's normal range: the value in units of 2^-24, rounded (a carry makes it normal).
    const shift = exponent > 0 ? 13 : 14 - exponent;
    if (shift > 24) return sign;
    const significand = exponent > 0 ? mantissa : mantissa | 0x800000;
    let half = (exponent > 0 ? exponent << 10 : 0) | (significand >>> shift);
    const rest = significand & ((1 << shift) - 1), tie = 1 << (shift - 1);
    // A carry out of the mantissa moves into the exponent, up to infinity: still the right bits.
    if (rest > tie || (rest === tie && half & 1)) half++;
    return sign | half;
  });
}

/** The float32 values of bfloat16 bit patterns (the top half of a float32). */
export function widenBfloat16(bits) {
  return new Float32Array(Uint32Array.from(bits, (h) => h << 16).buffer);
}

/** float32 values cut to bfloat16 bit patterns, rounding to nearest even (finite inputs). */
export function toBfloat16(values) {
  const u = new Uint32Array(Float32Array.from(values).buffer);
  return Uint16Array.from(u, (x) => (x + 0x7fff + ((x >> 16) & 1)) >>> 16);
}

// ---------------------------------------------------------------------------------------------------
// Comparison

function typedBytes(v) {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Throws unless `actual` and `expected` are the same bit for bit: numbers by Object.is (NaN equals
 * NaN, -0 differs from +0), typed arrays of the same kind byte for byte, arrays and plain objects
 * key by key. `path` names the place in the message.
 */
export function expectSame(actual, expected, path = 'result') {
  if (typeof expected === 'number' || typeof expected === 'bigint' || typeof expected === 'string' || typeof expected === 'boolean'
    || expected === null || expected === undefined) {
    if (!Object.is(actual, expected)) throw new Error(`${path}: ${show(actual)}, expected ${show(expected)}`);
    return;
  }
  if (ArrayBuffer.isView(expected)) {
    if (!ArrayBuffer.isView(actual) || actual.constructor !== expected.constructor) {
      throw new Error(`${path}: a ${actual?.constructor?.name ?? typeof actual}, expected a ${expected.constructor.name}`);
    }
    if (actual.length !== expected.length) throw new Error(`${path}: length ${actual.length}, expected ${expected.length}`);
    const a = typedBytes(actual), e = typedBytes(expected);
    for (let i = 0; i < e.length; i++) {
      if (a[i] !== e[i]) {
        const k = Math.floor(i / expected.BYTES_PER_ELEMENT);
        throw new Error(`${path}[${k}]: ${show(actual[k])}, expected ${show(expected[k])} (bits differ)`);
      }
    }
    return;
  }
  if (typeof actual !== 'object' || actual === null) throw new Error(`${path}: ${show(actual)}, expected an object`);
  const keys = Object.keys(expected).sort();
  const actualKeys = Object.keys(actual).sort();
  if (keys.join() !== actualKeys.join()) throw new Error(`${path}: keys [${actualKeys}], expected [${keys}]`);
  for (const k of keys) expectSame(actual[k], expected[k], `${path}.${k}`);
}

function show(v) {
  return typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : String(v);
}

/** Throws unless `value` is a finite number (a guard that a compared result is a real loss, not NaN from nothing). */
export function expectFinite(value, what) {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${what} is ${show(value)}, expected a finite number`);
}

/** Throws unless `fn` throws an instance of `ErrorClass` whose message matches `pattern`. */
export function expectThrows(fn, ErrorClass, pattern) {
  try {
    fn();
  } catch (error) {
    if (error instanceof ErrorClass && pattern.test(error.message)) return;
    throw new Error(`expected a ${ErrorClass.name} matching ${pattern}, got ${error?.name}: ${error?.message}`);
  }
  throw new Error(`expected a ${ErrorClass.name} matching ${pattern}, got no error`);
}

/** Throws unless `condition`; `message` says what was expected. */
export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------------
// The checks every suite makes, each against the same call on plain arrays with classes given

/**
 * The classifier checks for one set of tensors, against plain `values` (Float32Array [N, C]) and
 * `target` (Int32Array [N]): crossEntropy in each reduction, crossEntropyWithGrad, and the scorer.
 * @param tensor the logits as the library hands them over
 * @param labelTensor the labels as the library hands them over
 * @param needs what the input's element type needs (see the header), or '' for float32
 * @param given options the tensor call needs besides the compared ones ({ classes, dtype } for a
 *   Uint16Array of half bits; none for a tensor, whose last dimension gives classes)
 */
export async function classifierCases(suite, what, tensor, labelTensor, values, target, classes, needs, given = {}) {
  const plainOptions = { classes };
  for (const reduction of ['mean', 'sum', 'none']) {
    await check(suite, `${what}: crossEntropy, reduction ${reduction}`, needs, () => {
      const expected = xe.crossEntropy(values, target, { ...plainOptions, reduction });
      expectFinite(reduction === 'none' ? expected[0] : expected, 'the float32 path');
      expectSame(xe.crossEntropy(tensor, labelTensor, { ...given, reduction }), expected);
    });
  }
  await check(suite, `${what}: crossEntropyWithGrad`, needs, () => {
    const expected = xe.crossEntropyWithGrad(values, target, plainOptions);
    expectFinite(expected.loss, 'the float32 path');
    expectSame(xe.crossEntropyWithGrad(tensor, labelTensor, given), expected);
  });
  await check(suite, `${what}: crossEntropy, label smoothing and class weights`, needs, () => {
    const weight = Float32Array.from({ length: classes }, (_, c) => 0.5 + (c % 3) / 2);
    const options = { labelSmoothing: 0.1, weight };
    const expected = xe.crossEntropy(values, target, { ...plainOptions, ...options });
    expectFinite(expected, 'the float32 path');
    expectSame(xe.crossEntropy(tensor, labelTensor, { ...given, ...options }), expected);
  });
  if (given.classes === undefined) {
    await check(suite, `${what}: a classes that disagrees with the dims is a RangeError`, needs, () => {
      expectThrows(() => xe.crossEntropy(tensor, labelTensor, { classes: classes + 1 }), RangeError, /disagrees with the input's last dimension/);
    });
    // (A Uint16Array of half bits says its dtype in each function's options; the scorer is fed tensors only.)
    await check(suite, `${what}: scorer.update`, joinNeeds(needs, 'SCORER'), () => {
      const options = { classes, topK: [1, 3], bins: 10 };
      const expected = xe.scorer(options).update(values, target).result();
      expectFinite(expected.lossNats, 'the float32 path');
      expectSame(xe.scorer(options).update(tensor, labelTensor).result(), expected);
    });
  }
}

/**
 * The language-model checks: `lm` [B, T, V] logits and `ids` [B, T] as the library hands them over,
 * `mask` the attention mask tensor; against flat arrays with sequenceLength and classes given.
 * `given`: as for classifierCases ({ classes, sequenceLength, dtype } for flat half bits).
 */
export async function languageModelCases(suite, what, lm, ids, mask, values, idValues, maskValues, B, T, V, needs, given = {}) {
  const flat = { classes: V, sequenceLength: T, shift: true, attentionMask: maskValues };
  await check(suite, `${what}: perplexity, shift and attentionMask`, needs, () => {
    const expected = xe.perplexity(values, idValues, flat);
    expectFinite(expected.lossNats, 'the float32 path');
    expect(expected.tokens > 0, 'the float32 path counted no token');
    expectSame(xe.perplexity(lm, ids, { ...given, shift: true, attentionMask: mask }), expected);
  });
  await check(suite, `${what}: perplexity without shift`, needs, () => {
    const expected = xe.perplexity(values, idValues, { classes: V, sequenceLength: T });
    expectFinite(expected.lossNats, 'the float32 path');
    expectSame(xe.perplexity(lm, ids, given), expected);
  });
  await check(suite, `${what}: crossEntropy, shift and attentionMask`, needs, () => {
    const expected = xe.crossEntropy(values, idValues, flat);
    expectFinite(expected, 'the float32 path');
    expectSame(xe.crossEntropy(lm, ids, { ...given, shift: true, attentionMask: mask }), expected);
  });
  await check(suite, `${what}: crossEntropyWithGrad, shift and attentionMask`, needs, () => {
    const expected = xe.crossEntropyWithGrad(values, idValues, flat);
    expectFinite(expected.loss, 'the float32 path');
    const actual = xe.crossEntropyWithGrad(lm, ids, { ...given, shift: true, attentionMask: mask });
    expectSame(actual, expected);
    // Each sequence's last position predicts nothing: its gradient row is zeros.
    for (let b = 0; b < B; b++) {
      const row = actual.grad.subarray(((b + 1) * T - 1) * V, (b + 1) * T * V);
      expect(row.every((g) => g === 0), `the gradient of sequence ${b}'s last position is not zero`);
    }
  });
  if (given.classes !== undefined) return;
  await check(suite, `${what}: scorer with shift and perSequence`, joinNeeds(needs, 'SCORER'), () => {
    const options = { classes: V, shift: true, perSequence: true, topK: [1, 5] };
    const expected = xe.scorer({ ...options, sequenceLength: T }).update(values, idValues, { attentionMask: maskValues }).result();
    expectFinite(expected.lossNats, 'the float32 path');
    expectSame(xe.scorer(options).update(lm, ids, { attentionMask: mask }).result(), expected);
  });
}

function joinNeeds(a, b) {
  return a ? `${a}+${b}` : b;
}

// ---------------------------------------------------------------------------------------------------
// The harness

/** Prints the suite's SUITE line: its name, the library's version, and the build init() picked here. */
export function announce(suite, version) {
  console.log(['SUITE', suite, version, `node ${process.versions.node}`, xe.features.build].join('\t'));
}

/** Runs one case and prints its CASE line; a thrown error is the case's failure. */
export async function check(suite, name, needs, fn) {
  let status = 'ok', detail = '';
  try {
    await fn();
  } catch (error) {
    status = 'fail';
    detail = `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
  }
  const clean = (s) => String(s).replace(/[\t\n]+/g, ' ');
  console.log(['CASE', status, suite, clean(name), needs || '-', clean(detail)].join('\t'));
}
