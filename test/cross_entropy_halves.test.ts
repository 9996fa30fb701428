// The sparse cross-entropy loss reads float16 and bfloat16 logits in its own row sweeps, with no
// widening pass (assembly/row.ts: the maximum from the bits, a cheaper float16 widening for blocks
// without infinities and NaNs, the exact widening for the others). It must give the bits of the same
// call on the float32 values widened by this suite's own decoder: each row's loss and the sum, on
// every build, copied and resident. The inputs aim at what the sweeps decide from the bits: every
// pattern, infinities and NaNs in one block of a long row, a maximum of +0 or -0 in any lane,
// rows of negatives only, subnormals, rows of 1 to 17 classes, and logits whose smoothing terms
// overflow float32. Label smoothing takes the widening path (crossEntropyRoute), to the same bits.

import { describe, expect, it } from 'vitest';
import { crossEntropyRoute, planCrossEntropy } from '../src/ops/cross_entropy.js';
import type { Xentropy } from '../src/api.js';
import { labels, normal, rng, wasm, wasmBackends } from './helpers.js';

type Dtype = 'float16' | 'bfloat16';

/** The float32 bits of half bits h: bfloat16 moved up; float16 by its fields, NaN payloads kept. */
function widenBits(h: number, dtype: Dtype): number {
  if (dtype === 'bfloat16') return (h << 16) >>> 0;
  const sign = (h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 1023;
  if (e === 31) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  const value = e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25);
  return (sign | new Uint32Array(Float32Array.of(value).buffer)[0]) >>> 0;
}

function decode(bits: Uint16Array, dtype: Dtype): Float32Array {
  return new Float32Array(Uint32Array.from(bits, (h) => widenBits(h, dtype)).buffer);
}

/** Whether h is an infinity or NaN of dtype (its exponent all ones). */
function special(h: number, dtype: Dtype): boolean {
  return dtype === 'float16' ? (h & 0x7c00) === 0x7c00 : (h & 0x7f80) === 0x7f80;
}

/** Half bits of float32 values: bfloat16 truncated, float16 through its fields (below 2^-24 to zero). */
function encode(values: ArrayLike<number>, dtype: Dtype): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    if (dtype === 'bfloat16') {
      out[i] = u[0] >>> 16;
      continue;
    }
    const sign = (u[0] >>> 16) & 0x8000, a = Math.abs(f[0]);
    if (a >= 65520) out[i] = sign | 0x7c00;
    else if (a < 2 ** -14) out[i] = sign | Math.round(a * 2 ** 24);
    else {
      const e = Math.floor(Math.log2(a));
      out[i] = sign | ((e + 15) << 10) | Math.floor((a / 2 ** e - 1) * 1024);
    }
  }
  return out;
}

/**
 * a and b are the same float32 bits, or both NaN (read through Uint32Array views, so that no value
 * passes through a JavaScript number), or the same number. A NaN's payload is left out: WebAssembly
 * leaves the payload of an arithmetic NaN unspecified, and V8 picks an operand's by register
 * allocation, which differs between its tiers for the same code.
 */
function expectSameBits(a: number | Float32Array, b: number | Float32Array, what: string): void {
  if (typeof a === 'number' || typeof b === 'number') {
    expect(Object.is(a, b), `${what}: ${a} vs ${b}`).toBe(true);
    return;
  }
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const nan = (u: number) => (u & 0x7fffffff) > 0x7f800000;
  expect(x.length, `${what}: length`).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i] && !(nan(x[i]) && nan(y[i]))) expect.fail(`${what}[${i}]: 0x${x[i].toString(16)} vs 0x${y[i].toString(16)}`);
  }
}

