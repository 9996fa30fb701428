// The scorer's state and its inputs as hostile or unusual values (issue 24, defects 2 to 4):
// non-finite sums through state(), JSON, fromState and merge; forged (inconsistent) states; options,
// states and labels read from own properties, once, whatever getters, Proxies, subclasses, shared or
// resizable buffers and a polluted Object.prototype do. The kernel is spied on: it must never be handed
// a label outside [0, classes) other than ignoreIndex, nor (from 'probs') a value the check refused.

import { Worker } from 'node:worker_threads';
import { beforeEach, describe, expect, it } from 'vitest';
import { init, QUANTILE_SLOTS, reference, Scorer, type ScoreResult, type ScorerOptions, type ScorerState } from '../src/index.js';
import { labels as randomLabels, normal } from './helpers.js';

const xe = await init({ build: 'simd' });

/** What the spied kernel was handed that it must never see. */
const bad: string[] = [];
{
  type ScoreRows = (
    input: number, labels: number, rows: number, cols: number, ignoreIndex: number, from: number, eps: number,
    state: number, topK: number, bins: number, losses: number, classCounts: number, confusion: number,
  ) => number;
  const driver = xe.driver as unknown as { kernels: { memory: WebAssembly.Memory; scoreRows: ScoreRows } };
  const kernels = driver.kernels;
  const scoreRows: ScoreRows = (input, labels, rows, cols, ignoreIndex, from, eps, state, topK, bins, losses, classCounts, confusion) => {
    const y = new Int32Array(kernels.memory.buffer, labels, rows);
    for (let r = 0; r < rows; r++) {
      if (y[r] !== ignoreIndex && !(y[r] >= 0 && y[r] < cols)) bad.push(`label ${y[r]} (classes ${cols})`);
    }
    if (from === 1) {
      const z = new Float32Array(kernels.memory.buffer, input, rows * cols);
      // What the check lets through: [0, 1] and 4 float32 ulps either side (read as clipped).
      for (let i = 0; i < z.length; i++) if (!(z[i] >= -(2 ** -22) && z[i] <= 1 + 2 ** -21)) bad.push(`probability ${z[i]}`);
    }
    return kernels.scoreRows(input, labels, rows, cols, ignoreIndex, from, eps, state, topK, bins, losses, classCounts, confusion);
  };
  driver.kernels = Object.create(kernels, { scoreRows: { value: scoreRows } });
}
beforeEach(() => {
  bad.length = 0;
});

/** Runs f with the given properties set on Object.prototype (or another prototype), then restores it. */
function polluted<T>(props: Record<PropertyKey, unknown>, f: () => T, target: object = Object.prototype): { value?: T; error?: unknown } {
  const keys = Reflect.ownKeys(props);
  const saved = keys.map((key) => [key, Object.getOwnPropertyDescriptor(target, key)] as const);
  try {
    for (const key of keys) (target as Record<PropertyKey, unknown>)[key] = props[key];
    try {
      return { value: f() };
    } catch (error) {
      return { error };
    }
  } finally {
    for (const [key, d] of saved) {
      if (d) Object.defineProperty(target, key, d);
      else delete (target as Record<PropertyKey, unknown>)[key];
    }
  }
}

/** A resizable ArrayBuffer (ES2024; the TypeScript lib here is ES2022). */
function resizableBuffer(bytes: number, maxByteLength: number): ArrayBuffer & { resize(bytes: number): void } {
  const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };
  return new Ctor(bytes, { maxByteLength });
}

/** A copy of values with a hole at index 1. */
function holey(values: number[]): number[] {
  const out = [...values];
  delete out[1];
  return out;
}

/** A state as another process would read it. */
function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A mutable copy of a state, for forging. */
type Forged = Record<string, unknown> & { [K in keyof ScorerState]: ScorerState[K] };
function forge(state: ScorerState, edit: (s: Forged) => void): ScorerState {
  const s = viaJson(state) as Forged;
  edit(s);
  return s as unknown as ScorerState;
}

/** The bits of every number in a JSON-like value, in order (so +0 and -0 or two NaNs differ). */
function numberBits(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'number') {
    const f = new Float64Array([value]);
    out.push(new BigUint64Array(f.buffer)[0].toString(16));
  } else if (Array.isArray(value)) for (const v of value) numberBits(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) numberBits(v, out);
  return out;
}

const C = 4;
const opts: ScorerOptions = { classes: C, topK: [1, 2], bins: 5 };
const z = normal(40 * C, 2, 31);
const y = randomLabels(40, C, 32);
/** Row 0 masks its true class (-inf logit): its loss is +inf. */
const masked = new Float32Array([1, -Infinity, 2, 0]);
/** A NaN logit: loss, Brier term and confidence NaN (the confidence goes to bin 0). */
const nanRow = new Float32Array([1, NaN, 2, 0]);

