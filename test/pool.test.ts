// The worker pool (createPool): results bit-identical to one thread of the SIMD build, for plain and
// resident inputs; bad input refused before any worker writes what the caller holds; a failing worker
// reported on its call and replaced; close().
//
// Workers load dist/pool/worker.js (Node cannot start a worker from TypeScript source), so this suite
// runs against dist/, built by `npm run build:ts` (and by `npm ci` through `prepare`).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createPool, init, type XentropyPool, type Xentropy } from '../dist/index.js';
import { failNext } from '../dist/pool/pool.js';
import type { CrossEntropyOptions, IndexTarget } from '../dist/index.js';
import { bits, labels, normal, probabilities, uniform } from './helpers.js';

const ROOT = new URL('..', import.meta.url);

/** Index of the first element whose bits differ (NaN payloads included), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** Asserts two results are the same bits: numbers by Object.is (NaN is NaN, -0 is not 0), arrays bitwise. */
function expectSame(actual: number | Float32Array, expected: number | Float32Array, what: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, what).toBe('number');
    expect(Object.is(actual, expected), `${what}: ${actual} vs ${expected}`).toBe(true);
  } else {
    expect(actual, what).toBeInstanceOf(Float32Array);
    const at = firstDifference(actual as Float32Array, expected);
    expect(at, `${what}: first difference at [${at}]: ${(actual as Float32Array)[at]} vs ${expected[at]}`).toBe(-1);
  }
}

let xe: Xentropy;
let pool2: XentropyPool;
let pool3: XentropyPool;

beforeAll(async () => {
  // A stale dist/ would test old code: say so rather than report a confusing difference.
  for (const name of ['pool/pool', 'pool/worker', 'engine/driver', 'engine/blocks', 'api', 'ops/common', 'ops/cross_entropy', 'ops/binary_cross_entropy']) {
    const src = statSync(new URL(`src/${name}.ts`, ROOT)).mtimeMs, dist = statSync(new URL(`dist/${name}.js`, ROOT)).mtimeMs;
    expect(dist >= src, `dist/${name}.js is older than src/${name}.ts: run \`npm run build:ts\``).toBe(true);
  }
  xe = await init({ build: 'simd' });
  // Every call of these two pools goes to the workers, however small ('small calls' tests the rest).
  [pool2, pool3] = await Promise.all([createPool({ threads: 2, inlineBelow: 0 }), createPool({ threads: 3, inlineBelow: 0 })]);
}, 30_000);

afterAll(async () => {
  await Promise.all([pool2?.close(), pool3?.close()]);
});

/**
 * Compares every path of one call: one thread with plain and resident input, and the pool with plain
 * and resident input, resident gradOut and the gradient in place over the input. Loss-only calls are
 * compared with loss-only calls (their kernels skip the gradient sweep).
 */
async function expectIdentical(
  pool: XentropyPool, input: Float32Array, target: IndexTarget | Float32Array, options: CrossEntropyOptions,
): Promise<void> {
  const loss = xe.crossEntropy(input, target, options);
  const withGrad = xe.crossEntropyWithGrad(input, target, options);
  const x = xe.tensor(input);
  expectSame(xe.crossEntropy(x, target, options), loss, 'one thread, resident loss');
  expectSame(xe.crossEntropyWithGrad(x, target, options).grad, withGrad.grad, 'one thread, resident gradient');
  x.free();

  const p = pool.tensor(input), g = pool.alloc(input.length);
  try {
    expectSame(await pool.crossEntropy(input, target, options), loss, 'pool, plain loss');
    expectSame(await pool.crossEntropy(p, target, options), loss, 'pool, resident loss');
    const plain = await pool.crossEntropyWithGrad(input, target, options);
    expectSame(plain.loss, withGrad.loss, 'pool, plain loss with gradient');
    expectSame(plain.grad, withGrad.grad, 'pool, plain gradient');
    const resident = await pool.crossEntropyWithGrad(p, target, { ...options, gradOut: g });
    expectSame(resident.loss, withGrad.loss, 'pool, resident loss with gradient');
    expectSame(resident.grad, withGrad.grad, 'pool, resident gradOut');
    expectSame(g.array, withGrad.grad, 'pool, resident gradOut (its view)');
    const inPlace = await pool.crossEntropyWithGrad(p, target, { ...options, gradOut: p });
    expectSame(inPlace.loss, withGrad.loss, 'pool, in-place loss');
    expectSame(p.array, withGrad.grad, 'pool, gradient in place over the input');
    const copy = input.slice();
    const plainInPlace = await pool.crossEntropyWithGrad(copy, target, { ...options, gradOut: copy });
    expectSame(plainInPlace.loss, withGrad.loss, 'pool, plain in-place loss');
    expectSame(copy, withGrad.grad, 'pool, gradient in place over a plain input');
  } finally {
    p.free();
    g.free();
  }
}