function shuffled(bits: Uint16Array, seed: number): Uint16Array {
  const r = rng(seed), out = bits.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Rows of C classes taken from bits in order, as many as fill whole rows. */
interface Case { name: string; bits: Uint16Array; classes: number }

function cases(dtype: Dtype): Case[] {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const finite = all.filter((h) => !special(h, dtype));
  const out: Case[] = [];
  for (const classes of [17, 1000, 2049, 4099]) out.push({ name: `every pattern in order, rows of ${classes}`, bits: all, classes });
  for (const classes of [7, 1000, 3000]) out.push({ name: `every pattern shuffled, rows of ${classes}`, bits: shuffled(all, classes), classes });
  for (const classes of [5, 64, 2048, 5000]) {
    out.push({ name: `every finite pattern shuffled, rows of ${classes}`, bits: shuffled(finite, classes + 1), classes });
  }
  // Rows of 5000 (blocks of 2048, 2048 and 904) of normal logits, each with infinities or NaNs at a
  // few places: the start, middle and end of each block and the vector tail.
  const inf = dtype === 'float16' ? 0x7c00 : 0x7f80;
  const specials = [inf, inf | 0x8000, inf | 0x0201, inf | 0x8013, inf | 0x0001];
  const places = [0, 1, 1023, 2047, 2048, 2050, 4095, 4096, 4999, 4997];
  {
    const classes = 5000, rows: Uint16Array[] = [];
    for (const h of specials) {
      for (const at of places) {
        const row = encode(normal(classes, 3, at + h), dtype);
        row[at] = h;
        rows.push(row);
        const two = encode(normal(classes, 3, at + h + 1), dtype);
        two[at] = h;
        two[(at + 2500) % classes] = specials[(specials.indexOf(h) + 1) % specials.length];
        rows.push(two);
      }
    }
    out.push({ name: 'infinities and NaNs in one block or two of rows of 5000', bits: Uint16Array.from(rows.flatMap((row) => Array.from(row))), classes });
  }
  // Maxima of +0 and -0: both zeros and negatives in every order, so that either zero comes first in
  // some lane; and rows of negatives only, -0 among them or not.
  const r = rng(99);
  for (const classes of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 2047, 2048, 2049, 4100]) {
    const n = Math.max(24, Math.ceil(6000 / classes)) * classes;
    const zeros = Uint16Array.from({ length: n }, () => {
      const x = r();
      return x < 0.25 ? 0 : x < 0.5 ? 0x8000 : 0x8000 | (1 + Math.floor(r() * (inf - 1)));
    });
    out.push({ name: `zeros and negatives, rows of ${classes}`, bits: zeros, classes });
    const negatives = Uint16Array.from({ length: n }, () => (r() < 0.02 ? 0x8000 : 0x8000 | (1 + Math.floor(r() * (inf - 1)))));
    out.push({ name: `negatives only, rows of ${classes}`, bits: negatives, classes });
    out.push({ name: `normal logits, rows of ${classes}`, bits: encode(normal(n, 4, classes), dtype), classes });
  }
  out.push({ name: 'subnormals and zeros', bits: Uint16Array.from({ length: 9000 }, () => Math.floor(r() * 64) | (r() < 0.5 ? 0x8000 : 0)), classes: 900 });
  // The largest finite logits: smoothing's f32 terms overflow for bfloat16 and are summed again in f64.
  const big = dtype === 'float16' ? 0x7bff : 0x7f7f;
  out.push({ name: 'the largest finite values', bits: Uint16Array.from({ length: 8200 }, () => big - Math.floor(r() * 4) | (r() < 0.5 ? 0x8000 : 0)), classes: 2050 });
  return out;
}

/** The options each case runs with (label smoothing with and without weights, z-loss, row weights, ignored rows). */
function optionSets(rows: number, classes: number, seed: number): Record<string, unknown>[] {
  const r = rng(seed);
  return [
    {},
    { labelSmoothing: 0.1 },
    { labelSmoothing: 0.2, weight: Float32Array.from({ length: classes }, () => r() * 2) },
    { zLoss: 1e-3, weight: Float32Array.from({ length: classes }, () => r()) },
    { sampleWeight: Float32Array.from({ length: rows }, () => r()) },
  ];
}