describe('scorer state: non-finite sums survive state(), JSON, fromState and merge', () => {
  it('keeps a +Infinity loss: state() encodes it as "Infinity", and fromState and merge reproduce it', () => {
    const inf = xe.scorer(opts).update(masked, [1]);
    const whole = xe.scorer(opts).update(z, y).update(masked, [1]).result();
    expect(whole.lossNats).toBe(Infinity);
    const state = inf.state();
    expect(state.loss[0]).toBe('Infinity');
    // JSON-safe: the text carries the value, and reads back as the same object.
    expect(viaJson(state)).toEqual(state);
    expect(JSON.stringify(state)).toContain('"loss":["Infinity",0]');
    expect(xe.scorerFromState(viaJson(state)).result().lossNats).toBe(Infinity);
    expect(Scorer.fromState(xe, viaJson(state)).state()).toEqual(state);
    // Merged as a scorer, as a state, and through JSON on both sides: one scorer fed everything.
    expect(xe.scorer(opts).update(z, y).merge(inf).result()).toEqual(whole);
    expect(xe.scorer(opts).update(z, y).merge(viaJson(state)).result()).toEqual(whole);
    expect(xe.scorerFromState(viaJson(xe.scorer(opts).update(z, y).state())).merge(viaJson(state)).result()).toEqual(whole);
    // In the other order the infinite loss still wins.
    expect(xe.scorerFromState(viaJson(state)).merge(xe.scorer(opts).update(z, y)).result().lossNats).toBe(Infinity);
  });

  it('keeps NaN in the loss, the Brier sum and bin 0 through JSON and merge', () => {
    const nan = xe.scorer(opts).update(nanRow, [2]);
    const whole = xe.scorer(opts).update(z, y).update(nanRow, [2]).result();
    expect(whole.lossNats).toBeNaN();
    expect(whole.brier).toBeNaN();
    const state = nan.state();
    expect(state.loss[0]).toBe('NaN');
    expect(state.brier[0]).toBe('NaN');
    expect(state.binConf[0]).toBe('NaN');
    expect(viaJson(state)).toEqual(state);
    expect(xe.scorer(opts).update(z, y).merge(nan).result()).toEqual(whole);
    expect(xe.scorer(opts).update(z, y).merge(viaJson(state)).result()).toEqual(whole);
    expect(xe.scorerFromState(viaJson(state)).result()).toEqual(nan.result());
  });

  it('merges shards with infinite and NaN losses in any order as one scorer fed everything', () => {
    const parts: [Float32Array, number[]][] = [
      [z.subarray(0, 10 * C), Array.from(y.subarray(0, 10))], [masked, [1]], [z.subarray(10 * C), Array.from(y.subarray(10))],
    ];
    const whole = xe.scorer(opts);
    for (const [zz, yy] of parts) whole.update(zz, yy);
    const states = parts.map(([zz, yy]) => viaJson(xe.scorer(opts).update(zz, yy).state()));
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]]) {
      const m = xe.scorer(opts);
      for (const i of order) m.merge(i === 1 ? xe.scorerFromState(states[i]) : states[i]);
      const r = m.result();
      expect(r.lossNats).toBe(Infinity);
      expect(r.count).toBe(whole.result().count);
      expect(r.topK).toEqual(whole.result().topK);
      expect(Math.abs(r.brier - whole.result().brier)).toBeLessThanOrEqual(1e-12 * whole.result().brier);
    }
    const withNaN = xe.scorer(opts).merge(states[0]).merge(viaJson(xe.scorer(opts).update(nanRow, [0]).state())).merge(states[1]);
    expect(withNaN.result().lossNats).toBeNaN();
  });

  it('reads non-finite values as numbers or as the strings "Infinity", "-Infinity" and "NaN"; refuses null', () => {
    const state = xe.scorer(opts).update(masked, [1]).state();
    // A state passed without JSON (structured clone keeps Infinity) is read as well.
    const raw = forge(state, (s) => { s.loss = [Infinity, 0]; });
    expect(xe.scorerFromState(structuredClone(raw)).state()).toEqual(state);
    expect(xe.scorerFromState(raw).result().lossNats).toBe(Infinity);
    // null, which JSON makes of Infinity and NaN alike, says nothing: refused, naming the field.
    const nulled = forge(state, (s) => { (s.loss as unknown[])[0] = null; });
    expect(() => xe.scorerFromState(nulled)).toThrow(TypeError);
    expect(() => xe.scorerFromState(nulled)).toThrow(/state\.loss\[0\] .*null/);
    expect(() => xe.scorer(opts).merge(nulled)).toThrow(/other\.loss\[0\] .*null/);
    expect(() => xe.scorerFromState(forge(state, (s) => { (s.loss as unknown[])[0] = 'Inf'; }))).toThrow(
      /state\.loss\[0\] must be a number or one of "Infinity", "-Infinity", "NaN", got "Inf"/,
    );
  });

  it('round-trips a finite state bit for bit through JSON (and keeps its JSON text)', () => {
    const classes = 9;
    const zz = normal(500 * classes, 3, 41);
    const yy = randomLabels(500, classes, 42);
    for (let r = 3; r < 500; r += 17) yy[r] = -100;
    const s = xe.scorer({ classes, topK: [1, 3, 8], bins: 12, unit: 'bits' });
    for (let r0 = 0; r0 < 500; r0 += 123) s.update(zz.subarray(r0 * classes, Math.min(500, r0 + 123) * classes), yy.subarray(r0, r0 + 123), 77);
    const state = s.state();
    const json = JSON.stringify(state);
    const back = xe.scorerFromState(JSON.parse(json));
    expect(numberBits(back.state())).toEqual(numberBits(state));
    expect(JSON.stringify(back.state())).toBe(json);
    expect(back.result()).toEqual(s.result());
    // A probabilities scorer keeps its epsilon.
    const p = xe.scorer({ classes: 3, from: 'probs', epsilon: 1e-3 }).update(new Float32Array([0.2, 0.3, 0.5]), [2]);
    expect(numberBits(xe.scorerFromState(viaJson(p.state())).state())).toEqual(numberBits(p.state()));
  });

  it('accepts the state of every kind of genuine scorer (random and extreme inputs, every form)', () => {
    const forms: [ScorerOptions['from'], Float32Array][] = [
      ['logits', Float32Array.from(normal(300 * 5, 40, 51), (v, i) => (i % 37 === 0 ? -Infinity : i % 41 === 0 ? 3e38 : v))],
      ['probs', Float32Array.from({ length: 300 * 5 }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? 1 : (i * 0.618) % 1))],
      ['logProbs', Float32Array.from({ length: 300 * 5 }, (_, i) => (i % 9 === 0 ? -Infinity : i % 13 === 0 ? -0 : -((i * 0.37) % 30)))],
    ];
    const yy = randomLabels(300, 5, 52);
    for (const [from, input] of forms) {
      for (const bins of [1, 7, 15]) {
        const s = xe.scorer({ classes: 5, topK: [1, 2, 4], bins, from }).update(input, yy, 1000);
        const back = xe.scorerFromState(viaJson(s.state()));
        expect(back.result()).toEqual(s.result());
        expect(xe.scorer({ classes: 5, topK: [1, 2, 4], bins, from }).merge(viaJson(s.state())).merge(s).count).toBe(600);
      }
    }
  });
});

