// Hostile and careless callers, for every public function: each argument and option is read once, from
// the array's own internal slots or the object's own properties, so that nothing can be one thing when
// checked and another when used. Subclassed typed arrays that lie about their length or contents,
// proxies and accessor elements that count their reads, option getters, properties on
// Object.prototype, labels in shared memory changed by another thread, labels reused before a pool
// call settles, and resizable buffers. Results must be those of plain arguments, bit for bit.

import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The pool's workers load dist/ (Node cannot start a worker from TypeScript source).
import { createPool } from '../dist/index.js';
import { initSync, reference, type Xentropy } from '../src/index.js';
import { bestBuild } from '../src/engine/builds.js';
import { expectSameBits, labels as drawLabels, normal, probabilities, uniform, wasmBackends } from './helpers.js';

const C = 7, N = 5;
const z = normal(N * C, 2, 1), x = normal(N * C, 2, 2), t = uniform(N * C, 3);
const p = probabilities(N, C, 4), q = probabilities(N, C, 5), soft = probabilities(N, C, 6);
const y = drawLabels(N, C, 7);
y[3] = 2; // the ignoreIndex below
const wc = uniform(C, 8, 0.5, 2), pw = uniform(C, 9, 0.5, 2), sw = uniform(N, 10, 0.5, 2);

/** How a case's arrays and options reach the function. */
interface Wrap {
  f32(a: Float32Array): Float32Array;
  labels(a: Int32Array): Int32Array | number[];
  options<T extends object>(o: T): T;
}

const plain: Wrap = { f32: (a) => a, labels: (a) => a, options: (o) => o };

type Api = Record<string, (...args: unknown[]) => unknown>;

/** Every public function with every array and option it reads. */
const CASES: [string, (xe: Api, w: Wrap) => unknown][] = [
  ['logSoftmax', (xe, w) => xe.logSoftmax(w.f32(z), C)],
  ['softmax', (xe, w) => xe.softmax(w.f32(z), C)],
  ['logSumExp', (xe, w) => xe.logSumExp(w.f32(z), C)],
  ['crossEntropy', (xe, w) => xe.crossEntropy(w.f32(z), w.labels(y), w.options({
    classes: C, weight: w.f32(wc), ignoreIndex: 2, labelSmoothing: 0.1, reduction: 'sum', sampleWeight: w.f32(sw),
  }))],
  ['crossEntropyWithGrad', (xe, w) => xe.crossEntropyWithGrad(w.f32(z), w.labels(y), w.options({
    classes: C, weight: w.f32(wc), ignoreIndex: 2, focal: w.options({ gamma: 1.5, alpha: 0.5 }), unit: 'bits',
  }))],
  ['crossEntropyWithGrad, soft targets', (xe, w) => xe.crossEntropyWithGrad(w.f32(z), w.f32(soft), w.options({
    classes: C, labelSmoothing: 0.2, zLoss: 1e-3, softcap: 5,
  }))],
  ['crossEntropyOver', (xe, w) => xe.crossEntropyOver?.(
    [w.options({ input: w.f32(z), target: w.labels(y), sampleWeight: w.f32(sw) })],
    w.options({ classes: C, ignoreIndex: 2, reduction: 'sum' }),
  )],
  ['binaryCrossEntropy', (xe, w) => xe.binaryCrossEntropy(w.f32(x), w.f32(t), w.options({
    classes: C, weight: w.f32(wc), posWeight: w.f32(pw), reduction: 'none',
  }))],
  ['binaryCrossEntropyWithGrad', (xe, w) => xe.binaryCrossEntropyWithGrad(w.f32(t), w.f32(t), w.options({
    classes: C, from: 'probs', epsilon: 1e-4, labelSmoothing: 0.1,
  }))],
  ['entropy', (xe, w) => xe.entropy(w.f32(p), C, w.options({ reduction: 'mean', unit: 'bits' }))],
  ['klDivergence', (xe, w) => xe.klDivergence(w.f32(p), w.f32(z), C, w.options({ from: 'logits', reduction: 'sum' }))],
  ['klDivergenceWithGrad', (xe, w) => xe.klDivergenceWithGrad(w.f32(p), w.f32(q), C, w.options({ epsilon: 1e-6 }))],
  ['jsDivergence', (xe, w) => xe.jsDivergence(w.f32(p), w.f32(q), C, w.options({ reduction: 'none' }))],
  ['perplexity', (xe, w) => xe.perplexity(w.f32(z), w.labels(y), w.options({
    classes: C, shift: true, sequenceLength: N, attentionMask: [1, 1, 0, 1, 1],
  }))],
];

