// crossEntropyOver / crossEntropyOverAsync: row batches give the loss of the concatenated rows, with
// bounded memory, including a total beyond wasm's 4 GiB address space.

import { describe, expect, it } from 'vitest';
import { init, reference, type CrossEntropyBatch } from '../src/index.js';
import { labels, normal, probabilities, uniform, wasmBackends } from './helpers.js';

const C = 37, N = 1000;
const z = normal(N * C, 3, 1), y = labels(N, C, 2);
const weight = uniform(C, 3, 0.5, 2), sampleWeight = uniform(N, 4, 0, 1);
for (let i = 0; i < N; i += 7) y[i] = -100; // ignored rows

/** The rows cut at the given boundaries. */
function cut(bounds: number[], soft?: Float32Array): CrossEntropyBatch[] {
  const out: CrossEntropyBatch[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [a, b] = [bounds[k], bounds[k + 1]];
    out.push({
      input: z.subarray(a * C, b * C),
      target: soft ? soft.subarray(a * C, b * C) : y.subarray(a, b),
      sampleWeight: sampleWeight.subarray(a, b),
    });
  }
  return out;
}

const BOUNDS = [0, 1, 250, 250, 613, 999, 1000];

describe.each(wasmBackends)('crossEntropyOver on %s', (_name, xe) => {
  it('equals one crossEntropy call over the concatenated rows (rel 1e-12), for every option mix', () => {
    for (const reduction of ['mean', 'sum'] as const) {
      for (const o of [{}, { weight }, { labelSmoothing: 0.1, weight }, { unit: 'bits' as const, zLoss: 1e-3 }]) {
        const whole = xe.crossEntropy(z, y, { classes: C, reduction, sampleWeight, ...o });
        const over = xe.crossEntropyOver(cut(BOUNDS), { classes: C, reduction, ...o });
        expect(Math.abs(over - whole), `${reduction} ${JSON.stringify(o)}`).toBeLessThanOrEqual(1e-12 * Math.abs(whole));
      }
    }
    const soft = probabilities(N, C, 5);
    const whole = xe.crossEntropy(z, soft, { classes: C, sampleWeight });
    expect(Math.abs(xe.crossEntropyOver(cut(BOUNDS, soft), { classes: C }) - whole)).toBeLessThanOrEqual(1e-12 * whole);
  });

  it('follows onAllIgnored when no row of any batch counts, and sums nothing to 0', () => {
    const ignored = [{ input: z.subarray(0, 2 * C), target: [-100, -100] }];
    expect(xe.crossEntropyOver(ignored, { classes: C })).toBeNaN();
    expect(xe.crossEntropyOver(ignored, { classes: C, onAllIgnored: 'zero' })).toBe(0);
    expect(xe.crossEntropyOver([], { classes: C, reduction: 'sum' })).toBe(0);
  });

  it('gives +inf where crossEntropy does (a label on a -inf logit), not NaN from the running sum', async () => {
    // The compensated sum once formed inf - inf; PyTorch and crossEntropy give +inf.
    const input = new Float32Array([0, -Infinity, 1, 2]), target = new Int32Array([1, 0]);
    const one = xe.crossEntropy(input, target, { classes: 2, reduction: 'sum' });
    expect(one).toBe(Infinity);
    const batches = [{ input: input.subarray(0, 2), target: target.subarray(0, 1) }, { input: input.subarray(2), target: target.subarray(1) }];
    expect(xe.crossEntropyOver(batches, { classes: 2, reduction: 'sum' })).toBe(Infinity);
    expect(xe.crossEntropyOver(batches, { classes: 2 })).toBe(Infinity);
    expect(await xe.crossEntropyOverAsync(batches, { classes: 2 })).toBe(Infinity);
    expect(xe.crossEntropyOver([...batches, ...batches], { classes: 2 })).toBe(Infinity);
  });

  it('takes async iterables and promises of batches', async () => {
    const whole = xe.crossEntropy(z, y, { classes: C, sampleWeight });
    async function* stream() {
      for (const batch of cut(BOUNDS)) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield batch;
      }
    }
    expect(Math.abs(await xe.crossEntropyOverAsync(stream(), { classes: C }) - whole)).toBeLessThanOrEqual(1e-12 * whole);
    const promised = cut(BOUNDS).map((b) => Promise.resolve(b));
    expect(Math.abs(await xe.crossEntropyOverAsync(promised, { classes: C }) - whole)).toBeLessThanOrEqual(1e-12 * whole);
  });

  it('refuses bad input naming the batch, and options that belong to a batch', async () => {
    const good = cut([0, 10]);
    expect(() => xe.crossEntropyOver([...good, { input: z.subarray(0, C), target: [C] }], { classes: C })).toThrow(
      new RangeError(`batches[1]: target[0] = ${C} is not a class index in [0, ${C}) nor ignoreIndex = -100`),
    );
    expect(() => xe.crossEntropyOver([good[0], 5 as never], { classes: C })).toThrow(TypeError);
    expect(() => xe.crossEntropyOver(42 as never, { classes: C })).toThrow(/batches must be an iterable/);
    expect(() => xe.crossEntropyOver(good, { classes: C, reduction: 'none' as never })).toThrow(RangeError);
    expect(() => xe.crossEntropyOver(good, { classes: C, sampleWeight } as never)).toThrow(TypeError);
    expect(() => xe.crossEntropyOver(good, { classes: C, gradOut: z } as never)).toThrow(TypeError);
    await expect(xe.crossEntropyOverAsync(null as never, { classes: C })).rejects.toThrow(TypeError);
    // The instance is not poisoned.
    expect(xe.crossEntropyOver(good, { classes: C })).toBe(xe.crossEntropyOver(good, { classes: C }));
  });
});

describe('crossEntropyOver beyond 4 GiB', () => {
  it('computes a loss over 1.08e9 logits (4.3 GB) with wasm memory bounded, equal to the reference', async () => {
    const xe = await init({ build: 'simd' });
    const rows = 4096, classes = 1000, kinds = 3, repeats = 88;
    const batches = Array.from({ length: kinds }, (_, k) => ({
      input: normal(rows * classes, 3, 100 + k),
      target: labels(rows, classes, 200 + k),
    }));
    let sum = 0, count = 0;
    for (const b of batches) {
      sum += reference.crossEntropy(b.input, b.target, { classes, reduction: 'sum' }) as number;
      count += rows;
    }
    function* all() {
      for (let r = 0; r < repeats; r++) yield* batches;
    }
    const before = xe.driver.memoryBytes;
    const got = xe.crossEntropyOver(all(), { classes });
    const bytes = kinds * repeats * rows * classes * 4;
    expect(bytes).toBeGreaterThan(2 ** 32);
    expect(Math.abs(got - sum / count)).toBeLessThanOrEqual(1e-6 * (sum / count));
    // The streaming window: memory does not grow with the total.
    expect(xe.driver.memoryBytes).toBeLessThanOrEqual(Math.max(before, 4 << 20));
    console.log(`crossEntropyOver: ${(bytes / 1e9).toFixed(2)} GB of logits, wasm memory ${xe.driver.memoryBytes} bytes`);
  });
});