describe('scorer state: inconsistent (forged) states are refused, naming the field and the value', () => {
  // 12 rows of 4 classes; top-1 and top-2 hits differ, and several bins are empty. A k of 4 (every
  // row a hit) as scorers wrote before options refused k >= classes: their states still read.
  const withK4 = (st: ScorerState) => forge(st, (s) => { s.topK.push(4); s.topKHits.push(s.count); });
  const base = xe.scorer({ classes: 4, topK: [1, 2], bins: 10 }).update(z.subarray(0, 12 * 4), y.subarray(0, 12), 30);
  const state = withK4(base.state());
  const empty = withK4(xe.scorer({ classes: 4, topK: [1, 2], bins: 10 }).state());
  const n = state.count;
  const filled = state.binCount.findIndex((c) => c > 0);
  const hollow = state.binCount.indexOf(0);
  const lastFilled = state.binCount.length - 1 - [...state.binCount].reverse().findIndex((c) => c > 0);

  it('has the shape these cases assume', () => {
    expect(n).toBe(12);
    expect(state.correct).toBeGreaterThan(0);
    expect(state.topKHits[0]).toBeLessThan(state.topKHits[1]);
    expect(state.topKHits[2]).toBe(n);
    expect(hollow).toBeGreaterThanOrEqual(0);
    expect(lastFilled).toBeGreaterThan(0);
  });

  const cases: [string, () => ScorerState, ErrorConstructor, RegExp][] = [
    ['correct > count', () => forge(state, (s) => { s.correct = n + 1; }), RangeError, /\.correct = 13 exceeds \w+\.count = 12/],
    ['a top-k hit count > count', () => forge(state, (s) => { s.topKHits[1] = n + 1; }), RangeError, /\.topKHits\[1\] = 13 exceeds \w+\.count = 12/],
    ['fewer top-k hits than correct rows', () => forge(state, (s) => { s.topKHits[0] = s.correct - 1; }), RangeError, /\.topKHits\[0\] = \d+ is less than \w+\.correct/],
    ['top-k hits decreasing in k', () => forge(state, (s) => { [s.topKHits[0], s.topKHits[1]] = [s.topKHits[1], s.topKHits[0]]; }), RangeError, /\.topKHits\[1\] = \d+ \(k = 2\) is less than \w+\.topKHits\[0\]/],
    ['k >= classes but not every row a hit', () => forge(state, (s) => { s.topKHits[2] = n - 1; }), RangeError, /\.topKHits\[2\] = 11 \(k = 4\) must equal \w+\.count = 12/],
    ['bin counts that do not sum to count', () => forge(state, (s) => { s.binCount[hollow] = 1; }), RangeError, /\.binCount sums to 13, not \w+\.count = 12/],
    ['a negative bin count', () => forge(state, (s) => { s.binCount[0] = -1; }), RangeError, /\.binCount\[0\] = -1 is not a count/],
    ['a fractional bin count', () => forge(state, (s) => { s.binCount[0] = 0.5; }), RangeError, /\.binCount\[0\] = 0.5 is not a count/],
    ['a bin with more correct rows than rows', () => forge(state, (s) => { s.binCorrect[filled] = s.binCount[filled] + 1; }), RangeError, /\.binCorrect\[\d+\] = \d+ exceeds \w+\.binCount\[\d+\]/],
    ['bin correct counts that do not sum to correct', () => forge(state, (s) => { s.correct -= 1; s.topKHits[0] -= 1; }), RangeError, /\.binCorrect sums to \d+, not \w+\.correct = \d+/],
    ['count 0 with a loss', () => forge(empty, (s) => { s.loss = [0.5, 0]; }), RangeError, /\.loss\[0\] = 0.5 must be 0 when \w+\.count = 0/],
    ['count 0 with a Brier sum', () => forge(empty, (s) => { s.brier = [0, 1e-17]; }), RangeError, /\.brier\[1\] = 1e-17 must be 0 when \w+\.count = 0/],
    ['count 0 with an infinite loss', () => forge(empty, (s) => { s.loss = ['Infinity', 0]; }), RangeError, /\.loss\[0\] = Infinity must be 0 when \w+\.count = 0/],
    ['an empty bin with a confidence', () => forge(state, (s) => { s.binConf[hollow] = 0.25; }), RangeError, /\.binConf\[\d+\] = 0.25 must be 0 when \w+\.binCount\[\d+\] = 0/],
    ['more rows without bytes than rows', () => forge(state, (s) => { s.rowsWithoutBytes = n + 1; }), RangeError, /\.rowsWithoutBytes = 13 exceeds \w+\.count = 12/],
    ['a negative loss sum', () => forge(state, (s) => { s.loss = [-1, 0]; }), RangeError, /\.loss\[0\] = -1 /],
    ['a loss of -Infinity', () => forge(state, (s) => { s.loss = ['-Infinity', 0]; }), RangeError, /\.loss\[0\] = -Infinity /],
    ['a negative Brier sum', () => forge(state, (s) => { s.brier = [-0.5, 0]; }), RangeError, /\.brier\[0\] = -0.5 /],
    ['an infinite Brier sum', () => forge(state, (s) => { s.brier = ['Infinity', 0]; }), RangeError, /\.brier\[0\] = Infinity /],
    ['NaN confidences outside bin 0', () => forge(state, (s) => { s.binConf[lastFilled] = 'NaN'; }), RangeError, /\.binConf\[\d+\] = NaN /],
    ['a negative confidence sum', () => forge(state, (s) => { s.binConf[filled] = -0.5; }), RangeError, /\.binConf\[\d+\] = -0.5 /],
    ['an infinite compensation', () => forge(state, (s) => { s.loss = [s.loss[0], 'Infinity']; }), RangeError, /\.loss\[1\] = Infinity /],
    ['a NaN compensation', () => forge(state, (s) => { s.binConfComp[filled] = 'NaN'; }), RangeError, /\.binConfComp\[\d+\] = NaN /],
    ['epsilon outside from: probs', () => forge(state, (s) => { s.epsilon = 0.1; }), RangeError, /\.epsilon = 0.1 must be 0 when \w+\.from is 'logits'/],
    ['infinite bytes', () => forge(state, (s) => { (s as Record<string, unknown>).bytes = 'Infinity'; }), TypeError, /\.bytes must be a number/],
    ['a string count', () => forge(state, (s) => { (s as Record<string, unknown>).count = '12'; }), TypeError, /\.count must be a number, got "12"/],
    ['a string in the loss', () => forge(state, (s) => { (s.loss as unknown[])[0] = '1.5'; }), TypeError, /\.loss\[0\] must be a number or one of/],
    ['an object for an array', () => forge(state, (s) => { (s as Record<string, unknown>).topKHits = { 0: 1, 1: 2, 2: 3, length: 3 }; }), TypeError, /\.topKHits must be an array/],
    ['a hole in an array', () => forge(state, (s) => { delete (s.binCount as unknown[])[filled]; }), TypeError, /\.binCount\[\d+\] must be a number, got undefined/],
    ['a missing field', () => forge(state, (s) => { delete (s as Record<string, unknown>).unit; }), TypeError, /\.unit is missing/],
    ['a missing topK', () => forge(state, (s) => { delete (s as Record<string, unknown>).topK; }), TypeError, /\.topK is missing/],
  ];

  it.each(cases)('refuses %s in fromState and merge, and merges nothing', (_what, make, type, message) => {
    const forged = make();
    expect(() => xe.scorerFromState(forged)).toThrow(type);
    expect(() => xe.scorerFromState(forged)).toThrow(message);
    expect(() => xe.scorerFromState(forged)).toThrow(/^state\./);
    const target = xe.scorerFromState(empty).update(z.subarray(0, 8), [0, 1]);
    const before = target.state();
    expect(() => target.merge(forged)).toThrow(type);
    expect(() => target.merge(forged)).toThrow(/^other\./);
    expect(target.state()).toEqual(before);
  });

  it('refuses a merge whose count would pass 2^53 - 1', () => {
    const big = forge(xe.scorer({ classes: 2, topK: [1], bins: 1 }).state(), (s) => {
      s.count = 2 ** 52 + 1;
      s.binCount = [2 ** 52 + 1];
      s.rowsWithoutBytes = 2 ** 52 + 1;
      s.loss = [1, 0];
      s.classSupport = [2 ** 52 + 1, 0];
      s.classPredicted = [0, 2 ** 52 + 1];
    });
    const s = xe.scorerFromState(big);
    expect(() => s.merge(big)).toThrow(RangeError);
    expect(() => s.merge(big)).toThrow(/2\^53/);
    expect(s.count).toBe(2 ** 52 + 1);
  });

  it('merges only genuine scorers as scorers: a Proxy of one, or a look-alike, is read as a state', () => {
    const genuine = xe.scorer(opts).update(z, y);
    const forged = forge(genuine.state(), (s) => { s.correct = 1e6; });
    const proxy = new Proxy(genuine, {
      get: (t, k, r) => (k === 'state' ? () => forged : Reflect.get(t, k, r)),
    });
    const target = xe.scorer(opts);
    expect(() => target.merge(proxy)).toThrow(TypeError);
    expect(() => target.merge(proxy)).toThrow("other.format must be 'xentropy-scorer'");
    const lookalike = Object.assign(Object.create(Scorer.prototype) as Scorer, { state: () => forged });
    expect(() => target.merge(lookalike)).toThrow(TypeError);
    expect(target.count).toBe(0);
    // A genuine scorer merges, itself included.
    expect(target.merge(genuine).merge(target).count).toBe(80);
  });
});