/** Every number a result holds, in order, as float64. */
function flatten(result: unknown): Float64Array {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'number') out.push(v);
    else if (ArrayBuffer.isView(v)) out.push(...(v as unknown as ArrayLike<number>) as unknown as number[]);
    else if (v && typeof v === 'object') for (const key of Object.keys(v).sort()) walk((v as Record<string, unknown>)[key]);
  };
  walk(result);
  return Float64Array.from(out);
}

const BACKENDS: [string, Api][] = [
  ['reference', reference as unknown as Api],
  ...wasmBackends.map(([name, xe]) => [name, xe as unknown as Api] as [string, Api]),
];

/** The cases each backend has (the reference has no crossEntropyOver). */
const RUNS = BACKENDS.flatMap(([backend, xe]) => CASES
  .filter(([name]) => typeof xe[name.split(',')[0]] === 'function')
  .map(([name, call]) => [`${backend}: ${name}`, xe, call] as const));

/** A Float32Array whose own methods and length lie: xentropy must read it through its internal slots. */
class LyingFloat32Array extends Float32Array {
  override get length(): number {
    return 1;
  }
  override subarray(): Float32Array<ArrayBuffer> {
    return new Float32Array(this.buffer.byteLength / 4).fill(1e30);
  }
  override slice(): Float32Array<ArrayBuffer> {
    return new Float32Array(1);
  }
}

/** An Int32Array of labels whose methods and length lie, offering out-of-range labels. */
class LyingInt32Array extends Int32Array {
  override get length(): number {
    return 1;
  }
  override subarray(): Int32Array<ArrayBuffer> {
    return new Int32Array(this.buffer.byteLength / 4).fill(1 << 30);
  }
  override slice(): Int32Array<ArrayBuffer> {
    return new Int32Array(1).fill(1 << 30);
  }
}

