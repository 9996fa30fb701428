// Sizes up to what a WebAssembly memory can hold (2^32 bytes), with real allocations above 2 GiB: every
// size either works or is refused with a RangeError naming it, and the instance stays exact afterwards
// (byte counts once wrapped at 2^31 in 32-bit arithmetic, which refused 2 GiB, placed scratch space
// over the kernels' constant tables, and broke every later call).

import { describe, expect, it } from 'vitest';
// The pool's workers load dist/ (Node cannot start a worker from TypeScript source).
import { createPool } from '../dist/index.js';
import { init, type Xentropy } from '../src/index.js';
import { expectSameBits, normal } from './helpers.js';

/** A fixed set of calls whose results must not change, whatever the instance went through. */
function probe(xe: Xentropy): Float64Array {
  const z = normal(6 * 37, 3, 7), p = xe.softmax(normal(6 * 37, 1, 8), 37);
  const y = Int32Array.from({ length: 6 }, (_, i) => (i * 11) % 37);
  const t = Float32Array.from({ length: 6 * 37 }, (_, i) => (i % 3) / 2);
  return Float64Array.from([
    xe.crossEntropy(z, y, { classes: 37 }),
    xe.crossEntropyWithGrad(z, y, { classes: 37, labelSmoothing: 0.1 }).grad.reduce((a, b) => a + Math.abs(b), 0),
    xe.binaryCrossEntropy(z, t, { classes: 37 }),
    xe.klDivergence(p, xe.softmax(z, 37), 37),
    xe.jsDivergence(p, xe.softmax(z, 37), 37),
    ...xe.entropy(p, 37),
    ...xe.logSumExp(z, 37),
  ]);
}

describe('memory above 2 GiB', () => {
  it('allocates 2 GiB and more, reads and writes there, and stays exact', async () => {
    const xe = await init({ build: 'simd' });
    const expected = probe(xe);
    const big = xe.alloc(2 ** 29); // 2 GiB: refused before, and every later call then threw
    expect(big.length).toBe(2 ** 29);
    big.array[2 ** 29 - 1] = 5;
    expect(big.array[2 ** 29 - 1]).toBe(5);
    // A resident input that lies above 2^31 bytes: the kernels' addresses are unsigned.
    const z = normal(4 * 100, 2, 3);
    const y = Int32Array.from([3, 99, 0, 42]);
    const high = xe.tensor(z);
    const plain = xe.crossEntropyWithGrad(z, y, { classes: 100, reduction: 'none' });
    const resident = xe.crossEntropyWithGrad(high, y, { classes: 100, reduction: 'none', gradOut: high });
    expectSameBits(resident.loss, plain.loss);
    expectSameBits(high.array, plain.grad);
    expectSameBits(probe(xe), expected);
    big.free();
    high.free();
    expectSameBits(probe(xe), expected);
  }, 120_000);

  it('refuses what memory cannot hold with a RangeError naming the size, and stays exact', async () => {
    const xe = await init({ build: 'simd' });
    const expected = probe(xe);
    // 2^30 floats are 2^32 bytes, which no WebAssembly memory holds once its static data is counted.
    expect(() => xe.alloc(2 ** 30)).toThrow(RangeError);
    expect(() => xe.alloc(2 ** 30)).toThrow(/needs \d{10} bytes/);
    expectSameBits(probe(xe), expected);
    // Resident buffers totalling 3 GiB, then one more that does not fit.
    const held = [xe.alloc(2 ** 28), xe.alloc(2 ** 28), xe.alloc(2 ** 28)];
    held.forEach((r, i) => r.array.fill(i + 1));
    expectSameBits(probe(xe), expected);
    expect(() => xe.alloc(2 ** 28)).toThrow(/bytes/);
    expectSameBits(probe(xe), expected);
    held.forEach((r, i) => {
      expect(r.array[0]).toBe(i + 1);
      expect(r.array[2 ** 28 - 1]).toBe(i + 1);
    });
    // Freed space is reused, and the instance is as exact as before.
    held[1].free();
    const again = xe.alloc(2 ** 28);
    expect(again.array[2 ** 28 - 1]).toBe(0);
    expectSameBits(probe(xe), expected);
  }, 120_000);

  it('runs a call that needs 2 GiB of scratch: one row of 2^28 classes with a soft target', async () => {
    const xe = await init({ build: 'simd' });
    const C = 2 ** 28;
    const logits = new Float32Array(C); // all 0: softmax is uniform
    const target = new Float32Array(C).fill(1 / C); // 2^-28, exact in float32
    // Each term is -(1/C) log(1/C): the loss is log C = 28 ln 2.
    const loss = xe.crossEntropy(logits, target, { classes: C });
    expect(Math.abs(loss - 28 * Math.LN2) / (28 * Math.LN2)).toBeLessThan(1e-6);
  }, 120_000);

  it('gives the pool the same limits: 2 GiB works or is refused by size, and the pool stays exact', async () => {
    const pool = await createPool({ threads: 1, inlineBelow: 0 });
    try {
      const z = normal(64 * 50, 2, 5);
      const y = Int32Array.from({ length: 64 }, (_, i) => i % 50);
      const before = await pool.crossEntropy(z, y, { classes: 50 });
      let big;
      try {
        big = pool.alloc(2 ** 29);
      } catch (error) {
        // A runtime may cap shared memory below 4 GiB; then the refusal must say how much was asked.
        expect(error).toBeInstanceOf(RangeError);
        expect((error as Error).message).toMatch(/\d+ bytes/);
      }
      if (big) {
        big.array[2 ** 29 - 1] = 1;
        const high = pool.tensor(z);
        expect(await pool.crossEntropy(high, y, { classes: 50 })).toBe(before);
      }
      expect(() => pool.alloc(2 ** 30)).toThrow(RangeError);
      expect(await pool.crossEntropy(z, y, { classes: 50 })).toBe(before);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
