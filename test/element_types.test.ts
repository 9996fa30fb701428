// Element types other than float32 (issue 25): float64, float16 and bfloat16 inputs (a Uint16Array with
// options.dtype, a tensor of type 'float16', a resident half buffer) give, on every build and the
// reference, the bits of the same call on the float32 values widened in JavaScript by the decoder
// below (written here, apart from the library's). The widen kernel is checked on all 65536 float16
// and bfloat16 patterns; float64 rounds as Math.fround. Copy windows are crossed, the pool matches
// one thread bit for bit, labels of int64 type are read by every op that takes class indices, and the
// refusals name what they refuse.

import { beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { windowRows } from '../src/engine/staging.js';
import type { Xentropy } from '../src/api.js';
import { backends, expectSameBits, labels, normal, probabilities, rng, wasm, wasmBackends, type Backend } from './helpers.js';

/** IEEE 754 binary16 bits as a number (NaN for NaN patterns; their float32 bits are checked apart). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (e === 0 ? m / 1024 * 2 ** -14 : (1 + m / 1024) * 2 ** (e - 15));
}

/** The float32 bits a float16 pattern widens to: its value's, or for NaN the payload moved up by 13. */
function halfBitsAsFloat32(h: number): number {
  if (((h >> 10) & 31) === 31 && (h & 1023) !== 0) return ((h & 0x8000) << 16 | 0x7f800000 | (h & 1023) << 13) >>> 0;
  return new Uint32Array(Float32Array.of(halfValue(h)).buffer)[0];
}

/** Widens half bits in JavaScript, as the kernels must. */
function decode(bits: Uint16Array, dtype: 'float16' | 'bfloat16'): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = dtype === 'bfloat16' ? bits[i] << 16 >>> 0 : halfBitsAsFloat32(bits[i]);
  return new Float32Array(out.buffer);
}

/** float32 values truncated to float16 bits (flushing below 2^-14): any half values serve as data. */
function toHalf(values: Float32Array): Uint16Array {
  const u = new Uint32Array(Float32Array.from(values).buffer), out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const sign = (u[i] >>> 16) & 0x8000, e = ((u[i] >>> 23) & 255) - 112;
    out[i] = e <= 0 ? sign : e >= 31 ? sign | 0x7bff : sign | (e << 10) | ((u[i] >>> 13) & 1023);
  }
  return out;
}

/** float32 values truncated to bfloat16 bits. */
function toBfloat16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(Float32Array.from(values).buffer);
  return Uint16Array.from(u, (x) => x >>> 16);
}

/** float64 values that are not float32 values: each value plus a fraction of its float32 ulp. */
function toFloat64(values: Float32Array, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from(values, (v) => v + v * (r() - 0.5) * 2 ** -23);
}

type Dtype = 'float16' | 'bfloat16';
/** One element type's form of some float32 data: what the call passes, its options, and the values it widens to. */
interface Form { name: string; make(values: Float32Array, dims: number[]): { arg: unknown; options: { dtype?: Dtype }; widened: Float32Array } }

const FORMS: Form[] = [
  { name: 'float64', make: (v) => { const d = toFloat64(v, 7); return { arg: d, options: {}, widened: Float32Array.from(d) }; } },
  { name: 'float16 bits', make: (v) => { const h = toHalf(v); return { arg: h, options: { dtype: 'float16' }, widened: decode(h, 'float16') }; } },
  { name: 'bfloat16 bits', make: (v) => { const h = toBfloat16(v); return { arg: h, options: { dtype: 'bfloat16' }, widened: decode(h, 'bfloat16') }; } },
  {
    name: 'float16 tensor',
    make: (v, dims) => { const h = toHalf(v); return { arg: { type: 'float16', data: h, dims }, options: {}, widened: decode(h, 'float16') }; },
  },
  {
    name: 'bfloat16 tensor',
    make: (v, dims) => { const h = toBfloat16(v); return { arg: { type: 'bfloat16', data: h, dims }, options: {}, widened: decode(h, 'bfloat16') }; },
  },
  ...(typeof (globalThis as { Float16Array?: unknown }).Float16Array === 'function' ? [{
    name: 'Float16Array',
    make: (v: Float32Array) => {
      const F16 = (globalThis as unknown as { Float16Array: new (n: number) => Float32Array }).Float16Array;
      const h = toHalf(v), a = new F16(h.length);
      new Uint16Array(a.buffer).set(h);
      return { arg: a, options: {}, widened: decode(h, 'float16') };
    },
  } as Form] : []),
];