describe('each argument is read once, through its own slots', () => {
  it.each(RUNS)('%s: subclassed typed arrays that lie give the plain result', (_name, xe, call) => {
    const lying: Wrap = {
      f32: (a) => new LyingFloat32Array(a),
      labels: (a) => new LyingInt32Array(a),
      options: (o) => o,
    };
    expectSameBits(flatten(call(xe, lying)), flatten(call(xe, plain)));
  });

  it.each(RUNS)('%s: labels in a Proxy and accessor elements are read once each', (_name, xe, call) => {
    const reads = new Map<PropertyKey, number>();
    const proxied: Wrap = {
      ...plain,
      labels: (a) => {
        // Element r: a getter that counts, and answers an out-of-range label from its second read on.
        const target = Array.from(a);
        for (let r = 0; r < a.length; r++) {
          Object.defineProperty(target, r, {
            enumerable: true,
            get: () => {
              const n = (reads.get(`e${r}`) ?? 0) + 1;
              reads.set(`e${r}`, n);
              return n === 1 ? a[r] : 1 << 30;
            },
          });
        }
        return new Proxy(target, {
          get(obj, key, receiver) {
            reads.set(key, (reads.get(key) ?? 0) + 1);
            return Reflect.get(obj, key, receiver);
          },
        });
      },
    };
    const got = flatten(call(xe, proxied));
    for (const [key, n] of reads) {
      if (typeof key === 'string' && (/^e?\d+$/.test(key) || key === 'length')) expect(n, `reads of ${key}`).toBeLessThanOrEqual(1);
    }
    expectSameBits(got, flatten(call(xe, plain)));
  });

  it.each(RUNS)('%s: option getters run once each', (_name, xe, call) => {
    const reads = new Map<string, number>();
    const getters: Wrap = {
      ...plain,
      options: (o) => {
        const out = {};
        for (const [key, value] of Object.entries(o)) {
          Object.defineProperty(out, key, {
            enumerable: true,
            get: () => {
              const n = (reads.get(key) ?? 0) + 1;
              reads.set(key, n);
              // A second read would see something else: a 1-element array, or an invalid value.
              return n === 1 ? value : ArrayBuffer.isView(value) ? new Float32Array(1) : undefined;
            },
          });
        }
        return out as typeof o;
      },
    };
    const got = flatten(call(xe, getters));
    for (const [key, n] of reads) expect(n, `reads of option ${key}`).toBe(1);
    expectSameBits(got, flatten(call(xe, plain)));
  });

  it('tensor() reads each value once, before it touches memory', () => {
    for (const [name, xe] of wasmBackends) {
      const reads = new Map<PropertyKey, number>();
      const values = new Proxy(Array.from(z), {
        get(obj, key, receiver) {
          reads.set(key, (reads.get(key) ?? 0) + 1);
          return Reflect.get(obj, key, receiver);
        },
      });
      const resident = xe.tensor(values);
      for (const [key, n] of reads) if (typeof key === 'string' && /^\d+$|^length$/.test(key)) expect(n, `${name}: reads of ${key}`).toBe(1);
      expectSameBits(resident.array, z);
      resident.free();
    }
  });

  it('a Proxy of a resident buffer is no resident buffer: a TypeError naming the argument', () => {
    for (const [name, xe] of wasmBackends) {
      const resident = xe.tensor(z);
      const proxy = new Proxy(resident, {});
      expect(() => xe.softmax(proxy as never, C), name).toThrow(/logits must be a Float32Array/);
      expect(() => xe.crossEntropyWithGrad(z, y, { classes: C, gradOut: proxy as never }), name).toThrow(/options\.gradOut must be a Float32Array/);
      resident.free();
    }
  });

  it('options.gradOut read once: a getter cannot hand one buffer to the check and another to the kernel', () => {
    for (const [name, xe] of wasmBackends) {
      const right = new Float32Array(N * C), small = new Float32Array(1);
      let n = 0;
      const options = { classes: C, get gradOut() { return n++ === 0 ? right : small; } };
      const got = xe.crossEntropyWithGrad(z, y, options as { classes: number; gradOut: Float32Array });
      expect(n, name).toBe(1);
      expect(got.grad, name).toBe(right);
      expectSameBits(right, xe.crossEntropyWithGrad(z, y, { classes: C }).grad, name);
    }
  });
});

describe('options come from own properties only', () => {
  /** Inherited values that would change every result, capture a gradient or fail a call. */
  const junkGrad = new Float32Array(N * C).fill(42);
  const POLLUTION: Record<string, unknown> = {
    reduction: 'sum', ignoreIndex: 0, weight: new Float32Array(C).fill(3), posWeight: new Float32Array(C).fill(3),
    gradOut: junkGrad, labelSmoothing: 0.5, unit: 'bits', epsilon: 0.25, spatial: 5, sampleWeight: new Float32Array(N).fill(2),
    zLoss: 1, softcap: 0.5, focal: { gamma: 3 }, logTarget: true, onAllIgnored: 'zero', gamma: 4, alpha: 0.9,
    classes: 3, from: 'logProbs', input: new Float32Array(3), target: new Int32Array(1), module: 'file:///nonexistent.wasm',
    build: 'scalar', threads: 300, inlineBelow: -1,
  };

  /** Runs `body` with POLLUTION on Object.prototype, synchronously, and always cleans up. */
  function polluted<T>(body: () => T): T {
    const proto = Object.prototype as Record<string, unknown>;
    for (const [key, value] of Object.entries(POLLUTION)) {
      Object.defineProperty(proto, key, { value, configurable: true, writable: true, enumerable: false });
    }
    try {
      return body();
    } finally {
      for (const key of Object.keys(POLLUTION)) delete proto[key];
    }
  }

  it.each(RUNS)('%s: properties on Object.prototype change nothing', (_name, xe, call) => {
    const expected = flatten(call(xe, plain));
    const got = polluted(() => {
      try {
        return flatten(call(xe, plain));
      } catch (error) {
        return error as Error;
      }
    });
    expect(got).toBeInstanceOf(Float64Array);
    expectSameBits(got, expected);
    expect(junkGrad.every((v) => v === 42)).toBe(true);
  });

  it('initSync: an inherited module or build chooses nothing', () => {
    const xe = polluted(() => initSync());
    expect(xe.features.build).toBe(bestBuild());
  });

  it('createPool: inherited threads or inlineBelow are not options', async () => {
    const pending = polluted(() => createPool({ threads: 1 }));
    const pool = await pending;
    try {
      expect(pool.threads).toBe(1);
      expect(pool.inlineBelow).toBe(2 ** 18);
    } finally {
      await pool.close();
    }
  });
});