describe('scorer: options and state fields are own properties, each read once', () => {
  const clean = xe.scorer({ classes: 3 }).update(z.subarray(0, 30), [0, 1, 2, 0, 1, 2, 2, 1, 0, 0]).result();
  const z3 = z.subarray(0, 30);
  const y3 = [0, 1, 2, 0, 1, 2, 2, 1, 0, 0];

  it.each([
    ['topK', [1, 2, 3]], ['bins', 2], ['ignoreIndex', 0], ['from', 'probs'], ['epsilon', 0.4], ['unit', 'bits'],
    ['classes', 3], ['bytes', 7], ['get', () => 5], ['value', 5],
  ] as [string, unknown][])('ignores Object.prototype.%s in create, update, result, state, fromState and merge', (key, value) => {
    const run = polluted({ [key]: value }, () => {
      const s = xe.scorer({ classes: 3 }).update(z3, y3);
      const state = s.state();
      const back = xe.scorerFromState(viaJson(state));
      let missing: unknown;
      try {
        xe.scorer({} as ScorerOptions);
      } catch (error) {
        missing = error;
      }
      return {
        result: s.result(), state, back: back.result(), merged: xe.scorer({ classes: 3 }).merge(state).merge(back).result(),
        ref: reference.score(z3, y3, { classes: 3 }), missing,
      };
    });
    expect(run.error).toBeUndefined();
    const r = run.value!;
    expect(r.result).toEqual(clean);
    expect(r.back).toEqual(clean);
    expect(r.merged.count).toBe(2 * clean.count);
    expect(r.merged.topK).toEqual(clean.topK);
    expect(r.ref.bitsPerByte).toBe(null);
    expect(r.ref.topK).toEqual(clean.topK);
    expect(r.ref.count).toBe(clean.count);
    expect(r.missing).toBeInstanceOf(TypeError);
    expect((r.missing as Error).message).toBe('options.classes must be a number, got undefined');
  });

  it('refuses a state whose field exists only on Object.prototype', () => {
    const state = xe.scorer({ classes: 3 }).update(z3, y3).state();
    for (const key of ['unit', 'format', 'version', 'topK', 'count', 'binConf']) {
      const partial = forge(state, (s) => { delete s[key]; });
      const run = polluted({ [key]: (state as unknown as Record<string, unknown>)[key] }, () => xe.scorerFromState(partial));
      expect(run.error, key).toBeInstanceOf(TypeError);
      expect(String(run.error), key).toContain(`state.${key}`);
      const merged = polluted({ [key]: (state as unknown as Record<string, unknown>)[key] }, () => xe.scorer({ classes: 3 }).merge(partial));
      expect(merged.error, key).toBeInstanceOf(TypeError);
    }
  });

  it('reads no hole of an array (labels, topK, state arrays) from Object.prototype', () => {
    const holes = polluted({ 1: 1 }, () => {
      const outcomes: unknown[] = [];
      const attempt = (f: () => unknown) => {
        try {
          outcomes.push(f());
        } catch (error) {
          outcomes.push(error);
        }
      };
      attempt(() => xe.scorer({ classes: 3 }).update(z.subarray(0, 9), holey([0, 1, 2])).count);
      attempt(() => xe.scorer({ classes: 3, topK: holey([2, 1, 3]) }).count);
      const state = xe.scorer({ classes: 3, topK: [1, 2] }).update(z3, y3).state();
      attempt(() => xe.scorerFromState(forge(state, (s) => { delete (s.topKHits as unknown[])[1]; })).count);
      attempt(() => reference.score(z.subarray(0, 9), holey([0, 1, 2]), { classes: 3 }).count);
      return outcomes;
    });
    expect(holes.error).toBeUndefined();
    const [labels, topK, hits, ref] = holes.value!;
    expect(labels).toBeInstanceOf(TypeError);
    expect(String(labels)).toContain('labels[1] must be a number, got undefined');
    expect(topK).toBeInstanceOf(TypeError);
    expect(String(topK)).toContain('options.topK[1] must be a number, got undefined');
    expect(hits).toBeInstanceOf(TypeError);
    expect(String(hits)).toContain('state.topKHits[1] must be a number, got undefined');
    expect(ref).toBeInstanceOf(TypeError);
    expect(bad).toEqual([]);
  });

  it('calls each option getter once, and each state field getter once', () => {
    const reads: Record<string, number> = {};
    const counted = (values: Record<string, unknown>) => {
      const o = {};
      for (const [key, v] of Object.entries(values)) {
        Object.defineProperty(o, key, { enumerable: true, get: () => { reads[key] = (reads[key] ?? 0) + 1; return v; } });
      }
      return o;
    };
    const options = { classes: 3, topK: [1, 2], bins: 4, ignoreIndex: -1, from: 'probs', epsilon: 0.01, unit: 'bits' };
    const s = xe.scorer(counted(options) as ScorerOptions);
    expect(reads).toEqual(Object.fromEntries(Object.keys(options).map((k) => [k, 1])));
    const state = s.update(new Float32Array([0.2, 0.3, 0.5]), [1]).state();
    for (const key of Object.keys(reads)) delete reads[key];
    const back = xe.scorerFromState(counted(state as unknown as Record<string, unknown>) as ScorerState);
    expect(reads).toEqual(Object.fromEntries(Object.keys(state).map((k) => [k, 1])));
    expect(back.state()).toEqual(state);
    for (const key of Object.keys(reads)) delete reads[key];
    const merged = xe.scorer(options as ScorerOptions).merge(counted(state as unknown as Record<string, unknown>) as ScorerState);
    expect(reads).toEqual(Object.fromEntries(Object.keys(state).map((k) => [k, 1])));
    expect(merged.state()).toEqual(state);
  });

  it('reads each key of a Proxy once (options and states), and not at all what it does not need', () => {
    const traps: string[] = [];
    const watch = <T extends object>(target: T): T => new Proxy(target, {
      get: (t, k, r) => { traps.push(`get ${String(k)}`); return Reflect.get(t, k, r); },
      getOwnPropertyDescriptor: (t, k) => { traps.push(`own ${String(k)}`); return Reflect.getOwnPropertyDescriptor(t, k); },
      has: (t, k) => { traps.push(`has ${String(k)}`); return Reflect.has(t, k); },
    });
    const perKey = () => {
      const count: Record<string, number> = {};
      for (const t of traps) {
        const key = t.split(' ')[1];
        count[key] = (count[key] ?? 0) + 1;
      }
      return count;
    };
    const s = xe.scorer(watch({ classes: 3, topK: [1, 2], bins: 4, unit: 'bits' as const }));
    expect(Object.values(perKey()).every((c) => c === 1), traps.join(', ')).toBe(true);
    const state = s.update(z3, y3).state();
    for (const use of [() => xe.scorerFromState(watch(state)), () => xe.scorer({ classes: 3, topK: [1, 2], bins: 4, unit: 'bits' }).merge(watch(state))]) {
      traps.length = 0;
      expect(use().state()).toEqual(state);
      expect(Object.values(perKey()).every((c) => c === 1), traps.join(', ')).toBe(true);
      expect(Object.keys(perKey()).sort()).toEqual(Object.keys(state).sort());
    }
  });
});