/** Compares two results of any shape bit for bit. */
function same(actual: unknown, expected: unknown, what: string): void {
  if (typeof expected === 'number' || ArrayBuffer.isView(expected)) {
    expectSameBits(actual, expected, what);
    return;
  }
  const a = actual as Record<string, unknown>, e = expected as Record<string, unknown>;
  for (const key of Object.keys(e)) same(a[key], e[key], `${what}.${key}`);
}

const N = 7, C = 37;
const logits = normal(N * C, 3, 1);
const probs = probabilities(N, C, 2);
const q = probabilities(N, C, 3);
const y = labels(N, C, 4);
const binaryT = probabilities(N, C, 5);

/** Every op that takes a float input, as (backend, input, options) => result; `from` says what values it wants. */
const OPS: [string, 'logits' | 'probs', (b: Backend, x: unknown, o: { dtype?: Dtype }) => unknown][] = [
  ['softmax', 'logits', (b, x, o) => b.softmax(x as Float32Array, C, undefined, o)],
  ['logSoftmax', 'logits', (b, x, o) => b.logSoftmax(x as Float32Array, C, undefined, o)],
  ['logSumExp', 'logits', (b, x, o) => b.logSumExp(x as Float32Array, C, undefined, o)],
  ['crossEntropy (indices)', 'logits', (b, x, o) => b.crossEntropy(x as Float32Array, y, { classes: C, ...o })],
  ['crossEntropy (soft, none)', 'logits', (b, x, o) => b.crossEntropy(x as Float32Array, q, { classes: C, reduction: 'none', ...o })],
  ['crossEntropy (focal, smoothing)', 'logits', (b, x, o) => b.crossEntropy(x as Float32Array, y, { classes: C, focal: {}, labelSmoothing: 0.1, ...o })],
  ['crossEntropy (softcap)', 'logits', (b, x, o) => b.crossEntropy(x as Float32Array, y, { classes: C, softcap: 2, ...o })],
  ['crossEntropy (from probs)', 'probs', (b, x, o) => b.crossEntropy(x as Float32Array, y, { classes: C, from: 'probs', ...o })],
  ['crossEntropy (spatial)', 'logits', (b, x, o) => b.crossEntropy(x as Float32Array, labels(7, C, 6), { classes: C, spatial: 7, ...o })],
  ['crossEntropyWithGrad', 'logits', (b, x, o) => b.crossEntropyWithGrad(x as Float32Array, y, { classes: C, ...o })],
  ['crossEntropyWithGrad (spatial)', 'logits', (b, x, o) => b.crossEntropyWithGrad(x as Float32Array, labels(7, C, 6), { classes: C, spatial: 7, ...o })],
  ['binaryCrossEntropy (logits)', 'logits', (b, x, o) => b.binaryCrossEntropy(x as Float32Array, binaryT, { classes: C, ...o })],
  ['binaryCrossEntropy (probs, none)', 'probs', (b, x, o) => b.binaryCrossEntropy(x as Float32Array, binaryT, { from: 'probs', reduction: 'none', ...o })],
  ['binaryCrossEntropy (focal)', 'logits', (b, x, o) => b.binaryCrossEntropy(x as Float32Array, binaryT, { focal: {}, ...o })],
  ['binaryCrossEntropyWithGrad', 'logits', (b, x, o) => b.binaryCrossEntropyWithGrad(x as Float32Array, binaryT, { classes: C, ...o })],
  ['entropy (probs)', 'probs', (b, x, o) => b.entropy(x as Float32Array, C, o)],
  ['entropy (logits, mean)', 'logits', (b, x, o) => b.entropy(x as Float32Array, C, { from: 'logits', reduction: 'mean', ...o })],
  ['klDivergence (p)', 'probs', (b, x, o) => b.klDivergence(x as Float32Array, q, C, o)],
  ['klDivergence (q logits)', 'logits', (b, x, o) => b.klDivergence(q, x as Float32Array, C, { from: 'logits', ...o })],
  ['klDivergenceWithGrad (q probs)', 'probs', (b, x, o) => b.klDivergenceWithGrad(q, x as Float32Array, C, o)],
  ['jsDivergence (p, q)', 'probs', (b, x, o) => b.jsDivergence(x as Float32Array, x as Float32Array, C, o)],
  ['jsDivergence (logits)', 'logits', (b, x, o) => b.jsDivergence(q, x as Float32Array, C, { from: 'logits', ...o })],
];

