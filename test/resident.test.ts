// Resident buffers (xe.alloc / xe.tensor): zero-copy inputs and outputs that survive memory growth.

import { describe, expect, it } from 'vitest';
import { init, reference, Resident } from '../src/index.js';
import { normal, labels } from './helpers.js';

describe('resident buffers', () => {
  it('start as zeros or as a copy, and keep their values when memory grows', async () => {
    const xe = await init();
    const a = xe.alloc(5);
    expect(a).toBeInstanceOf(Resident);
    expect(Array.from(a.array)).toEqual([0, 0, 0, 0, 0]);
    const t = xe.tensor([1, 2, 3]);
    expect(Array.from(t.array)).toEqual([1, 2, 3]);
    const before = xe.driver.memoryBytes;
    const big = xe.alloc(4 << 20); // 16 MiB: memory must grow
    expect(xe.driver.memoryBytes).toBeGreaterThan(before);
    expect(Array.from(t.array)).toEqual([1, 2, 3]);
    big.free();
  });

  it('give results identical to plain arrays, as input, out and gradOut, and in place', async () => {
    const xe = await init();
    const C = 1000, N = 700; // three copy windows of 325 rows, blocks of 65
    const z = normal(N * C, 3, 1);
    const y = labels(N, C, 2);
    const zr = xe.tensor(z);
    const plain = xe.crossEntropyWithGrad(z, y, { classes: C, labelSmoothing: 0.1 });
    expect(xe.crossEntropy(zr, y, { classes: C, labelSmoothing: 0.1 })).toBe(plain.loss);
    const g = xe.alloc(N * C);
    const r = xe.crossEntropyWithGrad(zr, y, { classes: C, labelSmoothing: 0.1, gradOut: g });
    expect(r.loss).toBe(plain.loss);
    expect(Array.from(g.array)).toEqual(Array.from(plain.grad));
    expect(Array.from(zr.array)).toEqual(Array.from(z)); // the input was only read
    // Gradient over the input itself.
    const inPlace = xe.crossEntropyWithGrad(zr, y, { classes: C, labelSmoothing: 0.1, gradOut: zr });
    expect(inPlace.loss).toBe(plain.loss);
    expect(Array.from(zr.array)).toEqual(Array.from(plain.grad));
    // Plain input, resident gradient; resident input, plain gradient.
    const g2 = new Float32Array(N * C);
    xe.crossEntropyWithGrad(xe.tensor(z), y, { classes: C, labelSmoothing: 0.1, gradOut: g2 });
    expect(Array.from(g2)).toEqual(Array.from(plain.grad));
  });

  it('work with the row operations, with no scratch memory when both sides are resident', async () => {
    const xe = await init();
    const C = 77, N = 50;
    const z = normal(N * C, 2, 3);
    const zr = xe.tensor(z);
    for (const op of ['logSoftmax', 'softmax'] as const) {
      const expected = xe[op](z, C);
      expect(Array.from(xe[op](zr, C))).toEqual(Array.from(expected));
      const out = xe.alloc(N * C);
      const bytes = xe.driver.memoryBytes;
      expect(Array.from(xe[op](zr, C, out))).toEqual(Array.from(expected));
      expect(xe.driver.memoryBytes).toBe(bytes);
      const copy = xe.tensor(z);
      xe[op](copy, C, copy);
      expect(Array.from(copy.array)).toEqual(Array.from(expected));
    }
    const lse = xe.alloc(N);
    expect(Array.from(xe.logSumExp(zr, C, lse))).toEqual(Array.from(xe.logSumExp(z, C)));
  });

  it('take the copying path where the soft cap or the spatial layout needs it', async () => {
    const xe = await init();
    const N = 3, C = 4, S = 5;
    const z = normal(N * C * S, 2, 4);
    const y = labels(N * S, C, 5);
    for (const o of [{ classes: C, spatial: S }, { classes: C * S, softcap: 3 }]) {
      const t = o.spatial ? y : labels(N, C * S, 6);
      const plain = xe.crossEntropyWithGrad(z, t, o);
      const g = xe.alloc(z.length);
      const r = xe.crossEntropyWithGrad(xe.tensor(z), t, { ...o, gradOut: g });
      expect(r.loss).toBe(plain.loss);
      expect(Array.from(g.array)).toEqual(Array.from(plain.grad));
    }
  });

  it('are read where they lie by entropy, KL (gradOut too), JS and the scorer: results identical', async () => {
    const xe = await init();
    const C = 100, N = 7000; // three copy windows of 3275 rows (the last short), blocks of 655
    const zp = normal(N * C, 2, 3), zq = normal(N * C, 2, 4);
    const p = xe.softmax(zp, C), q = xe.softmax(zq, C), y = labels(N, C, 5);
    const [rp, rq, rzq] = [xe.tensor(p), xe.tensor(q), xe.tensor(zq)];
    const same = (a: number | Float32Array, b: number | Float32Array) =>
      expect(typeof a === 'number' ? a : Array.from(a)).toEqual(typeof b === 'number' ? b : Array.from(b));
    same(xe.entropy(rp, C), xe.entropy(p, C));
    same(xe.entropy(rzq, C, { from: 'logits', reduction: 'mean' }), xe.entropy(zq, C, { from: 'logits', reduction: 'mean' }));
    same(xe.jsDivergence(rp, rq, C), xe.jsDivergence(p, q, C));
    same(xe.jsDivergence(rp, q, C, { reduction: 'none' }), xe.jsDivergence(p, q, C, { reduction: 'none' }));
    same(xe.klDivergence(rp, rq, C), xe.klDivergence(p, q, C));
    for (const o of [{}, { from: 'logits' as const }]) {
      const qIn = o.from ? zq : q, rqIn = o.from ? rzq : rq;
      const plain = xe.klDivergenceWithGrad(p, qIn, C, o);
      const g = xe.alloc(N * C);
      const r = xe.klDivergenceWithGrad(rp, rqIn, C, { ...o, gradOut: g });
      same(r.loss, plain.loss);
      same(g.array, plain.grad);
      same(xe.klDivergenceWithGrad(p, rqIn, C, o).grad, plain.grad); // resident q, plain gradient
      const copy = xe.tensor(qIn);
      same(xe.klDivergenceWithGrad(rp, copy, C, { ...o, gradOut: copy }).loss, plain.loss); // in place
      same(copy.array, plain.grad);
      copy.free(); g.free();
    }
    const a = xe.scorer({ classes: C }).update(rzq, y).result();
    const b = xe.scorer({ classes: C }).update(zq, y).result();
    expect(a).toEqual(b);
    const other = await init();
    expect(() => other.entropy(rp, C)).toThrow(/^p is a resident buffer of another xentropy instance$/);
    expect(() => other.klDivergence(p, rq, C)).toThrow(/^q is a resident buffer of another xentropy instance$/);
    expect(() => other.scorer({ classes: C }).update(rzq, y)).toThrow(/^logits is a resident buffer of another xentropy instance$/);
    rp.free(); rq.free(); rzq.free();
  });

  it('are only read as inputs: every function leaves them bit for bit as they were', async () => {
    // jsDivergence from logits wrote each row's softmax over resident logits, and klDivergence with
    // logTarget wrote p = exp(log p) over a resident p: the kernels work on their inputs in place, so
    // those two are staged now. Every other input is checked too. C = 100, N = 7000: three windows.
    const xe = await init();
    const C = 100, N = 7000;
    const za = normal(N * C, 2, 11), zb = normal(N * C, 2, 12);
    const p = xe.softmax(za, C), q = xe.softmax(zb, C), logP = xe.logSoftmax(za, C), logQ = xe.logSoftmax(zb, C);
    const y = labels(N, C, 13);
    const bits = Float32Array.from(p, (v) => (v > 0.01 ? 1 : 0));
    const calls: [string, Float32Array[], (...r: Resident[]) => unknown][] = [
      ['jsDivergence, logits', [za, zb], (a, b) => xe.jsDivergence(a, b, C, { from: 'logits' })],
      ['jsDivergence, probs', [p, q], (a, b) => xe.jsDivergence(a, b, C)],
      ['klDivergence, logTarget', [logP, q], (a, b) => xe.klDivergence(a, b, C, { logTarget: true })],
      ['klDivergence, logTarget, logits', [logP, zb], (a, b) => xe.klDivergence(a, b, C, { logTarget: true, from: 'logits' })],
      ['klDivergenceWithGrad, logTarget, logits', [logP, zb],
        (a, b) => xe.klDivergenceWithGrad(a, b, C, { logTarget: true, from: 'logits' })],
      ['klDivergence, logTarget, logProbs', [logP, logQ], (a, b) => xe.klDivergence(a, b, C, { logTarget: true, from: 'logProbs' })],
      ['klDivergenceWithGrad, probs', [p, q], (a, b) => xe.klDivergenceWithGrad(a, b, C)],
      ['entropy, logits', [za], (a) => xe.entropy(a, C, { from: 'logits' })],
      ['entropy, probs', [p], (a) => xe.entropy(a, C)],
      ['crossEntropyWithGrad, soft targets, smoothing', [za], (a) => xe.crossEntropyWithGrad(a, q, { classes: C, labelSmoothing: 0.1 })],
      ['crossEntropyWithGrad, softcap', [za], (a) => xe.crossEntropyWithGrad(a, y, { classes: C, softcap: 3 })],
      ['crossEntropyWithGrad, focal', [za], (a) => xe.crossEntropyWithGrad(a, y, { classes: C, focal: {} })],
      ['crossEntropyWithGrad, probs', [p], (a) => xe.crossEntropyWithGrad(a, y, { classes: C, from: 'probs' })],
      ['crossEntropyWithGrad, logProbs', [logP], (a) => xe.crossEntropyWithGrad(a, y, { classes: C, from: 'logProbs' })],
      ['binaryCrossEntropyWithGrad, logits', [za, bits], (a, b) => xe.binaryCrossEntropyWithGrad(a, b, { classes: C })],
      ['binaryCrossEntropyWithGrad, probs, focal', [p, bits], (a, b) => xe.binaryCrossEntropyWithGrad(a, b, { from: 'probs', focal: {} })],
      ['softmax, logSoftmax, logSumExp', [za], (a) => [xe.softmax(a, C), xe.logSoftmax(a, C), xe.logSumExp(a, C)]],
      ['scorer', [za], (a) => xe.scorer({ classes: C }).update(a, y).result()],
    ];
    for (const [name, inputs, call] of calls) {
      const residents = inputs.map((v) => xe.tensor(v));
      call(...residents);
      residents.forEach((r, i) => {
        const now = new Uint32Array(r.array.buffer, r.array.byteOffset, r.length);
        const was = new Uint32Array(inputs[i].buffer, inputs[i].byteOffset, inputs[i].length);
        const at = now.findIndex((v, k) => v !== was[k]);
        if (at >= 0) expect.fail(`${name}: input ${i}[${at}] = ${r.array[at]}, was ${inputs[i][at]}`);
        r.free();
      });
    }
  });

  it('reuse freed memory, so alloc / free cycles do not grow it', async () => {
    const xe = await init();
    const keep = xe.alloc(10);
    const sizes = [1000, 3, 250000, 17, 64];
    for (const n of sizes) xe.alloc(n).free();
    const bytes = xe.driver.memoryBytes;
    for (let i = 0; i < 2000; i++) {
      const handles = sizes.map((n) => xe.alloc(n));
      for (const h of handles.reverse()) h.free();
    }
    expect(xe.driver.memoryBytes).toBe(bytes);
    expect(keep.array.length).toBe(10);
  });

  it('refuse use after free, double free, and buffers of another instance', async () => {
    const xe = await init();
    const other = await init();
    const z = xe.tensor(normal(12, 1, 7));
    const y = [0, 1, 2];
    const expected = xe.crossEntropy(z, y, { classes: 4 });
    const foreign = other.tensor(normal(12, 1, 7));
    expect(() => xe.crossEntropy(foreign, y, { classes: 4 })).toThrow(new TypeError('input is a resident buffer of another xentropy instance'));
    const gone = xe.tensor([1, 2, 3, 4]);
    gone.free();
    expect(() => gone.array).toThrow(TypeError);
    expect(() => gone.free()).toThrow(/was freed/);
    expect(() => xe.softmax(gone, 4)).toThrow(new TypeError('logits is a resident buffer that was freed'));
    expect(() => xe.alloc(-1)).toThrow(RangeError);
    expect(() => xe.alloc('3' as never)).toThrow(TypeError);
    expect(xe.crossEntropy(z, y, { classes: 4 })).toBe(expected);
  });

  it('of another copy of the library (a module system that loaded it twice) are refused as that, naming where to look', async () => {
    // The bundled package is a second copy beside src/: its Resident is another class.
    const copy = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof import('../src/index.js');
    const xe = await init();
    const theirs = (await copy.init()).tensor(normal(12, 1, 7));
    const message = /^input must be a Float32Array.*, got a Resident of another copy of xentropy \(.*"Test runners" in docs\/runtimes\.md\)$/;
    expect(() => xe.crossEntropy(theirs as never, [0, 1, 2], { classes: 4 })).toThrow(message);
    expect(() => xe.scorer({ classes: 4 }).update(theirs as never, [0, 1, 2])).toThrow(/got a Resident of another copy of xentropy/);
    // A look-alike with another name says what it is, as before.
    expect(() => xe.crossEntropy(new (class Tensorish {})() as never, [0], { classes: 4 })).toThrow(/got a Tensorish$/);
  });

  it('are read by the float64 reference too', async () => {
    const xe = await init();
    const z = normal(20, 1, 8);
    expect(reference.crossEntropy(xe.tensor(z) as never, [0, 1, 2, 3], { classes: 5 })).toBe(reference.crossEntropy(z, [0, 1, 2, 3], { classes: 5 }));
  });
});