describe('createPool', () => {
  it('starts the SIMD build on the requested number of workers, by default the available parallelism', async () => {
    expect(pool2.threads).toBe(2);
    expect(pool3.threads).toBe(3);
    expect(pool2.features).toEqual({ build: 'simd', simd: true, relaxedSimd: false });
    const pool = await createPool();
    expect(pool.threads).toBe(Math.max(1, availableParallelism()));
    await pool.close();
  });

  it('refuses bad options', async () => {
    await expect(createPool({ threads: 0 })).rejects.toThrow(new RangeError('options.threads must be an integer in [1, 256], got 0'));
    await expect(createPool({ threads: 1.5 })).rejects.toThrow(RangeError);
    await expect(createPool({ threads: 257 })).rejects.toThrow(RangeError);
    await expect(createPool({ threads: '2' as unknown as number })).rejects.toThrow(new TypeError('options.threads must be a number, got "2"'));
    await expect(createPool({ thread: 2 } as never)).rejects.toThrow(/createPool options has no option "thread"/);
    await expect(createPool(null as never)).rejects.toThrow(TypeError);
    await expect(createPool({ inlineBelow: -1 })).rejects.toThrow(new RangeError('options.inlineBelow must be an integer >= 0, got -1'));
    await expect(createPool({ inlineBelow: 0.5 })).rejects.toThrow(new RangeError('options.inlineBelow must be an integer >= 0, got 0.5'));
    await expect(createPool({ inlineBelow: NaN })).rejects.toThrow(RangeError);
    await expect(createPool({ inlineBelow: '0' as unknown as number })).rejects.toThrow(new TypeError('options.inlineBelow must be a number, got "0"'));
  });
});