describe('labels that change under a call', () => {
  let pool: Awaited<ReturnType<typeof createPool>>;
  beforeAll(async () => {
    pool = await createPool({ threads: 2, inlineBelow: 0 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('the pool copies labels when called: changing them before the call settles changes nothing', async () => {
    const rows = 3000, classes = 100;
    const logits = normal(rows * classes, 2, 11), labels = drawLabels(rows, classes, 12);
    const expected = await pool.crossEntropyWithGrad(logits, labels, { classes, reduction: 'none' });
    const mine = Int32Array.from(labels);
    const call = pool.crossEntropyWithGrad(logits, mine, { classes, reduction: 'none' });
    mine.fill(1 << 30); // out of range: the workers must never see it
    const got = await call;
    expectSameBits(got.loss, expected.loss);
    expectSameBits(got.grad, expected.grad);
  });

  it('labels in a SharedArrayBuffer flipped by another thread never reach a kernel out of range', async () => {
    const xe = wasmBackends[0][1] as Xentropy;
    const rows = 64, classes = 16;
    const shared = new Int32Array(new SharedArrayBuffer(rows * 4));
    const flipper = new Worker(
      `const { workerData } = require('node:worker_threads');
       const a = new Int32Array(workerData.buffer), stop = new Int32Array(workerData.stop);
       for (let i = 0; Atomics.load(stop, 0) === 0; i++) for (let r = 0; r < a.length; r++) Atomics.store(a, r, i % 2 ? 1000 : r % 16);`,
      { eval: true, workerData: { buffer: shared.buffer, stop: (globalThis as { stopBuffer?: SharedArrayBuffer }).stopBuffer ??= new SharedArrayBuffer(4) } },
    );
    const stop = new Int32Array((globalThis as { stopBuffer?: SharedArrayBuffer }).stopBuffer!);
    const logits = normal(rows * classes, 2, 13);
    const grad = xe.alloc(rows * classes), canary = xe.alloc(4096);
    canary.array.fill(7);
    let computed = 0, refused = 0;
    try {
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) {
        try {
          const r = xe.crossEntropyWithGrad(logits, shared, { classes, gradOut: grad });
          expect(Number.isFinite(r.loss)).toBe(true);
          computed++;
        } catch (error) {
          // A label caught out of range by the check is a RangeError; a kernel must never trap.
          expect(error).toBeInstanceOf(RangeError);
          refused++;
        }
      }
    } finally {
      Atomics.store(stop, 0, 1);
      await flipper.terminate();
    }
    expect(computed + refused).toBeGreaterThan(0);
    expect(canary.array.every((v) => v === 7)).toBe(true);
  });
});

describe('resizable buffers', () => {
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
  it.each(RUNS)('%s: an input on a resizable ArrayBuffer is refused with a TypeError naming it', (_name, xe, call) => {
    const resizable: Wrap = {
      ...plain,
      f32: (a) => {
        const view = new Float32Array(new Resizable(a.byteLength, { maxByteLength: a.byteLength * 2 }));
        view.set(a);
        return view;
      },
    };
    expect(() => call(xe, resizable)).toThrow(/resizable ArrayBuffer/);
    expect(() => call(xe, resizable)).toThrow(TypeError);
  });
});