describe("scorer.update: the third argument's options are own properties, each read once", () => {
  const z3 = z.subarray(0, 4 * C);
  const y3 = [0, 1, 2, 3];

  it('calls each getter once, ignores Object.prototype, and refuses unknown keys before any getter runs', () => {
    const want = xe.scorer({ classes: C }).update(z3, [0, -100, 2, 3], 9).result();
    const reads: string[] = [];
    const options = {};
    for (const [key, value] of [['bytes', 9], ['attentionMask', [1, 0, 1, 1]]] as const) {
      Object.defineProperty(options, key, { enumerable: true, get: () => { reads.push(key); return value; } });
    }
    expect(xe.scorer({ classes: C }).update(z3, y3, options).result()).toEqual(want);
    expect(reads.sort()).toEqual(['attentionMask', 'bytes']);
    // Inherited options count for nothing.
    const run = polluted({ attentionMask: [0, 0, 0, 0], bytes: 5 }, () => xe.scorer({ classes: C }).update(z3, y3, {}).result());
    expect(run.error).toBeUndefined();
    expect(run.value!.count).toBe(4);
    expect(run.value!.bitsPerByte).toBe(null);
    reads.length = 0;
    const withUnknown = Object.defineProperty({ mask: 1 }, 'bytes', { enumerable: true, get: () => { reads.push('bytes'); return 1; } });
    expect(() => xe.scorer({ classes: C }).update(z3, y3, withUnknown as never)).toThrow('update options has no option "mask"');
    expect(reads).toEqual([]);
  });

  it('reads each mask element once, and the kernel gets the labels the mask allowed', () => {
    let calls = 0;
    const mask = [1, 1, 1, 1];
    Object.defineProperty(mask, 1, { get: () => (calls++ === 0 ? 0 : 1), enumerable: true });
    const s = xe.scorer({ classes: C }).update(z3, y3, { attentionMask: mask });
    expect(calls).toBe(1);
    expect(s.result()).toEqual(xe.scorer({ classes: C }).update(z3, [0, -100, 2, 3]).result());
    expect(bad).toEqual([]);
  });
});