describe('results bit-identical to one thread (SIMD build)', () => {
  it('W1: N = 4096, C = 1000, mean and per-row losses', async () => {
    const N = 4096, C = 1000;
    const z = normal(N * C, 3, 1), y = labels(N, C, 2);
    await expectIdentical(pool2, z, y, { classes: C });
    const p = pool2.tensor(z);
    expectSame(await pool2.crossEntropy(p, y, { classes: C, reduction: 'none' }), xe.crossEntropy(z, y, { classes: C, reduction: 'none' }), 'none');
    expectSame(await pool2.crossEntropy(p, y, { classes: C, reduction: 'sum' }), xe.crossEntropy(z, y, { classes: C, reduction: 'sum' }), 'sum');
    p.free();
  });

  it('C = 1 and C = 7 over several blocks, rows not divisible by the threads, weights, ignoreIndex, smoothing, sampleWeight', async () => {
    // chunkRows(1) = 65536 and chunkRows(7) = 9362 rows per block: 2 and 3 blocks over 3 workers.
    const n1 = 70_001;
    await expectIdentical(pool3, normal(n1, 2, 3), new Int32Array(n1), { classes: 1 });
    await expectIdentical(pool3, normal(n1, 2, 3), new Int32Array(n1), { classes: 1, labelSmoothing: 0.2, reduction: 'none' });
    const N = 20_001, C = 7;
    const z = normal(N * C, 4, 4), y = labels(N, C, 5);
    for (let r = 0; r < N; r += 13) y[r] = -1;
    const weight = uniform(C, 6, 0.5, 2), sampleWeight = uniform(N, 7, 0, 3);
    await expectIdentical(pool3, z, y, { classes: C, weight, ignoreIndex: -1, labelSmoothing: 0.1, sampleWeight });
    await expectIdentical(pool3, z, y, { classes: C, weight, ignoreIndex: -1, reduction: 'none', unit: 'bits' });
    await expectIdentical(pool3, z, Array.from(y, (v) => (v < 0 ? 0 : v)), { classes: C, reduction: 'sum', zLoss: 1e-3 });
  });

  it('spatial layout, soft targets, probabilities, log-probabilities, focal, soft cap', async () => {
    const N = 9, C = 7, S = 1500; // 13,500 rows: 2 blocks
    const z = normal(N * C * S, 2, 8);
    await expectIdentical(pool3, z, labels(N * S, C, 9), { classes: C, spatial: S, labelSmoothing: 0.05 });
    const R = 300, K = 1000; // 5 blocks of 65 rows
    const logits = normal(R * K, 3, 11), y = labels(R, K, 12), soft = probabilities(R, K, 13);
    await expectIdentical(pool3, logits, soft, { classes: K, labelSmoothing: 0.1, weight: uniform(K, 14, 0, 2) });
    await expectIdentical(pool3, logits, y, { classes: K, focal: { gamma: 2, alpha: 0.25 } });
    await expectIdentical(pool3, logits, soft, { classes: K, focal: { gamma: 1.5 }, reduction: 'none' });
    await expectIdentical(pool3, logits, y, { classes: K, softcap: 5 });
    await expectIdentical(pool3, logits, soft, { classes: K, softcap: 3, reduction: 'sum' });
    const probs = xe.softmax(logits, K);
    await expectIdentical(pool3, probs, y, { classes: K, from: 'probs', epsilon: 1e-6 });
    await expectIdentical(pool3, probs, soft, { classes: K, from: 'probs' });
    await expectIdentical(pool3, xe.logSoftmax(logits, K), y, { classes: K, from: 'logProbs', labelSmoothing: 0.3 });
  });

  it('spatial soft targets, W3-like rows (one row per block), no counted rows, empty input', async () => {
    const N = 4, C = 5, S = 3000;
    const z = normal(N * C * S, 2, 15), soft = new Float32Array(N * C * S);
    const p = probabilities(N * S, C, 16);
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) for (let c = 0; c < C; c++) soft[(n * C + c) * S + s] = p[(n * S + s) * C + c];
    await expectIdentical(pool3, z, soft, { classes: C, spatial: S });
    const K = 128_256;
    await expectIdentical(pool3, normal(7 * K, 3, 17), labels(7, K, 18), { classes: K });
    const ignored = new Int32Array(10).fill(-100);
    await expectIdentical(pool2, normal(10 * 3, 1, 19), ignored, { classes: 3 }); // NaN, as PyTorch
    expect(await pool2.crossEntropy(normal(30, 1, 19), ignored, { classes: 3 })).toBeNaN();
    await expectIdentical(pool2, normal(10 * 3, 1, 19), ignored, { classes: 3, onAllIgnored: 'zero' });
    await expectIdentical(pool2, new Float32Array(0), new Int32Array(0), { classes: 3 });
    await expectIdentical(pool2, new Float32Array(0), new Int32Array(0), { classes: 3, reduction: 'none' });
  });

  it('calls in flight at the same time', async () => {
    const C = 1000;
    const inputs = [0, 1, 2, 3].map((i) => ({ z: normal(200 * C, 2, 20 + i), y: labels(200, C, 30 + i) }));
    const results = await Promise.all(inputs.map(({ z, y }, i) => (i % 2
      ? pool2.crossEntropyWithGrad(z, y, { classes: C })
      : pool2.crossEntropy(z, y, { classes: C }).then((loss) => ({ loss, grad: null })))));
    results.forEach((r, i) => {
      const { z, y } = inputs[i];
      if (r.grad) {
        const one = xe.crossEntropyWithGrad(z, y, { classes: C });
        expectSame(r.loss, one.loss, `call ${i} loss`);
        expectSame(r.grad, one.grad, `call ${i} gradient`);
      } else {
        expectSame(r.loss, xe.crossEntropy(z, y, { classes: C }), `call ${i} loss`);
      }
    });
  });

  it('binary cross-entropy (W4-like): logits, probabilities, focal; every reduction; gradient', async () => {
    const n = 3 * 70_001; // classes 3: blocks of 65,535 elements, 4 of them
    const x = normal(n, 3, 40), t = uniform(n, 41), hard = bits(n, 42), p = uniform(n, 43);
    const weight = uniform(3, 44, 0.5, 2), posWeight = uniform(3, 45, 0.5, 3);
    const cases: [Float32Array, Float32Array | Uint8Array, object][] = [
      [x, t, {}],
      [x, hard, { classes: 3, weight, posWeight, labelSmoothing: 0.1, reduction: 'sum' }],
      [x, t, { classes: 3, reduction: 'none', unit: 'bits' }],
      [p, hard, { classes: 3, from: 'probs', epsilon: 1e-5, weight }],
      [x, hard, { classes: 3, focal: { gamma: 2, alpha: 0.25 } }],
      [p, t, { from: 'probs', focal: {}, reduction: 'none' }],
    ];
    for (const [input, target, options] of cases) {
      const what = JSON.stringify(options);
      expectSame(await pool3.binaryCrossEntropy(input, target, options), xe.binaryCrossEntropy(input, target, options), what);
      const one = xe.binaryCrossEntropyWithGrad(input, target, options);
      const got = await pool3.binaryCrossEntropyWithGrad(input, target, options);
      expectSame(got.loss, one.loss, `${what} with gradient`);
      expectSame(got.grad, one.grad, `${what} gradient`);
      // Resident input and target, read where they lie; a resident gradient, also in place.
      const ri = pool3.tensor(input), rt = pool3.tensor(target), rg = pool3.alloc(n);
      try {
        expectSame(await pool3.binaryCrossEntropy(ri, rt, options), xe.binaryCrossEntropy(input, target, options), `${what}, resident`);
        const resident = await pool3.binaryCrossEntropyWithGrad(ri, rt, { ...options, gradOut: rg });
        expectSame(resident.loss, one.loss, `${what}, resident with gradient`);
        expectSame(rg.array, one.grad, `${what}, resident gradOut`);
        expectSame((await pool3.binaryCrossEntropyWithGrad(ri, target, options)).grad, one.grad, `${what}, resident input`);
        await pool3.binaryCrossEntropyWithGrad(ri, rt, { ...options, gradOut: ri });
        expectSame(ri.array, one.grad, `${what}, in place`);
      } finally {
        ri.free(); rt.free(); rg.free();
      }
    }
    await expect(pool3.binaryCrossEntropy(x, t.subarray(1))).rejects.toThrow(RangeError);
  });

  it('refuses a bad binary target or probability with the one-thread message, writing nothing', async () => {
    const n = 150_001;
    const x = normal(n, 3, 46), t = uniform(n, 47), p = uniform(n, 48);
    const badT = t.slice(); badT[140_000] = NaN;
    const badP = p.slice(); badP[90_000] = 1.5;
    for (const [input, target, from] of [[x, badT, 'logits'], [badP, t, 'probs']] as const) {
      let message = '';
      try { xe.binaryCrossEntropy(input, target, { from }); } catch (error) { message = (error as Error).message; }
      expect(message).toMatch(/is not (in|a probability in) \[0, 1\]/);
      const gradOut = new Float32Array(n).fill(3);
      await expect(pool3.binaryCrossEntropyWithGrad(input, target, { from, gradOut })).rejects.toThrow(new RangeError(message));
      expect(gradOut.every((v) => v === 3), 'gradOut untouched').toBe(true);
      // Without a gradOut the workers scan their own blocks (src/pool/pool.ts), with the same result.
      await expect(pool3.binaryCrossEntropy(input, target, { from })).rejects.toThrow(new RangeError(message));
      await expect(pool3.binaryCrossEntropy(input, target, { from, reduction: 'none' })).rejects.toThrow(new RangeError(message));
      await expect(pool3.binaryCrossEntropyWithGrad(input, target, { from })).rejects.toThrow(new RangeError(message));
      const ri = pool3.tensor(input), rt = pool3.tensor(target), rg = pool3.tensor(gradOut);
      try {
        await expect(pool3.binaryCrossEntropy(ri, rt, { from })).rejects.toThrow(new RangeError(message));
        await expect(pool3.binaryCrossEntropyWithGrad(ri, rt, { from, gradOut: rg })).rejects.toThrow(new RangeError(message));
        expect(rg.array.every((v) => v === 3), 'resident gradOut untouched').toBe(true);
      } finally {
        ri.free(); rt.free(); rg.free();
      }
    }
    // The pool is unharmed.
    expectSame(await pool3.binaryCrossEntropy(x, t), xe.binaryCrossEntropy(x, t), 'after the refusals');
  });
});