describe.each(backends)('element types on %s', (name, b) => {
  for (const form of FORMS) {
    it(`${form.name}: every op gives the bits of its float32 call on the widened values`, () => {
      for (const [op, wants, call] of OPS) {
        const values = wants === 'logits' ? logits : probs;
        const { arg, options, widened } = form.make(values, [N, C]);
        // A tensor's dims give classes; its data go where a flat array would.
        same(call(b, arg, options), call(b, widened, {}), `${name} ${form.name} ${op}`);
      }
    });
  }
});

describe.each(wasmBackends)('element types on %s, beyond the common API', (name, xe) => {
  it('perplexity and crossEntropyOver read every element type', () => {
    for (const form of FORMS) {
      const { arg, options, widened } = form.make(logits, [1, N, C]);
      same(xe.perplexity(arg as Float32Array, y, { classes: C, ...options }), xe.perplexity(widened, y, { classes: C }), `${name} ${form.name} perplexity`);
      const over = (x: unknown, o: object) => xe.crossEntropyOver([{ input: x as Float32Array, target: y }, { input: x as Float32Array, target: y }], { classes: C, ...o });
      same(over(arg, options), over(widened, {}), `${name} ${form.name} crossEntropyOver`);
    }
  });

  it('widens all 65536 float16 and bfloat16 patterns exactly, NaN payloads kept', () => {
    const d = xe.driver;
    const [src, dst] = d.reserve(65536 * 2, 65536 * 4);
    d.u16(src, 65536).set(Uint16Array.from({ length: 65536 }, (_, i) => i));
    for (const [code, dtype] of [[1, 'float16'], [2, 'bfloat16']] as const) {
      d.kernels.widen(src, dst, 65536, code);
      const got = new Uint32Array(d.f32(dst, 65536).slice().buffer);
      const want = new Uint32Array(decode(d.u16(src, 65536).slice(), dtype).buffer);
      for (let h = 0; h < 65536; h++) if (got[h] !== want[h]) expect.fail(`${dtype} 0x${h.toString(16)}: 0x${got[h].toString(16)}, want 0x${want[h].toString(16)}`);
    }
    // The same through an op: softmax of one-element rows is 1, or NaN for an infinite or NaN element.
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const s = xe.softmax(all, 1, undefined, { dtype: 'float16' });
    for (let h = 0; h < 65536; h++) if (Number.isFinite(halfValue(h))) expect(s[h], `0x${h.toString(16)}`).toBe(1);
    same(s, xe.softmax(decode(all, 'float16'), 1), 'softmax of every half');
    same(xe.logSoftmax(all, 1, undefined, { dtype: 'float16' }), xe.logSoftmax(decode(all, 'float16'), 1), 'logSoftmax of every half');
  });

  it('narrows float64 as Math.fround: ties to even, overflow to infinity, subnormals', () => {
    const d = xe.driver;
    const values = Float64Array.of(
      1 + 2 ** -24, 1 + 3 * 2 ** -24, -(1 + 2 ** -24), 3.5e38, -1e39, 1e300, 2 ** -150, 3 * 2 ** -150, 2 ** -149 * 1.5,
      -0, NaN, Infinity, -Infinity, 0.1, ...toFloat64(normal(1003, 1e3, 9), 10),
    );
    const [src, dst] = d.reserve(values.length * 8, values.length * 4);
    d.f64(src, values.length).set(values);
    d.kernels.widen(src, dst, values.length, 3);
    expectSameBits(d.f32(dst, values.length).slice(), Float32Array.from(values, Math.fround), 'widen f64');
    // An overflowing float64 logit is an infinite float32 one, as Math.fround makes it.
    const z = Float64Array.of(1e39, 0, 0, -1e39, 1, 2, 3.5e38, 0, 0);
    same(xe.logSumExp(z, 3), xe.logSumExp(Float32Array.from(z), 3), 'logSumExp of overflowing float64');
    const lse = xe.logSumExp(z, 3);
    expect([lse[0], lse[2]]).toEqual([Infinity, Infinity]);
  });

  it('resident half buffers are read where they lie, and equal the copying path', () => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const bits = dtype === 'float16' ? toHalf(logits) : toBfloat16(logits);
      const widened = decode(bits, dtype);
      const r = xe.alloc(bits.length, { dtype }).set(bits);
      const t = xe.tensor(bits, { dtype });
      expect(r.dtype).toBe(dtype);
      expect(r.array).toBeInstanceOf(Uint16Array);
      try {
        for (const res of [r, t]) {
          same(xe.crossEntropy(res, y, { classes: C }), xe.crossEntropy(widened, y, { classes: C }), `${name} resident ${dtype}`);
          same(xe.crossEntropy(res, y, { classes: C, dtype }), xe.crossEntropy(widened, y, { classes: C }), `${name} resident ${dtype} with its dtype`);
          same(xe.crossEntropyWithGrad(res, y, { classes: C, softcap: 3 }), xe.crossEntropyWithGrad(widened, y, { classes: C, softcap: 3 }), 'softcap');
          same(xe.crossEntropy(res, labels(7, C, 6), { classes: C, spatial: 7 }), xe.crossEntropy(widened, labels(7, C, 6), { classes: C, spatial: 7 }), 'spatial');
          same(xe.softmax(res, C), xe.softmax(widened, C), 'softmax');
          same(xe.logSumExp(res, C), xe.logSumExp(widened, C), 'logSumExp');
          same(xe.entropy(res, C, { from: 'logits' }), xe.entropy(widened, C, { from: 'logits' }), 'entropy');
          same(xe.klDivergenceWithGrad(q, res, C, { from: 'logits' }), xe.klDivergenceWithGrad(q, widened, C, { from: 'logits' }), 'kl');
          same(xe.jsDivergence(q, res, C, { from: 'logits' }), xe.jsDivergence(q, widened, C, { from: 'logits' }), 'js');
          same(xe.binaryCrossEntropyWithGrad(res, binaryT), xe.binaryCrossEntropyWithGrad(widened, binaryT), 'binary');
        }
        // Nothing wrote into them.
        expect(Array.from(r.array)).toEqual(Array.from(bits));
        expect(Array.from(t.array)).toEqual(Array.from(bits));
        const p = xe.tensor(dtype === 'float16' ? toHalf(probs) : toBfloat16(probs), { dtype });
        same(xe.entropy(p, C), xe.entropy(decode(p.array.slice(), dtype), C), 'resident probabilities');
        same(xe.binaryCrossEntropy(p, binaryT, { from: 'probs' }), xe.binaryCrossEntropy(decode(p.array.slice(), dtype), binaryT, { from: 'probs' }), 'resident binary probs');
        p.free();
      } finally {
        r.free();
        t.free();
      }
    }
  });
});