/** The losses of one call, copied and resident, against the call on the decoded float32 values. */
function compare(xe: Xentropy, name: string, bits: Uint16Array, dtype: Dtype, classes: number, seed: number): void {
  const rows = Math.floor(bits.length / classes);
  const x = bits.subarray(0, rows * classes), widened = decode(x, dtype);
  const y = labels(rows, classes, seed);
  // Some rows ignored, and a batch where every row is.
  const some = y.map((v, i) => (i % 5 === 3 ? -100 : v));
  const resident = xe.tensor(x, { dtype });
  try {
    for (const options of optionSets(rows, classes, seed)) {
      for (const [target, reduction] of [[y, 'none'], [y, 'sum'], [some, 'none'], [some, 'mean'], [y.map(() => -100), 'mean']] as const) {
        const o = { classes, reduction, ...options };
        const want = xe.crossEntropy(widened, target, o) as number | Float32Array;
        const what = `${name} (${dtype}, ${reduction}, ${Object.keys(options).join(' ') || 'no options'})`;
        expectSameBits(xe.crossEntropy(x, target, { ...o, dtype }) as number | Float32Array, want, `${what}, copied`);
        expectSameBits(xe.crossEntropy(resident, target, o) as number | Float32Array, want, `${what}, resident`);
      }
    }
  } finally {
    resident.free();
  }
}

describe.each(wasmBackends)('the sparse loss of half logits on %s', (_name, xe) => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype}: the bits of the float32 call on the widened values`, { timeout: 300_000 }, () => {
      cases(dtype).forEach((c, i) => compare(xe, c.name, c.bits, dtype, c.classes, i + 1));
    });
  }
});

describe('the half sweeps themselves', () => {
  it('the kernel reads halves by kind as the float32 kernel reads them widened', () => {
    const d = wasm.driver, classes = 2100, rows = 12;
    for (const [kind, dtype] of [[1, 'float16'], [2, 'bfloat16']] as const) {
      const bits = encode(normal(rows * classes, 5, kind), dtype);
      bits[5] = 0x8000;
      bits[classes + 2090] = dtype === 'float16' ? 0x7e00 : 0x7fc0;
      bits[2 * classes + 3] = dtype === 'float16' ? 0xfc00 : 0xff80;
      const [h, z, t, l] = d.reserve(bits.length * 2, bits.length * 4, rows * 4, rows * 4);
      d.u16(h, bits.length).set(bits);
      d.f32(z, bits.length).set(decode(bits, dtype));
      d.i32(t, rows).set(labels(rows, classes, 3));
      const k = d.kernels;
      const sumHalves = k.crossEntropySparse(h, t, rows, classes, 0, -100, 0, 0, 1e-3, l, 0, 0, kind);
      const lossHalves = d.f32(l, rows).slice();
      const sumFloats = k.crossEntropySparse(z, t, rows, classes, 0, -100, 0, 0, 1e-3, l, 0, 0, 0);
      expect(Object.is(sumHalves, sumFloats), `${dtype}: ${sumHalves} vs ${sumFloats}`).toBe(true);
      expectSameBits(lossHalves, d.f32(l, rows).slice(), `${dtype} row losses`);
      // Halves have no sweep with smoothing or a gradient: a call that asks for one is NaN, not a guess.
      expect(k.crossEntropySparse(h, t, rows, classes, 0, -100, 0.1, 0, 0, l, 0, 0, kind)).toBeNaN();
      expect(k.crossEntropySparse(h, t, rows, classes, 0, -100, 0, 0, 0, l, z, 1, kind)).toBeNaN();
    }
  });

  it('only the sparse loss of logits reads halves; a gradient, smoothing, soft targets, focal terms or a soft cap widen', () => {
    const classes = 4, bits = encode([1, 2, 3, 4, 4, 3, 2, 1], 'float16'), y = [0, 3];
    const route = (options: Record<string, unknown>, withGrad = false, target: unknown = y) => {
      const plan = planCrossEntropy('crossEntropy', bits, target as number[], { classes, dtype: 'float16', ...options }, withGrad);
      return crossEntropyRoute(plan, null, null, withGrad).halves;
    };
    expect(route({})).toBe(true);
    expect(route({ zLoss: 1e-4, reduction: 'none', weight: Float32Array.of(1, 2, 3, 4) })).toBe(true);
    expect(route({ labelSmoothing: 0.1 })).toBe(false);
    expect(route({}, true)).toBe(false);
    expect(route({ focal: {} })).toBe(false);
    expect(route({ softcap: 5 })).toBe(false);
    expect(route({}, false, new Float32Array(8).fill(0.25))).toBe(false);
    const f32 = planCrossEntropy('crossEntropy', new Float32Array(8), y, { classes }, false);
    expect(crossEntropyRoute(f32, null, null, false).halves).toBe(false);
  });
});