describe('small calls', () => {
  it('run on the calling thread below inlineBelow (2^18 elements by default), with the same bits; larger calls reach the workers', async () => {
    const pool = await createPool({ threads: 2 });
    const INLINE_BELOW = pool.inlineBelow;
    expect(INLINE_BELOW).toBe(2 ** 18);
    try {
      // Armed workers fail the first job they receive: every small call below must not send one.
      await pool[failNext](0, 'throw');
      await pool[failNext](1, 'throw');
      const C = 1000, N = Math.floor((INLINE_BELOW - 1) / C); // 5 blocks of 65 rows
      await expectIdentical(pool, normal(N * C, 3, 70), labels(N, C, 71), { classes: C, labelSmoothing: 0.1 });
      await expectIdentical(pool, normal(N * C, 3, 70), probabilities(N, C, 72), { classes: C, softcap: 4 });
      const n = INLINE_BELOW - 1, x = normal(n, 3, 73), t = uniform(n, 74);
      expectSame(await pool.binaryCrossEntropy(x, t), xe.binaryCrossEntropy(x, t), 'binary, small');
      const one = xe.binaryCrossEntropyWithGrad(x, t, { reduction: 'none' });
      const got = await pool.binaryCrossEntropyWithGrad(x, t, { reduction: 'none' });
      expectSame(got.loss, one.loss, 'binary, small, per-element losses');
      expectSame(got.grad, one.grad, 'binary, small, gradient');
      const bad = t.slice();
      bad[n - 1] = 2;
      await expect(pool.binaryCrossEntropy(x, bad)).rejects.toThrow(new RangeError(`target[${n - 1}] = 2 is not in [0, 1]`));
      // From INLINE_BELOW elements on, the call goes to the workers (4 blocks: both), which fail as armed.
      const big = normal(INLINE_BELOW, 3, 75);
      await expect(pool.binaryCrossEntropy(big, uniform(INLINE_BELOW, 76))).rejects.toThrow(/^xentropy pool worker [01] failed: injected failure \(test\)$/);
    } finally {
      await pool.close();
    }
  });
});