describe('element types across copy windows', () => {
  const classes = 1000, rows = windowRows(classes) * 2 + 77;
  const big = normal(rows * classes, 4, 11), ys = labels(rows, classes, 12), target = probabilities(rows, classes, 16);
  it(`${rows} rows of ${classes} (three windows): the same bits as float32, copied and resident`, () => {
    for (const form of FORMS.slice(0, 3)) {
      const { arg, options, widened } = form.make(big, [rows, classes]);
      const o = { classes, ...options };
      same(wasm.crossEntropy(arg as Float32Array, ys, o), wasm.crossEntropy(widened, ys, { classes }), `${form.name} crossEntropy`);
      same(wasm.crossEntropyWithGrad(arg as Float32Array, ys, { ...o, reduction: 'none' }), wasm.crossEntropyWithGrad(widened, ys, { classes, reduction: 'none' }), `${form.name} grad`);
      same(wasm.softmax(arg as Float32Array, classes, undefined, options), wasm.softmax(widened, classes), `${form.name} softmax`);
      same(wasm.binaryCrossEntropy(arg as Float32Array, new Uint8Array(rows * classes), options), wasm.binaryCrossEntropy(widened, new Uint8Array(rows * classes)), `${form.name} binary`);
      same(wasm.klDivergence(target, arg as Float32Array, classes, { from: 'logits', ...options }), wasm.klDivergence(target, widened, classes, { from: 'logits' }), `${form.name} kl`);
    }
    const r = wasm.tensor(toHalf(big), { dtype: 'float16' });
    try {
      same(wasm.crossEntropy(r, ys, { classes }), wasm.crossEntropy(decode(toHalf(big), 'float16'), ys, { classes }), 'resident float16');
    } finally {
      r.free();
    }
  });
});