describe('scorer.update: labels are read once into what the kernel reads', () => {
  const zz = z.subarray(0, 6 * C);
  const yy = [0, 1, 2, 3, 2, 1];
  const want = xe.scorer({ classes: C }).update(zz, yy).result();

  it('calls an accessor element once, and the kernel gets the value that was checked', () => {
    let calls = 0;
    const labels = [...yy];
    Object.defineProperty(labels, 3, { get: () => (calls++ === 0 ? 3 : 1000), enumerable: true });
    const s = xe.scorer({ classes: C }).update(zz, labels);
    expect(calls).toBe(1);
    expect(bad).toEqual([]);
    expect(s.result()).toEqual(want);
  });

  it('reads each element of a Proxy once', () => {
    const reads = new Map<PropertyKey, number>();
    const labels = new Proxy([...yy], {
      get: (t, k, r) => {
        reads.set(k, (reads.get(k) ?? 0) + 1);
        // Valid the first time each element is read, out of range after.
        return typeof k === 'string' && /^\d+$/.test(k) && reads.get(k)! > 1 ? 1000 : Reflect.get(t, k, r);
      },
    });
    const s = xe.scorer({ classes: C }).update(zz, labels);
    for (let i = 0; i < yy.length; i++) expect(reads.get(String(i)), `labels[${i}]`).toBe(1);
    expect(bad).toEqual([]);
    expect(s.result()).toEqual(want);
  });

  it('ignores an Int32Array subclass that overrides subarray', () => {
    class Sly extends Int32Array {
      override subarray(): Int32Array<ArrayBuffer> {
        return new Int32Array(this.length).fill(1000);
      }
    }
    const s = xe.scorer({ classes: C }).update(zz, new Sly(yy));
    expect(bad).toEqual([]);
    expect(s.result()).toEqual(want);
  });

  it('reads the true length and contents of a subclass that overrides length, buffer and offsets', () => {
    class Liar extends Int32Array {
      override get length(): number {
        return 6;
      }
    }
    for (const prop of ['buffer', 'byteOffset', 'byteLength']) {
      Object.defineProperty(Liar.prototype, prop, { get: () => { throw new Error(`read ${prop}`); } });
    }
    expect(xe.scorer({ classes: C }).update(zz, new Liar(yy)).result()).toEqual(want);
    expect(() => xe.scorer({ classes: C }).update(zz, new Liar([0, 1]))).toThrow('labels.length must be the number of rows 6, got 2');
    expect(bad).toEqual([]);
  });

  it('refuses a Proxy of a typed array (labels or logits), naming the argument', () => {
    const labels = new Proxy(Int32Array.from(yy), {
      get: (t, k) => (k === 'subarray' ? () => new Int32Array(6).fill(1000) : Reflect.get(t, k, t)),
    });
    const s = xe.scorer({ classes: C });
    expect(() => s.update(zz, labels)).toThrow(TypeError);
    expect(() => s.update(zz, labels)).toThrow(/^labels must be class indices/);
    const logits = new Proxy(zz, { get: (t, k) => Reflect.get(t, k, t) });
    expect(() => s.update(logits, yy)).toThrow(TypeError);
    expect(() => s.update(logits, yy)).toThrow(/^logits must be a Float32Array/);
    expect(s.count).toBe(0);
    expect(bad).toEqual([]);
  });

  it('checks Uint32 labels before they become int32 (a wrapped -100 is not ignoreIndex)', () => {
    const labels = Uint32Array.from(yy);
    labels[2] = 2 ** 32 - 100;
    expect(() => xe.scorer({ classes: C }).update(zz, labels)).toThrow('labels[2] = 4294967196 is not a class index in [0, 4) nor ignoreIndex = -100');
    expect(bad).toEqual([]);
  });

  it('refuses typed arrays on resizable or growable buffers, naming the argument, and adds nothing', () => {
    const s = xe.scorer({ classes: C });
    const rab = resizableBuffer(24, 64);
    const labels = new Int32Array(rab);
    labels.set(yy);
    expect(() => s.update(zz, labels)).toThrow(TypeError);
    expect(() => s.update(zz, labels)).toThrow(/^labels is an Int32Array on a resizable ArrayBuffer/);
    expect(() => s.update(zz, new Int32Array(rab, 0, 6))).toThrow(/^labels is an Int32Array on a resizable ArrayBuffer/);
    const zrab = resizableBuffer(zz.byteLength, 4 * zz.byteLength);
    const logits = new Float32Array(zrab);
    logits.set(zz);
    expect(() => s.update(logits, yy)).toThrow(/^logits is a Float32Array on a resizable ArrayBuffer/);
    // The case that makes it matter: a label getter shrinks the logits mid-call.
    const shrinking = [...yy];
    Object.defineProperty(shrinking, 0, { get: () => { zrab.resize(0); return 0; } });
    expect(() => s.update(logits, shrinking)).toThrow(/^logits is a Float32Array on a resizable ArrayBuffer/);
    expect(s.count).toBe(0);
    // A growable SharedArrayBuffer can only grow, which leaves a view of it whole: read as any
    // shared buffer (the labels copied, probabilities checked on a copy), as every operation does.
    const gsab = new (SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer)(24, { maxByteLength: 64 });
    const growable = new Int32Array(gsab);
    growable.set(yy);
    expect(s.update(zz, growable).result()).toEqual(want);
    expect(bad).toEqual([]);
  });

  it('notices a label getter that detaches the logits, frees them, or grows memory under them', () => {
    const s = xe.scorer({ classes: C });
    const logits = Float32Array.from(zz);
    const detaching = [...yy];
    Object.defineProperty(detaching, 1, { get: () => { structuredClone(logits.buffer, { transfer: [logits.buffer] }); return 1; } });
    expect(() => s.update(logits, detaching)).toThrow(TypeError);
    expect(s.count).toBe(0);
    expect(() => s.update(logits, yy)).toThrow(/^logits is a Float32Array whose buffer is detached/);
    s.update(zz.slice(), yy);
    const counted = s.count;
    const resident = xe.tensor(zz);
    const freeing = [...yy];
    Object.defineProperty(freeing, 1, { get: () => { resident.free(); return 1; } });
    expect(() => s.update(resident, freeing)).toThrow(/^logits is a resident buffer that was freed/);
    expect(s.count).toBe(counted);
    // Growing memory detaches the view the check would have read: it must read the new one.
    const p = xe.scorer({ classes: 2, from: 'probs' });
    const probs = xe.tensor([0.5, 0.5, 2, -1]);
    const growing = [0, 1];
    Object.defineProperty(growing, 1, { get: () => { xe.alloc(1 << 22); return 1; } });
    expect(() => p.update(probs, growing)).toThrow('logits[2] = 2 is not a probability');
    expect(p.count).toBe(0);
    expect(bad).toEqual([]);
  });
});

/**
 * Runs `run` while a worker thread flips `view[index]` of a SharedArrayBuffer between the int32 bit
 * patterns a and b as fast as it can, each holding about half the time: a read sees either, and two
 * reads a few microseconds apart see different values about half the time.
 */