describe('small calls, overlapping', () => {
  it('an inline call made while a large call is on the workers leaves both results intact', async () => {
    const pool = await createPool({ threads: 2 });
    try {
      const C = 1000, big = normal(400 * C, 3, 80), bigY = labels(400, C, 81);
      const small = normal(20 * C, 3, 82), smallY = labels(20, C, 83);
      const onWorkers = pool.crossEntropyWithGrad(big, bigY, { classes: C });
      const inline = pool.crossEntropyWithGrad(small, smallY, { classes: C, reduction: 'none' });
      const [b, s] = await Promise.all([onWorkers, inline]);
      const bOne = xe.crossEntropyWithGrad(big, bigY, { classes: C });
      const sOne = xe.crossEntropyWithGrad(small, smallY, { classes: C, reduction: 'none' });
      expectSame(b.loss, bOne.loss, 'large call, loss');
      expectSame(b.grad, bOne.grad, 'large call, gradient');
      expectSame(s.loss, sOne.loss, 'inline call, row losses');
      expectSame(s.grad, sOne.grad, 'inline call, gradient');
    } finally {
      await pool.close();
    }
  });
});

describe('bad input and failures', () => {
  const N = 260, C = 1000; // 4 blocks: both workers of pool2 take part
  const z = normal(N * C, 2, 50), y = labels(N, C, 51);

  it('refuses bad input before any worker runs, with the one-thread errors', async () => {
    // An armed failure would be spent by the first job that reaches worker 0.
    await pool2[failNext](0, 'throw');
    const bad = y.slice();
    bad[7] = C;
    const message = 'target[7] = 1000 is not a class index in [0, 1000) nor ignoreIndex = -100';
    expect(() => xe.crossEntropy(z, bad, { classes: C })).toThrow(new RangeError(message));
    await expect(pool2.crossEntropy(z, bad, { classes: C })).rejects.toThrow(new RangeError(message));
    await expect(pool2.crossEntropyWithGrad(z, y, { classes: 999 })).rejects.toThrow(RangeError);
    await expect(pool2.crossEntropy(z, y, { classes: C, bogus: 1 } as never)).rejects.toThrow(TypeError);
    await expect(pool2.crossEntropy(xe.tensor(z), y, { classes: C })).rejects.toThrow(/input is a resident buffer of another xentropy instance/);
    await expect(pool2.crossEntropyWithGrad(z, y, { classes: C, gradOut: xe.alloc(N * C) })).rejects.toThrow(/options.gradOut is a resident buffer of another/);
    expect(() => xe.crossEntropy(pool2.tensor(z), y, { classes: C })).toThrow(/another xentropy instance/);
    const freed = pool2.tensor(z);
    freed.free();
    await expect(pool2.crossEntropy(freed, y, { classes: C })).rejects.toThrow(/freed/);
    // The armed failure is still there: no bad call reached a worker.
    await expect(pool2.crossEntropy(z, y, { classes: C })).rejects.toThrow(/^xentropy pool worker 0 failed: injected failure \(test\)$/);
    expectSame(await pool2.crossEntropy(z, y, { classes: C }), xe.crossEntropy(z, y, { classes: C }), 'after the failure');
  });

  it.each([
    ['throw', /injected failure \(test\)/, 'Error'],
    ['trap', /memory access out of bounds/, 'RuntimeError'],
    ['crash', /injected crash \(test\)/, 'Error'],
    ['exit', /the worker exited with code 70/, 'Error'],
  ] as const)('a worker that fails (%s) rejects that call, naming the worker and the cause; the pool keeps serving', async (how, cause, name) => {
    await pool2[failNext](1, how);
    const failed = await pool2.crossEntropyWithGrad(z, y, { classes: C }).then(() => null, (error: unknown) => error);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/^xentropy pool worker 1 failed: /);
    expect((failed as Error).message).toMatch(cause);
    expect(((failed as Error).cause as Error).name).toBe(name);
    const expected = xe.crossEntropyWithGrad(z, y, { classes: C });
    for (let i = 0; i < 2; i++) {
      const again = await pool2.crossEntropyWithGrad(z, y, { classes: C });
      expectSame(again.loss, expected.loss, `loss after ${how}`);
      expectSame(again.grad, expected.grad, `gradient after ${how}`);
    }
  });
});