describe('the pool and element types', () => {
  type Dist = typeof import('../dist/index.js');
  let dist: Dist;
  beforeAll(async () => {
    for (const file of ['pool/pool', 'engine/blocks', 'engine/staging', 'ops/common']) {
      const src = statSync(new URL(`../src/${file}.ts`, import.meta.url)).mtimeMs, built = statSync(new URL(`../dist/${file}.js`, import.meta.url)).mtimeMs;
      expect(built >= src, `dist/${file}.js is older than src/${file}.ts: run \`npm run build:ts\``).toBe(true);
    }
    dist = await import('../dist/index.js');
  });

  it('gives one thread\'s bits for float64, float16 and bfloat16, plain and resident', async () => {
    const one = await dist.init({ build: 'simd' }) as unknown as Xentropy;
    const pool = await dist.createPool({ threads: 2, inlineBelow: 0 });
    try {
      const rows = 300, classes = 1000, z = normal(rows * classes, 3, 13), t = labels(rows, classes, 14);
      const tb = probabilities(rows, classes, 15);
      for (const form of FORMS.slice(0, 3)) {
        const { arg, options, widened } = form.make(z, [rows, classes]);
        same(await pool.crossEntropy(arg as Float32Array, t, { classes, ...options }), one.crossEntropy(widened, t, { classes }), `pool ${form.name}`);
        same(await pool.crossEntropyWithGrad(arg as Float32Array, t, { classes, softcap: 4, ...options }), one.crossEntropyWithGrad(widened, t, { classes, softcap: 4 }), `pool ${form.name} grad`);
        same(await pool.crossEntropy(arg as Float32Array, t, { classes, spatial: 10, ...options }), one.crossEntropy(widened, t, { classes, spatial: 10 }), `pool ${form.name} spatial`);
        same(await pool.binaryCrossEntropyWithGrad(arg as Float32Array, tb, { classes, ...options }), one.binaryCrossEntropyWithGrad(widened, tb, { classes }), `pool ${form.name} binary`);
        const { arg: pArg, options: pOpt, widened: pW } = form.make(tb, [rows, classes]);
        same(await pool.binaryCrossEntropy(pArg as Float32Array, tb, { from: 'probs', ...pOpt }), one.binaryCrossEntropy(pW, tb, { from: 'probs' }), `pool ${form.name} binary probs`);
      }
      for (const dtype of ['float16', 'bfloat16'] as const) {
        const bits = dtype === 'float16' ? toHalf(z) : toBfloat16(z);
        const r = pool.tensor(bits, { dtype });
        same(await pool.crossEntropy(r, t, { classes }), one.crossEntropy(decode(bits, dtype), t, { classes }), `pool resident ${dtype}`);
        same(await pool.binaryCrossEntropy(r, tb, { classes }), one.binaryCrossEntropy(decode(bits, dtype), tb, { classes }), `pool resident ${dtype} binary`);
        expect(Array.from(r.array)).toEqual(Array.from(bits));
        r.free();
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('int64 class indices', () => {
  const big = BigInt64Array.from(y, BigInt), ubig = BigUint64Array.from(y, BigInt);
  it.each(backends)('are read by crossEntropy and perplexity on %s', (_name, b) => {
    same(b.crossEntropy(logits, big, { classes: C }), b.crossEntropy(logits, y, { classes: C }), 'BigInt64Array');
    same(b.crossEntropy(logits, ubig, { classes: C }), b.crossEntropy(logits, y, { classes: C }), 'BigUint64Array');
    const ppl = (ids: unknown) => (b as unknown as Xentropy).perplexity(logits, ids as Int32Array, { classes: C });
    same(ppl(big), ppl(y), 'perplexity');
  });

  it.each(wasmBackends)('are read by crossEntropyOver on %s, and one outside int32 is a RangeError naming it', (_name, xe) => {
    same(xe.crossEntropyOver([{ input: logits, target: ubig }], { classes: C }), xe.crossEntropyOver([{ input: logits, target: y }], { classes: C }), 'over');
    const bad = big.slice();
    bad[3] = 3000000000n;
    const ubad = ubig.slice();
    ubad[2] = 2n ** 63n;
    expect(() => xe.crossEntropy(logits, bad, { classes: C })).toThrow(RangeError);
    expect(() => xe.crossEntropy(logits, bad, { classes: C })).toThrow(/target\[3\] = 3000000000n /);
    expect(() => xe.perplexity(logits, bad, { classes: C })).toThrow(/target\[3\] = 3000000000n /);
    expect(() => xe.crossEntropyOver([{ input: logits, target: ubad }], { classes: C })).toThrow(/batches\[0\]: target\[2\] = 9223372036854775808n /);
    // ignoreIndex as int64 is ignored, as an int32 one.
    const ignored = big.slice();
    ignored[0] = -100n;
    const y32 = y.slice();
    y32[0] = -100;
    same(xe.crossEntropy(logits, ignored, { classes: C }), xe.crossEntropy(logits, y32, { classes: C }), 'ignoreIndex');
  });
});

describe.each(backends)('element type refusals on %s', (_name, b) => {
  const h = toHalf(logits);
  const cases: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
    ['a Uint16Array without dtype', () => b.crossEntropy(h as never, y, { classes: C }), TypeError, /input is a Uint16Array: pass options\.dtype 'float16' or 'bfloat16'/],
    ['dtype with a Float32Array', () => b.crossEntropy(logits, y, { classes: C, dtype: 'float16' }), TypeError, /options\.dtype = 'float16' applies to a Uint16Array of half bits, but input is a Float32Array/],
    ['dtype with a Float64Array', () => b.softmax(new Float64Array(C) as never, C, undefined, { dtype: 'bfloat16' }), TypeError, /options\.dtype = 'bfloat16' .* logits is a Float64Array/],
    ['a dtype that is none', () => b.entropy(h as never, C, { dtype: 'half' as never }), RangeError, /options\.dtype must be 'float16' or 'bfloat16' .*got "half"/],
    ['a dtype that is not a string', () => b.binaryCrossEntropy(h as never, binaryT, { dtype: 16 as never }), TypeError, /options\.dtype must be 'float16' or 'bfloat16', got 16/],
    ['a dtype that disagrees with the tensor', () => b.crossEntropy({ type: 'float16', data: h, dims: [N, C] } as never, y, { dtype: 'bfloat16' } as never), RangeError, /options\.dtype = 'bfloat16' disagrees with input, a tensor of type 'float16'/],
    ['dtype on kl with neither half', () => b.klDivergence(q, probs, C, { dtype: 'float16' }), TypeError, /neither p nor q is one/],
    ['a float64 gradOut', () => b.crossEntropyWithGrad(new Float64Array(N * C) as never, y, { classes: C, gradOut: new Float64Array(N * C) as never }), TypeError, /options\.gradOut must be a Float32Array/],
  ];
  it.each(cases)('refuses %s', (_what, call, error, message) => {
    let thrown: unknown;
    try {
      call();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(error);
    expect((thrown as Error).message).toMatch(message);
  });

  it('refuses a gradOut that overlaps a half input (never in place)', () => {
    const buffer = new ArrayBuffer(N * C * 4);
    const input = new Uint16Array(buffer, 0, N * C), gradOut = new Float32Array(buffer);
    expect(() => b.crossEntropyWithGrad(input as never, y, { classes: C, dtype: 'float16', gradOut })).toThrow(/options\.gradOut overlaps the input/);
  });
});

describe('resident dtype refusals', () => {
  const xe = wasm;
  it('alloc and tensor check their dtype; a half buffer is an input only', () => {
    expect(() => xe.alloc(4, { dtype: 'float8' as never })).toThrow(RangeError);
    expect(() => xe.alloc(4, { dtype: 'float8' as never })).toThrow(/options\.dtype must be one of 'float32', 'float16', 'bfloat16', got "float8"/);
    expect(() => xe.alloc(4, { type: 'float16' } as never)).toThrow(/no option "type"/);
    expect(() => xe.tensor(new Float32Array(4), { dtype: 'float16' })).toThrow(/values must be a Uint16Array of float16 bits/);
    const r = xe.alloc(N * C, { dtype: 'float16' });
    try {
      expect(() => xe.crossEntropyWithGrad(logits, y, { classes: C, gradOut: r as never })).toThrow(/options\.gradOut must be a Float32Array/);
      expect(() => xe.softmax(logits, C, r as never)).toThrow(/out must be a Float32Array/);
      expect(() => xe.binaryCrossEntropy(logits, r as never)).toThrow(/target must be a Float32Array/);
      expect(() => xe.crossEntropy(r, y, { classes: C, dtype: 'bfloat16' })).toThrow(/disagrees with input, a float16 resident buffer/);
      const f = xe.alloc(N * C);
      expect(() => xe.crossEntropy(f, y, { classes: C, dtype: 'float16' })).toThrow(/float32 resident buffer/);
      f.free();
      // A redefined dtype on the instance changes nothing: the buffer's own is read.
      Object.defineProperty(r, 'dtype', { value: 'float32' });
      same(xe.crossEntropy(r, y, { classes: C }), xe.crossEntropy(new Float32Array(N * C), y, { classes: C }), 'zeros');
    } finally {
      r.free();
    }
  });
});

describe('accuracy against float64 on each element type\'s own values (docs/accuracy.md)', () => {
  /** float64 row losses of z (own values) against labels t. */
  function rowLosses(z: ArrayLike<number>, t: Int32Array, classes: number): Float64Array {
    const out = new Float64Array(t.length);
    for (let r = 0; r < t.length; r++) {
      let m = -Infinity, s = 0;
      for (let c = 0; c < classes; c++) m = Math.max(m, z[r * classes + c]);
      for (let c = 0; c < classes; c++) s += Math.exp(z[r * classes + c] - m);
      out[r] = m + Math.log(s) - z[r * classes + t[r]];
    }
    return out;
  }
  it.each(wasmBackends)('row losses within 1e-5 relative + 1e-6 nats, plus the narrowing of float64 logits (%s)', (_name, xe) => {
    const rows = 64, classes = 1000, t = labels(rows, classes, 21);
    for (const sd of [1, 3, 10]) {
      const z = normal(rows * classes, sd, 22 + sd);
      const cases: [string, unknown, { dtype?: Dtype }, ArrayLike<number>, number][] = [
        ['float16', toHalf(z), { dtype: 'float16' }, decode(toHalf(z), 'float16'), 0],
        ['bfloat16', toBfloat16(z), { dtype: 'bfloat16' }, decode(toBfloat16(z), 'bfloat16'), 0],
        // float64 values are narrowed first: each logit moves by at most half a float32 ulp, 2^-24 |z|.
        ['float64', toFloat64(z, 23), {}, toFloat64(z, 23), 2 ** -24 * 2 * Math.max(...z.map(Math.abs))],
      ];
      for (const [what, arg, options, own, narrowing] of cases) {
        const got = xe.crossEntropy(arg as Float32Array, t, { classes, reduction: 'none', ...options });
        const want = rowLosses(own, t, classes);
        for (let r = 0; r < rows; r++) {
          const bound = 1e-5 * Math.abs(want[r]) + 1e-6 + narrowing;
          if (!(Math.abs(got[r] - want[r]) <= bound)) expect.fail(`${what} sd ${sd} row ${r}: ${got[r]} vs ${want[r]}`);
        }
      }
    }
  });
});