async function whileRacing<T>(buffer: SharedArrayBuffer, index: number, a: number, b: number, run: () => T): Promise<T> {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData: w } = require('node:worker_threads');
     const v = new Int32Array(w.buffer), c = new Int32Array(w.control);
     Atomics.store(c, 1, 1);
     // One store per turn, so that each value holds about half the time.
     for (let flip = 0; Atomics.load(c, 0) === 0; flip ^= 1) Atomics.store(v, w.index, flip ? w.a : w.b);`,
    { eval: true, workerData: { buffer, control: control.buffer, index, a, b } },
  );
  try {
    const started = Date.now();
    while (Atomics.load(control, 1) === 0) {
      if (Date.now() - started > 10_000) throw new Error('the racing worker did not start');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return run();
  } finally {
    Atomics.store(control, 0, 1);
    await worker.terminate();
  }
}

/**
 * Runs f with `xe.driver.reserve` (called once per update, after the arguments are checked and before
 * any row is staged) doing `write` first: what another thread writing a SharedArrayBuffer at the worst
 * moment would do, made deterministic.
 */
function writingAfterTheCheck<T>(write: () => void, f: () => T): T {
  const driver = xe.driver as unknown as { reserve(...sizes: number[]): number[] };
  const reserve = driver.reserve;
  driver.reserve = (...sizes: number[]) => {
    write();
    return reserve.apply(driver, sizes);
  };
  try {
    return f();
  } finally {
    delete (driver as { reserve?: unknown }).reserve;
  }
}

describe('scorer.update: SharedArrayBuffer inputs written by another thread', () => {
  const rows = 2000, classes = 3;
  const zz = normal(rows * classes, 2, 61);

  it('never hands the kernel a label written after the check', () => {
    const labels = new Int32Array(new SharedArrayBuffer(rows * 4));
    labels.set(randomLabels(rows, classes, 62));
    const want = xe.scorer({ classes }).update(zz, labels.slice()).result();
    const s = xe.scorer({ classes });
    writingAfterTheCheck(() => labels.fill(1000, rows - 10), () => s.update(zz, labels));
    expect(bad.slice(0, 3)).toEqual([]);
    expect(s.result()).toEqual(want);
  });

  it("never hands the kernel a probability written after the check (from: 'probs')", () => {
    const probs = new Float32Array(new SharedArrayBuffer(rows * classes * 4)).fill(1 / 3);
    const labels = randomLabels(rows, classes, 63);
    const want = xe.scorer({ classes, from: 'probs', bins: 4 }).update(probs.slice(), labels).result();
    const s = xe.scorer({ classes, from: 'probs', bins: 4 });
    writingAfterTheCheck(() => probs.fill(5, 0, 30), () => s.update(probs, labels));
    expect(bad.slice(0, 3)).toEqual([]);
    expect(s.result()).toEqual(want);
    // The state is one a scorer can have (no confidence above 1).
    expect(xe.scorerFromState(viaJson(s.state())).result()).toEqual(want);
  });

  // The same with a real thread, flipping one value as fast as it can. Whether the flips fall inside
  // an update depends on the scheduler, so this runs for a while and asserts only what must hold.
  it.each([
    ['labels', 'logits' as const],
    ['probabilities', 'probs' as const],
  ])('never hands the kernel %s another thread is writing during the call', async (_what, from) => {
    const bitsOf = (v: number) => new Int32Array(Float32Array.of(v).buffer)[0];
    const labels = new Int32Array(new SharedArrayBuffer(rows * 4));
    labels.set(randomLabels(rows, classes, 64));
    const probs = new Float32Array(new SharedArrayBuffer(rows * classes * 4)).fill(1 / 3);
    const [buffer, index, a, b] = from === 'logits'
      ? [labels.buffer, rows - 1, 0, 1000] : [probs.buffer, 0, bitsOf(0.5), bitsOf(5)];
    const outcome = await whileRacing(buffer as SharedArrayBuffer, index, a, b, () => {
      let refused = 0, taken = 0;
      const started = Date.now();
      for (let i = 0; bad.length === 0 && (i < 1000 || refused === 0 || taken === 0) && Date.now() - started < 3000; i++) {
        const s = xe.scorer({ classes, from, bins: 4 });
        try {
          s.update(from === 'logits' ? zz : probs, labels);
          taken++;
          xe.scorerFromState(viaJson(s.state()));
        } catch (error) {
          if (!(error instanceof RangeError) || !/labels\[1999\] = 1000|logits\[0\] = 5/.test(String(error))) throw error;
          expect(s.count).toBe(0);
          refused++;
        }
      }
      return { refused, taken };
    });
    expect(bad.slice(0, 3)).toEqual([]);
    expect(outcome.refused + outcome.taken).toBeGreaterThan(0);
  });
});

describe('scorer.result and state: unaffected by what a caller does to their own copies', () => {
  it('returns fresh objects: editing a state or a result changes nothing in the scorer', () => {
    const s = xe.scorer(opts).update(z, y);
    const before: ScoreResult = s.result();
    const state = s.state();
    state.binCount[0] = 99;
    state.topK.push(7);
    (state.loss as unknown[])[0] = -5;
    const r = s.result();
    r.topK['1'] = 2;
    r.bins[0].count = 99;
    expect(s.result()).toEqual(before);
    expect(s.state()).not.toEqual(state);
  });
});

describe('scorer state version 3: per-class and confusion counts', () => {
  const K = 6, rows = 90;
  const zz = normal(rows * K, 2, 61);
  const yy = randomLabels(rows, K, 62);
  for (let r = 7; r < rows; r += 13) yy[r] = -100;
  const o: ScorerOptions = { classes: K, topK: [1, 2], bins: 8, confusion: true };
  const whole = xe.scorer(o).update(zz, yy);
  const cuts = [0, 5, 31, 32, 60, rows];
  const shardStates = cuts.slice(1).map((end, i) => viaJson(xe.scorer(o).update(zz.subarray(cuts[i] * K, end * K), yy.subarray(cuts[i], end)).state()));

  it('writes the counts as a scorer fed everything, whatever the order of the merges (through JSON)', () => {
    const w = whole.state();
    expect(w.version).toBe(3);
    expect(w.classSupport!.reduce((a, b) => a + b)).toBe(w.count);
    for (const order of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]) {
      const merged = xe.scorer(o);
      for (const i of order) merged.merge(i % 2 ? xe.scorerFromState(shardStates[i]) : shardStates[i]);
      const m = merged.state();
      for (const key of ['count', 'correct', 'classSupport', 'classPredicted', 'classCorrect', 'confusion'] as const) expect(m[key]).toEqual(w[key]);
      // The per-class figures depend only on those counts: the same bits.
      const { perClass, macro, micro, weighted, balancedAccuracy, confusion } = merged.result();
      const r = whole.result();
      expect({ perClass, macro, micro, weighted, balancedAccuracy, confusion }).toEqual({
        perClass: r.perClass, macro: r.macro, micro: r.micro, weighted: r.weighted, balancedAccuracy: r.balancedAccuracy, confusion: r.confusion,
      });
    }
    // A scorer merged into itself doubles its counts.
    const twice = xe.scorerFromState(shardStates[1]);
    expect(twice.merge(twice).state().classSupport).toEqual(shardStates[1].classSupport!.map((c) => 2 * c));
  });

  const state = whole.state();
  const c0 = state.classSupport!.findIndex((c, i) => c > 0 && state.classCorrect![i] < c && state.classCorrect![i] > 0);
  const forgedCases: [string, (s: Record<string, unknown> & ScorerState) => void, ErrorConstructor, RegExp][] = [
    ['support not summing to count', (s) => { s.classSupport![c0] += 1; }, RangeError, new RegExp(`\\.classSupport sums to ${state.count + 1}, not state\\.count = ${state.count}`)],
    ['predictions not summing to count', (s) => { s.classPredicted![c0] -= 1; }, RangeError, new RegExp(`\\.classPredicted sums to ${state.count - 1}, not state\\.count = ${state.count}`)],
    ['more right than labelled', (s) => {
      const d = s.classSupport!.findIndex((c, i) => i !== c0 && c > 0);
      s.classSupport![c0] = s.classCorrect![c0] - 1;
      s.classSupport![d] += state.classSupport![c0] - s.classSupport![c0];
    }, RangeError, /\.classCorrect\[\d\] = \d+ exceeds \w+\.classSupport\[\d\] = \d+/],
    ['more right than predicted', (s) => {
      const d = s.classPredicted!.findIndex((c, i) => i !== c0 && c > 0);
      const moved = s.classPredicted![c0] - s.classCorrect![c0] + 1;
      s.classPredicted![c0] -= moved;
      s.classPredicted![d] += moved;
    }, RangeError, /\.classCorrect\[\d\] = \d+ exceeds \w+\.classPredicted\[\d\] = \d+/],
    ['rights not summing to correct', (s) => { s.classCorrect![c0] -= 1; }, RangeError, /\.classCorrect sums to \d+, not \w+\.correct = \d+/],
    ['a confusion row off its support', (s) => {
      // One count moved down its column, to a row and from a row that are not its class: only two row sums change.
      const cell = s.confusion!.findIndex((v, i) => v > 0 && i % K !== Math.floor(i / K));
      const [from, to, col] = [Math.floor(cell / K), [0, 1, 2].find((r) => r !== Math.floor(cell / K) && r !== cell % K)!, cell % K];
      s.confusion![from * K + col] -= 1;
      s.confusion![to * K + col] += 1;
    }, RangeError, /\.confusion's row \d sums to \d+, not state\.classSupport\[\d\] = \d+/],
    ['a confusion column off the predictions', (s) => {
      const cell = s.confusion!.findIndex((v, i) => v > 0 && i % K !== Math.floor(i / K));
      s.confusion![cell] -= 1;
      s.confusion![Math.floor(cell / K) * K + ((cell % K) + 1) % K === Math.floor(cell / K) ? (cell % K + 2) % K : ((cell % K) + 1) % K] += 1;
    }, RangeError, /confusion's column \d sums to \d+, not \w+\.classPredicted\[\d\] = \d+/],
    ['a fractional class count', (s) => { s.classSupport![0] = 0.5; }, RangeError, /\.classSupport\[0\] = 0.5 is not a count/],
    ['a short per-class array', (s) => { s.classCorrect!.pop(); }, RangeError, /\.classCorrect\.length must be 6, got 5/],
    ['a missing per-class array', (s) => { delete s.classPredicted; }, TypeError, /\.classPredicted is missing/],
    ['a confusion of the wrong size', (s) => { s.confusion!.push(0); }, RangeError, /\.confusion\.length must be 36, got 37/],
    ['a missing confusion (null is the option off)', (s) => { delete s.confusion; }, TypeError, /\.confusion is missing/],
  ];

  it.each(forgedCases)('refuses %s in fromState and merge, and merges nothing', (_what, edit, type, message) => {
    const forged = forge(state, edit as (s: Record<string, unknown>) => void);
    expect(() => xe.scorerFromState(forged)).toThrow(type);
    expect(() => xe.scorerFromState(forged)).toThrow(message);
    const target = xe.scorer(o).update(zz.subarray(0, 3 * K), yy.subarray(0, 3));
    const before = target.state();
    expect(() => target.merge(forged)).toThrow(type);
    expect(() => target.merge(forged)).toThrow(/^other\./);
    expect(target.state()).toEqual(before);
  });

  /** A version 1 or 2 state of the same rows: what a scorer before version 3 wrote. */
  const older = (st: ScorerState, version: 1 | 2): ScorerState => {
    const { classSupport: _1, classPredicted: _2, classCorrect: _3, confusion: _4, binning: _5, shift, sequenceLength, sequences, ...v1 } = viaJson(st);
    return (version === 1 ? { ...v1, version } : { ...v1, version, shift, sequenceLength, sequences }) as ScorerState;
  };
  const plain: ScorerOptions = { classes: K, topK: [1, 2], bins: 8 };

  it('reads versions 1 and 2 (no per-class figures then) and writes them back as they were', () => {
    const st = xe.scorer(plain).update(zz, yy).state();
    for (const version of [1, 2] as const) {
      const back = xe.scorerFromState(older(st, version));
      const r = back.result();
      for (const key of ['perClass', 'macro', 'micro', 'weighted', 'balancedAccuracy', 'confusion']) expect(key in r).toBe(false);
      expect(r.accuracy).toBe(xe.scorer(plain).update(zz, yy).result().accuracy);
      // A version 2 state that uses none of version 2's options is written as version 1, as before.
      expect(back.state()).toEqual(older(st, 1));
      // Updates go on without per-class counts.
      expect('classSupport' in back.update(zz.subarray(0, K), [1]).state()).toBe(false);
    }
  });

  it('merges an older state only when exact: into or from an empty side', () => {
    const st = xe.scorer(plain).update(zz, yy).state();
    const old = older(st, 1), oldEmpty = older(xe.scorer(plain).state(), 1);
    // An empty older state counts zeros: the per-class counts stay.
    const a = xe.scorer(plain).update(zz, yy).merge(oldEmpty);
    expect(a.state()).toEqual(st);
    // An empty scorer of this version, merged with an older state that has rows, has no per-class counts.
    const b = xe.scorer(plain).merge(old);
    expect(b.state()).toEqual(old);
    expect(xe.scorerFromState(old).merge(xe.scorer(plain)).state()).toEqual(old);
    // An empty older scorer takes the counts of what it merges.
    expect(xe.scorerFromState(oldEmpty).merge(st).state()).toEqual(st);
    expect(xe.scorerFromState(oldEmpty).merge(state).state()).toEqual(state);
    // Rows on both sides: refused, with nothing merged.
    const c = xe.scorer(plain).update(zz, yy);
    expect(() => c.merge(old)).toThrow(RangeError);
    expect(() => c.merge(old)).toThrow(
      `other holds no per-class counts (it comes from a version 1 or 2 state) and has ${st.count} rows, so merged per-class counts could not be exact`,
    );
    expect(() => xe.scorerFromState(old).merge(c)).toThrow(/^this scorer holds no per-class counts/);
    expect(c.state()).toEqual(st);
  });

  it('merges the confusion only with the confusion, or with an empty side', () => {
    const withC = xe.scorer(o).update(zz, yy), without = xe.scorer(plain).update(zz, yy);
    const before = withC.state();
    expect(() => withC.merge(without)).toThrow(RangeError);
    expect(() => withC.merge(without)).toThrow('other has no confusion counts and this scorer has: merge only scorers created with the same confusion option');
    expect(() => without.merge(withC)).toThrow('other has confusion counts and this scorer has none');
    expect(withC.state()).toEqual(before);
    expect(withC.merge(xe.scorer(plain)).state()).toEqual(before);
    expect(xe.scorer(plain).merge(withC).state()).toEqual(before);
    // The limit holds for states too.
    expect(() => xe.scorerFromState({ ...xe.scorer({ classes: 1025 }).state(), confusion: [] })).toThrow(/state\.confusion keeps classes² counts, for at most 1024 classes/);
  });

  it('keeps the binning: quantile states merge in any order as one pass, and only with quantile states', () => {
    const q: ScorerOptions = { ...plain, binning: 'quantile', bins: 4 };
    const one = xe.scorer(q).update(zz, yy);
    const st = one.state();
    expect(st.binning).toBe('quantile');
    expect(st.binCount.length).toBe(4 * QUANTILE_SLOTS);
    const merged = xe.scorer(q);
    for (const i of [3, 0, 4, 2, 1]) {
      merged.merge(viaJson(xe.scorer(q).update(zz.subarray(cuts[i] * K, cuts[i + 1] * K), yy.subarray(cuts[i], cuts[i + 1])).state()));
    }
    expect(merged.state().binCount).toEqual(st.binCount);
    expect(merged.result().bins.map((b) => [b.lower, b.upper, b.count])).toEqual(one.result().bins.map((b) => [b.lower, b.upper, b.count]));
    const uniform = xe.scorer({ ...plain, bins: 4 }).update(zz, yy);
    expect(() => uniform.merge(st)).toThrow(new RangeError("other.binning = 'quantile' does not match this scorer's binning = 'uniform'"));
    expect(() => xe.scorerFromState({ ...st, binning: 'exact' as never })).toThrow(new RangeError("state.binning must be one of 'uniform', 'quantile', got \"exact\""));
    expect(() => xe.scorerFromState({ ...st, binning: 'uniform' })).toThrow(/^state\.binCount\.length must be 4, got 1024/);
    const { binning: _, ...noBinning } = st;
    expect(() => xe.scorerFromState(noBinning)).toThrow('state.binning is missing');
    expect(() => xe.scorer({ ...q, bins: 3907 })).toThrow("options.bins must be at most 3906 with binning 'quantile', got 3907");
  });
});