describe('close', () => {
  it('rejects calls in flight and every later call with a clear Error; resident buffers stay readable', async () => {
    const pool = await createPool({ threads: 2, inlineBelow: 0 }); // the call in flight is on a worker
    const z = normal(300 * 100, 2, 60), y = labels(300, 100, 61);
    const kept = pool.tensor(z);
    const inFlight = pool.crossEntropy(z, y, { classes: 100 }).then(() => null, (error: unknown) => error);
    await pool.close();
    const closed = 'this xentropy pool is closed; create a new one with createPool';
    expect(await inFlight).toEqual(new Error(closed));
    await expect(pool.crossEntropy(z, y, { classes: 100 })).rejects.toThrow(new Error(closed));
    await expect(pool.crossEntropyWithGrad(kept, y, { classes: 100 })).rejects.toThrow(new Error(closed));
    await expect(pool.binaryCrossEntropy(z, new Uint8Array(z.length))).rejects.toThrow(new Error(closed));
    expect(() => pool.alloc(4)).toThrow(new Error(closed));
    expect(() => pool.tensor([1])).toThrow(new Error(closed));
    expect(firstDifference(kept.array, z)).toBe(-1);
    await pool.close();
  });

  it('is not needed for a Node process to exit, and a call in flight keeps it alive until it settles', () => {
    const script = [
      `import { createPool } from ${JSON.stringify(new URL('dist/index.js', ROOT).href)};`,
      'const pool = await createPool({ threads: 2 });',
      'const z = new Float32Array(4096 * 1000).fill(1);',
      "pool.crossEntropy(z, new Int32Array(4096), { classes: 1000 }).then((loss) => console.log('loss', loss));",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    // Equal logits: the loss is log 1000 (relative error of the kernels' float32 sums, under 1e-6).
    const [word, value] = child.stdout.trim().split(' ');
    expect(word).toBe('loss');
    expect(Math.abs(Number(value) - Math.log(1000)) / Math.log(1000)).toBeLessThan(1e-6);
  });
});
