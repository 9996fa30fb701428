// The binary and multilabel scorers (issue 26): worked examples, agreement with the float64
// reference, soft labels, the binned AUC/AP error bound, states (JSON round trips, non-finite values,
// forged states), merges in any order, reset, and hostile arguments. The scorers run no kernel (their
// per-row work is float64 JavaScript), so one instance serves; test/sklearn/ checks them against
// scikit-learn.

import { describe, expect, it } from 'vitest';
import {
  BinaryScorer, MultilabelScorer, reference, type BinaryScoreResult, type BinaryScorerOptions, type BinaryScorerState,
} from '../src/index.js';
import { close, normal, rng, wasm as xe, type Tolerance } from './helpers.js';

// Float64 on both sides from the same float32 inputs, summed in different orders (compensated here,
// plain in the reference) over at most a few thousand rows: 1e-12 relative, 1e-14 absolute.
const F64: Tolerance = { rel: 1e-12, abs: 1e-14 };

const SCALARS = [
  'count', 'weight', 'positives', 'logLoss', 'brier', 'accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'averagePrecision',
  'rocAucErrorBound', 'averagePrecisionErrorBound', 'ece', 'mce', 'rmsce',
] as const;

function expectSameResult(got: BinaryScoreResult, want: BinaryScoreResult, tol: Tolerance, what = ''): void {
  for (const key of SCALARS) {
    if (!close(got[key], want[key], tol)) expect.fail(`${what} ${key}: ${got[key]} vs ${want[key]}`);
  }
  for (const key of ['tp', 'fp', 'fn', 'tn'] as const) {
    if (!close(got.confusion[key], want.confusion[key], tol)) expect.fail(`${what} confusion.${key}: ${got.confusion[key]} vs ${want.confusion[key]}`);
  }
  for (const [curve, keys] of [['roc', ['fpr', 'tpr', 'thresholds']], ['pr', ['precision', 'recall', 'thresholds']]] as const) {
    for (const key of keys) {
      const a = (got[curve] as unknown as Record<string, Float64Array>)[key], b = (want[curve] as unknown as Record<string, Float64Array>)[key];
      expect(a.length, `${what} ${curve}.${key} length`).toBe(b.length);
      for (let i = 0; i < b.length; i++) if (!close(a[i], b[i], tol)) expect.fail(`${what} ${curve}.${key}[${i}]: ${a[i]} vs ${b[i]}`);
    }
  }
  expect(got.bins.length).toBe(want.bins.length);
  got.bins.forEach((bin, i) => {
    for (const key of ['lower', 'upper', 'count', 'weight', 'confidence', 'accuracy'] as const) {
      if (!close(bin[key], want.bins[i][key], tol)) expect.fail(`${what} bins[${i}].${key}: ${bin[key]} vs ${want.bins[i][key]}`);
    }
  });
}

/** A noisy binary classifier's data: logits (or probabilities), targets (hard or soft), weights. */
function data(n: number, seed: number, o: { probs?: boolean; soft?: boolean; weighted?: boolean; ties?: boolean } = {}) {
  const u = rng(seed);
  const t = Float32Array.from({ length: n }, () => (o.soft ? Math.fround(u()) : u() < 0.4 ? 1 : 0));
  const noise = normal(n, 1.5, seed + 1);
  let scores = Float32Array.from(noise, (z, i) => z + (t[i] - 0.5) * 2);
  if (o.ties) scores = scores.map((x) => Math.round(x * 2) / 2);
  if (o.probs) scores = scores.map((x) => 1 / (1 + Math.exp(-x)));
  const sampleWeight = o.weighted ? Float32Array.from({ length: n }, () => (u() < 0.1 ? 0 : Math.fround(u() * 3))) : undefined;
  return { scores, t, labels: o.soft ? t : Uint8Array.from(t), sampleWeight };
}

describe('binary scorer: a worked example', () => {
  it('gives the hand-computed metrics', () => {
    const scores = new Float32Array([0.9, 0.8, 0.3, 0.1]);
    const r = xe.binaryScorer({ from: 'probs' }).update(scores, new Uint8Array([1, 0, 1, 0])).result();
    // Pairs (positive, negative) ordered right: (0.9, 0.8), (0.9, 0.1), (0.3, 0.1), not (0.3, 0.8).
    expect(r.rocAuc).toBe(0.75);
    // Recall 1/2 at precision 1 (threshold 0.9), then 1/2 more at precision 2/3 (threshold 0.3).
    expect(r.averagePrecision).toBeCloseTo(0.5 + 0.5 * (2 / 3), 15);
    expect([r.accuracy, r.precision, r.recall, r.f1]).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(r.confusion).toEqual({ tp: 1, fp: 1, fn: 1, tn: 1 });
    const p = [0.9, 0.8, 0.3, 0.1].map(Math.fround), y = [1, 0, 1, 0];
    expect(r.brier).toBeCloseTo(p.reduce((s, q, i) => s + (q - y[i]) ** 2, 0) / 4, 15);
    expect(r.logLoss).toBeCloseTo(-(Math.log(p[0]) + Math.log(1 - p[1]) + Math.log(p[2]) + Math.log(1 - p[3])) / 4, 14);
    expect(Array.from(r.roc.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(r.roc.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(r.pr.recall)).toEqual([1, 1, 0.5, 0.5, 0]);
  });

  it('ties count one half in the AUC and one step in AP, as sklearn', () => {
    const r = xe.binaryScorer().update(new Float32Array([1, 1, 0]), [1, 0, 0]).result();
    // The tied pair counts 1/2, the other 1: (1/2 + 1) / 2.
    expect(r.rocAuc).toBe(0.75);
    // One step at the tie: recall 1 at precision 1/2.
    expect(r.averagePrecision).toBe(0.5);
  });

  it('reports NaN where a metric is undefined, and 0 for precision and recall without predictions or positives', () => {
    const r = xe.binaryScorer().update(new Float32Array([-1, -2]), [0, 0]).result();
    expect(r.rocAuc).toBeNaN();
    expect(r.averagePrecision).toBeNaN();
    expect([r.precision, r.recall, r.f1, r.accuracy]).toEqual([0, 0, 0, 1]);
    const empty = xe.binaryScorer().result();
    for (const key of ['logLoss', 'brier', 'accuracy', 'rocAuc', 'averagePrecision', 'ece', 'mce', 'rmsce'] as const) expect(empty[key]).toBeNaN();
    expect(empty.count).toBe(0);
    expect(Array.from(empty.roc.fpr)).toEqual([0]);
  });

  it('takes the threshold as p >= threshold, for logits and probabilities alike', () => {
    const logits = new Float32Array([0, -0.5, 0.5]);
    const at = (threshold: number) => xe.binaryScorer({ threshold }).update(logits, [1, 1, 1]).result().recall;
    expect(at(0.5)).toBe(2 / 3);       // sigmoid(0) = 0.5 is positive
    expect(at(0)).toBe(1);
    expect(at(1)).toBe(0);
    const probs = new Float32Array([0.5, 0.25, 1]);
    expect(xe.binaryScorer({ from: 'probs', threshold: 1 }).update(probs, [1, 1, 1]).result().recall).toBe(1 / 3);
  });
});

describe('binary scorer against the float64 reference', () => {
  const variants: [string, Parameters<typeof data>[2], BinaryScorerOptions][] = [
    ['logits', {}, {}],
    ['probabilities', { probs: true }, { from: 'probs' }],
    ['weighted, ties', { weighted: true, ties: true }, { threshold: 0.3, bins: 7 }],
    ['soft labels, weighted', { soft: true, weighted: true }, {}],
    ['quantile bins', { weighted: true }, { binning: 'quantile', bins: 10 }],
    ['binned thresholds', { weighted: true, ties: true }, { thresholds: 64 }],
    ['binned, probabilities, bits', { probs: true }, { from: 'probs', thresholds: 5, unit: 'bits', epsilon: 1e-4 }],
  ];
  it.each(variants)('%s', (_, how, options) => {
    for (const n of [1, 2, 17, 500]) {
      const d = data(n, 7 * n, how);
      const scorer = xe.binaryScorer(options);
      // In three updates, so the state crosses update boundaries.
      const cuts = [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n];
      for (let i = 0; i < 3; i++) {
        scorer.update(d.scores.subarray(cuts[i], cuts[i + 1]), d.labels.subarray(cuts[i], cuts[i + 1]),
          d.sampleWeight ? { sampleWeight: d.sampleWeight.subarray(cuts[i], cuts[i + 1]) } : undefined);
      }
      const want = reference.binaryScore(d.scores, d.labels, { ...options, sampleWeight: d.sampleWeight });
      expectSameResult(scorer.result(), want, F64, `n = ${n}`);
    }
  });

  it('ranks -0 with 0, infinities, heavy ties and zero weights as the reference does', () => {
    const u = rng(17);
    const n = 3000;
    const pool = [-Infinity, -3, -0, 0, 1e-30, 0.5, 0.5000001, 2, Infinity];
    const scores = Float32Array.from({ length: n }, () => pool[Math.floor(u() * pool.length)]);
    const soft = Float32Array.from({ length: n }, () => (u() < 0.5 ? Math.fround(u()) : u() < 0.5 ? 1 : 0));
    const sampleWeight = Float32Array.from({ length: n }, () => (u() < 0.2 ? 0 : Math.fround(u() * 4)));
    for (const options of [{}, { thresholds: 7 }, { binning: 'quantile' as const, bins: 4 }]) {
      const got = xe.binaryScorer(options).update(scores, soft, { sampleWeight }).result();
      expectSameResult(got, reference.binaryScore(scores, soft, { ...options, sampleWeight }), F64, JSON.stringify(options));
    }
  });

  it('a soft label t weighs as a positive of weight w t and a negative of weight w (1 - t)', () => {
    const d = data(300, 11, { soft: true, weighted: true });
    const soft = xe.binaryScorer({ thresholds: 'exact' }).update(d.scores, d.labels, { sampleWeight: d.sampleWeight }).result();
    const n = d.scores.length;
    const scores = new Float32Array(2 * n), hard = new Uint8Array(2 * n), weights = new Float32Array(2 * n);
    const u = rng(3);
    // The split weights are not float32 products in general: compare against the float64 reference.
    const w64: number[] = [];
    for (let i = 0; i < n; i++) {
      scores[2 * i] = scores[2 * i + 1] = d.scores[i];
      hard[2 * i] = 1;
      w64.push(d.sampleWeight![i] * d.t[i], d.sampleWeight![i] * (1 - d.t[i]));
    }
    void u;
    weights.set(w64);
    const split = reference.binaryScore(scores, hard, { sampleWeight: weights });
    for (const key of ['rocAuc', 'averagePrecision', 'positives', 'weight', 'logLoss'] as const) {
      expect(close(soft[key], split[key], { rel: 1e-6, abs: 1e-9 }), `${key}: ${soft[key]} vs ${split[key]}`).toBe(true);
    }
  });
});

describe('binned thresholds: the AUC and AP error bounds', () => {
  it.each([[4], [32], [256], [4096]])('k = %i: within the bound of the exact values, and the bound shrinks with k', (k) => {
    for (const seed of [1, 2, 3]) {
      const d = data(3000, seed, { weighted: seed === 2, ties: seed === 3 });
      const w = d.sampleWeight ? { sampleWeight: d.sampleWeight } : undefined;
      const exact = xe.binaryScorer().update(d.scores, d.labels, w).result();
      const binned = xe.binaryScorer({ thresholds: k }).update(d.scores, d.labels, w).result();
      expect(exact.rocAucErrorBound).toBe(0);
      expect(Math.abs(binned.rocAuc - exact.rocAuc)).toBeLessThanOrEqual(binned.rocAucErrorBound);
      expect(Math.abs(binned.averagePrecision - exact.averagePrecision)).toBeLessThanOrEqual(binned.averagePrecisionErrorBound);
      // Not vacuous on distinct scores: with k bins each holding ~1/k of the rows, the AUC bound is ~1/(2k).
      // (Tied scores share a bin whatever k, and the bound counts their pairs, which the exact AUC counts as 1/2 too.)
      if (seed === 3) continue;
      expect(binned.rocAucErrorBound).toBeLessThan(2 / k + 0.01);
      if (k >= 256) expect(binned.averagePrecisionErrorBound).toBeLessThan(0.05);
    }
  });

  it('an all-in-one-bin histogram has the widest bound, one that still holds', () => {
    const d = data(200, 5);
    const binned = xe.binaryScorer({ thresholds: 1 }).update(d.scores, d.labels).result();
    const exact = xe.binaryScorer().update(d.scores, d.labels).result();
    expect(binned.rocAuc).toBe(0.5);
    expect(binned.rocAucErrorBound).toBe(0.5);
    expect(Math.abs(binned.averagePrecision - exact.averagePrecision)).toBeLessThanOrEqual(binned.averagePrecisionErrorBound);
  });
});

describe('binary scorer states and merges', () => {
  const configs: BinaryScorerOptions[] = [{}, { thresholds: 50, from: 'probs' }, { binning: 'quantile' }];

  it.each(configs)('shards merged in any order give the one-scorer result (%o)', (options) => {
    const probs = options.from === 'probs';
    const d = data(400, 21, { weighted: true, ties: true, probs });
    const one = xe.binaryScorer(options).update(d.scores, d.labels, { sampleWeight: d.sampleWeight }).result();
    const cuts = [0, 50, 51, 51, 300, 400];
    const states = cuts.slice(1).map((end, i) => xe.binaryScorer(options)
      .update(d.scores.slice(cuts[i], end), d.labels.slice(cuts[i], end), { sampleWeight: d.sampleWeight!.slice(cuts[i], end) }).state());
    for (const order of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]) {
      const merged = BinaryScorer.fromState(JSON.parse(JSON.stringify(states[order[0]])));
      for (const i of order.slice(1)) merged.merge(JSON.parse(JSON.stringify(states[i])));
      const r = merged.result();
      // Exact thresholds: the ranking depends only on the multiset of rows, so AUC, AP and curves are
      // bit for bit those of one scorer; sums are compensated.
      expectSameResult(r, one, F64, `order ${order}`);
      if (options.thresholds === undefined) {
        expect(r.rocAuc).toBe(one.rocAuc);
        expect(r.averagePrecision).toBe(one.averagePrecision);
        expect(r.roc.tpr).toEqual(one.roc.tpr);
      }
    }
  });

  it('ranks the same rows in any order to the same curves, bit for bit, for ties of 1 to 200 rows', () => {
    const u = rng(29);
    // Tie sizes on both sides of the insertion sort's limit (32 rows), with soft targets and weights
    // that differ inside a tie (the order within one decides the sums' rounding).
    const sizes = [1, 2, 3, 5, 8, 31, 32, 33, 64, 200];
    const scores: number[] = [], soft: number[] = [], weights: number[] = [];
    sizes.forEach((size, g) => {
      for (let k = 0; k < size; k++) {
        scores.push(g % 2 ? g / 3 : -g / 7);
        soft.push(u() < 0.3 ? Math.fround(u()) : u() < 0.5 ? 1 : 0);
        // 2^53 beside weights near 1: float64 sums of a tie then round differently in another order.
        const w = u();
        weights.push(w < 0.1 ? 0 : w < 0.3 ? 2 ** 53 : Math.fround(0.5 + u() * 3));
      }
    });
    const n = scores.length;
    const run = (perm: number[]) => xe.binaryScorer().update(
      Float32Array.from(perm, (i) => scores[i]), Float32Array.from(perm, (i) => soft[i]),
      { sampleWeight: Float32Array.from(perm, (i) => weights[i]) },
    ).result();
    const identity = Array.from({ length: n }, (_, i) => i);
    const want = run(identity);
    for (let trial = 0; trial < 4; trial++) {
      const perm = identity.slice();
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(u() * (i + 1));
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const got = run(trial === 0 ? identity.slice().reverse() : perm);
      for (const key of ['fpr', 'tpr', 'thresholds'] as const) expect(Array.from(got.roc[key]), `roc.${key}`).toEqual(Array.from(want.roc[key]));
      for (const key of ['precision', 'recall', 'thresholds'] as const) expect(Array.from(got.pr[key]), `pr.${key}`).toEqual(Array.from(want.pr[key]));
      expect(Object.is(got.rocAuc, want.rocAuc) && Object.is(got.averagePrecision, want.averagePrecision)).toBe(true);
    }
    const ref = reference.binaryScore(Float32Array.from(scores), Float32Array.from(soft), { sampleWeight: Float32Array.from(weights) });
    expect(want.rocAuc).toBeCloseTo(ref.rocAuc, 6);
    expect(want.averagePrecision).toBeCloseTo(ref.averagePrecision, 6);
  });

  it('state() survives JSON exactly, infinite logits and losses included', () => {
    const s = xe.binaryScorer().update(new Float32Array([Infinity, -Infinity, 3, -Infinity]), [0, 1, 1, 0], { sampleWeight: new Float32Array([1, 2, 0.5, 1]) });
    const r = s.result();
    expect(r.logLoss).toBe(Infinity);
    const state = s.state();
    expect(state.loss[0]).toBe('Infinity');
    expect(state.scores).toEqual(['Infinity', '-Infinity', 3, '-Infinity']);
    const back = xe.binaryScorerFromState(JSON.parse(JSON.stringify(state)));
    expect(back.state()).toEqual(state);
    expectSameResult(back.result(), r, { rel: 0, abs: 0 });
    // And a merge keeps the infinity.
    expect(back.merge(state).result().logLoss).toBe(Infinity);
  });

  it('a score of -0 is written as 0 and reads back the same', () => {
    const s = xe.binaryScorer().update(new Float32Array([-0, 1]), [1, 0]);
    const state = s.state();
    expect(Object.is(state.scores[0], 0)).toBe(true);
    expect(xe.binaryScorerFromState(JSON.parse(JSON.stringify(state))).state()).toEqual(state);
  });

  it('merging a scorer into itself doubles it; reset forgets every row and keeps the options', () => {
    const d = data(40, 8, { weighted: true });
    const s = xe.binaryScorer({ threshold: 0.2, bins: 4 }).update(d.scores, d.labels, { sampleWeight: d.sampleWeight });
    const once = s.result();
    s.merge(s);
    const twice = s.result();
    expect(twice.count).toBe(2 * once.count);
    expect(twice.rocAuc).toBe(once.rocAuc);
    expect(close(twice.logLoss, once.logLoss, F64)).toBe(true);
    s.reset();
    expect(s.count).toBe(0);
    expect(s.state()).toEqual(xe.binaryScorer({ threshold: 0.2, bins: 4 }).state());
    s.update(d.scores, d.labels, { sampleWeight: d.sampleWeight });
    expectSameResult(s.result(), once, { rel: 0, abs: 0 });
  });

  it('refuses to merge another configuration, and merges nothing then', () => {
    const a = xe.binaryScorer().update(new Float32Array([1]), [1]);
    const before = a.state();
    expect(() => a.merge(xe.binaryScorer({ threshold: 0.4 }))).toThrow(new RangeError("other.threshold = 0.4 does not match this scorer's threshold = 0.5"));
    expect(() => a.merge(xe.binaryScorer({ thresholds: 10 }).state())).toThrow(/other.thresholds = 10 does not match/);
    expect(() => a.merge({ ...before, count: 2 })).toThrow(RangeError);
    expect(a.state()).toEqual(before);
  });

  /** A valid state to forge from: weighted, exact, two rows. */
  const base = (): BinaryScorerState => xe.binaryScorer().update(new Float32Array([2, -1]), [1, 0], { sampleWeight: new Float32Array([1, 2]) }).state();
  const forged: [string, (s: BinaryScorerState) => unknown, RegExp, typeof TypeError | typeof RangeError][] = [
    ['not an object', () => 'state', /state must be a binary scorer state object, got "state"/, TypeError],
    ['another format', (s) => ({ ...s, format: 'xentropy-scorer' }), /state.format must be 'xentropy-binary-scorer'/, TypeError],
    ['a later version', (s) => ({ ...s, version: 2 }), /state.version = 2 is not supported/, RangeError],
    ['a missing field', (s) => { const { truePositive: _, ...rest } = s; return rest; }, /state.truePositive is missing/, TypeError],
    ['a count that is no count', (s) => ({ ...s, count: 1.5 }), /state.count = 1.5 is not a count/, RangeError],
    ['rows that do not match the count', (s) => ({ ...s, count: 3, binCount: [...s.binCount.slice(0, -1), s.binCount.at(-1)! + 1] }), /state.scores.length must be 3, got 2/, RangeError],
    ['bins that do not add up', (s) => ({ ...s, binCount: s.binCount.map(() => 0) }), /state.binCount sums to 0, not state.count = 2/, RangeError],
    ['a negative weight sum', (s) => ({ ...s, weight: [-1, 0] }), /state.weight\[0\] = -1 is not a sum of non-negative weights/, RangeError],
    ['positives above the weight', (s) => ({ ...s, positive: [10, 0] }), /state.positive = 10 exceeds state.weight = 3/, RangeError],
    ['a NaN loss', (s) => ({ ...s, loss: ['NaN', 0] }), /state.loss\[0\] = NaN is not a sum of non-negative losses/, RangeError],
    ['null for a sum (JSON of NaN)', (s) => ({ ...s, brier: [null, 0] }), /state.brier\[0\] must be a number or one of .* got null \(what JSON made of Infinity and NaN alike/, TypeError],
    ['an infinite compensation', (s) => ({ ...s, loss: [1, 'Infinity'] }), /state.loss\[1\] = Infinity is not finite/, RangeError],
    ['a score that is no float32', (s) => ({ ...s, scores: [0.1, -1] }), /state.scores\[0\] = 0.1 is not a float32 score/, RangeError],
    ['a target outside [0, 1]', (s) => ({ ...s, targets: [2, 0] }), /state.targets\[0\] = 2 is not a float32 target/, RangeError],
    ['a negative row weight', (s) => ({ ...s, weights: [-1, 2] }), /state.weights\[0\] = -1 is not a finite, non-negative/, RangeError],
    ['sums over no rows', (s) => ({ ...xe.binaryScorer().state(), weight: s.weight }), /state.weight\[0\] = 3 must be 0 when state.count = 0/, RangeError],
    ['a histogram in an exact state', (s) => ({ ...s, histPositive: [0, 0] }), /state.histPositive.length must be 0, got 2/, RangeError],
    ['epsilon for logits', (s) => ({ ...s, epsilon: 1e-7 }), /state.epsilon = 1e-7 must be 0 when state.from is 'logits'/, RangeError],
    ['a bin with sums but no rows', (s) => ({ ...s, binWeight: s.binWeight.map((x, i) => (i === 0 ? 1 : x)) }), /bin 0 holds sums but state.binCount\[0\] = 0/, RangeError],
  ];
  it.each(forged)('fromState refuses %s', (_, forge, message, Err) => {
    const state = forge(base());
    let error: unknown;
    try {
      BinaryScorer.fromState(state as BinaryScorerState);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Err);
    expect((error as Error).message).toMatch(message);
  });

  it('reads a state from own properties, once: a polluted prototype or a getter changes nothing', () => {
    const state = base();
    const { brier, ...rest } = state;
    Object.defineProperty(Object.prototype, 'brier', { value: [0, 0], configurable: true, writable: true });
    try {
      expect(() => BinaryScorer.fromState(rest as BinaryScorerState)).toThrow(/state.brier is missing/);
    } finally {
      delete (Object.prototype as Record<string, unknown>).brier;
    }
    let reads = 0;
    const tricky = { ...state };
    Object.defineProperty(tricky, 'count', { get: () => (reads++ === 0 ? 2 : 1e6), enumerable: true });
    expect(BinaryScorer.fromState(tricky).count).toBe(2);
    expect(reads).toBe(1);
    expect(brier).toBeDefined();
  });
});

describe('binary scorer refuses bad arguments, before adding anything', () => {
  const bad: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['threshold above 1', () => xe.binaryScorer({ threshold: 1.5 }), RangeError, /options.threshold must be a probability in \[0, 1\], got 1.5/],
    ['threshold NaN', () => xe.binaryScorer({ threshold: NaN }), RangeError, /options.threshold .* got NaN/],
    ['threshold a string', () => xe.binaryScorer({ threshold: '0.5' as never }), TypeError, /options.threshold must be a number, got "0.5"/],
    ['thresholds 0', () => xe.binaryScorer({ thresholds: 0 }), RangeError, /options.thresholds must be a positive integer, got 0/],
    ['thresholds 2.5', () => xe.binaryScorer({ thresholds: 2.5 }), RangeError, /options.thresholds must be a positive integer, got 2.5/],
    ['thresholds "auto"', () => xe.binaryScorer({ thresholds: 'auto' as never }), RangeError, /options.thresholds must be 'exact' or a positive integer, got "auto"/],
    ['bins 0', () => xe.binaryScorer({ bins: 0 }), RangeError, /options.bins must be a positive integer, got 0/],
    ['quantile bins with a histogram', () => xe.binaryScorer({ binning: 'quantile', thresholds: 10 }), RangeError, /options.binning 'quantile' needs options.thresholds 'exact'/],
    ['epsilon with logits', () => xe.binaryScorer({ epsilon: 1e-3 }), TypeError, /options.epsilon applies only to from 'probs'/],
    ['epsilon 0.5', () => xe.binaryScorer({ from: 'probs', epsilon: 0.5 }), RangeError, /options.epsilon must be in \(0, 0.5\), got 0.5/],
    ['an unknown option', () => xe.binaryScorer({ classes: 2 } as never), TypeError, /binaryScorer options has no option "classes"/],
    ['multilabel without labels', () => xe.multilabelScorer({} as never), TypeError, /options.labels is missing/],
    ['multilabel labels 0', () => xe.multilabelScorer({ labels: 0 }), RangeError, /options.labels must be a positive integer, got 0/],
  ];
  it.each(bad)('options: %s', (_, f, Err, message) => {
    expect(f).toThrow(Err);
    expect(f).toThrow(message);
  });

  const updates: [string, (s: BinaryScorer) => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['scores a Float64Array', (s) => s.update(new Float64Array(2) as never, [0, 1]), TypeError, /scores must be a Float32Array/],
    ['labels of another length', (s) => s.update(new Float32Array(2), [0, 1, 1]), RangeError, /labels.length must be 2 \(the scores' length\), got 3/],
    ['a label of 2', (s) => s.update(new Float32Array(2), new Uint8Array([0, 2])), RangeError, /labels\[1\] = 2 is not a target in \[0, 1\]/],
    ['a label of -1', (s) => s.update(new Float32Array(2), new Int32Array([-1, 0])), RangeError, /labels\[0\] = -1 is not a target in \[0, 1\]/],
    ['a NaN label', (s) => s.update(new Float32Array(2), new Float32Array([0, NaN])), RangeError, /labels\[1\] = NaN is not a target/],
    ['a string label', (s) => s.update(new Float32Array(2), [0, '1'] as never), TypeError, /labels\[1\] must be a number, got "1"/],
    ['labels a Float64Array', (s) => s.update(new Float32Array(2), new Float64Array(2) as never), TypeError, /labels must be a Float32Array of targets/],
    ['a NaN score', (s) => s.update(new Float32Array([0, NaN]), [0, 1]), RangeError, /scores\[1\] = NaN is not a score/],
    ['sampleWeight of another length', (s) => s.update(new Float32Array(2), [0, 1], { sampleWeight: new Float32Array(3) }), RangeError, /options.sampleWeight.length must equal the number of rows = 2, got 3/],
    ['a negative weight', (s) => s.update(new Float32Array(2), [0, 1], { sampleWeight: new Float32Array([1, -1]) }), RangeError, /options.sampleWeight\[1\] = -1 must be finite and non-negative/],
    ['an infinite weight', (s) => s.update(new Float32Array(2), [0, 1], { sampleWeight: new Float32Array([Infinity, 1]) }), RangeError, /options.sampleWeight\[0\] = Infinity/],
    ['an unknown update option', (s) => s.update(new Float32Array(2), [0, 1], { weight: 1 } as never), TypeError, /update options has no option "weight"/],
  ];
  it.each(updates)('update: %s', (_, f, Err, message) => {
    const s = xe.binaryScorer().update(new Float32Array([1]), [1]);
    const before = s.state();
    expect(() => f(s)).toThrow(Err);
    expect(() => f(s)).toThrow(message);
    expect(s.state()).toEqual(before);
  });

  it('from probs: refuses probabilities outside [0, 1]', () => {
    const s = xe.binaryScorer({ from: 'probs' });
    expect(() => s.update(new Float32Array([0.5, 1.5]), [0, 1])).toThrow(new RangeError("scores[1] = 1.5 is not a probability in [0, 1] (from: 'probs')"));
    expect(() => s.update(new Float32Array([-Infinity]), [0])).toThrow(RangeError);
    expect(s.count).toBe(0);
  });

  it('checks what it copied: a label array whose getter changes the scores cannot slip a NaN past the check', () => {
    const scores = new Float32Array([1, 2]);
    const labels = [0, 1];
    Object.defineProperty(labels, 1, { get: () => { scores[0] = NaN; return 1; }, enumerable: true });
    const s = xe.binaryScorer().update(scores, labels);
    expect(s.result().count).toBe(2);
    expect(s.state().scores).toEqual([1, 2]);
  });
});

describe('multilabel scorer', () => {
  const L = 3, n = 200;
  const u = rng(99);
  const scores = Float32Array.from(normal(n * L, 2, 5));
  const labels = Uint8Array.from(scores, (x) => (x + 2 * (u() - 0.5) > 0 ? 1 : 0));
  const sampleWeight = Float32Array.from({ length: n }, () => Math.fround(u() * 2));

  it('each label is the binary scorer of its column; micro is the binary scorer of every pair', () => {
    for (const options of [{}, { thresholds: 32 }, { from: 'logits' as const, threshold: 0.3 }]) {
      const r = xe.multilabelScorer({ labels: L, ...options }).update(scores, labels, { sampleWeight }).result();
      expect(r.count).toBe(n);
      for (let l = 0; l < L; l++) {
        const col = scores.filter((_, i) => i % L === l), y = labels.filter((_, i) => i % L === l);
        expectSameResult(r.perLabel[l], xe.binaryScorer(options).update(col, y, { sampleWeight }).result(), { rel: 0, abs: 0 }, `label ${l}`);
      }
      const repeated = Float32Array.from({ length: n * L }, (_, i) => sampleWeight[Math.floor(i / L)]);
      expectSameResult(r.micro, xe.binaryScorer(options).update(scores, labels, { sampleWeight: repeated }).result(), F64, 'micro');
      const macro = r.perLabel.reduce((s, x) => s + x.f1, 0) / L;
      expect(r.macro.f1).toBeCloseTo(macro, 15);
      const weighted = r.perLabel.reduce((s, x) => s + x.positives * x.rocAuc, 0) / r.perLabel.reduce((s, x) => s + x.positives, 0);
      expect(r.weighted.rocAuc).toBeCloseTo(weighted, 15);
      const ref = reference.multilabelScore(scores, labels, { labels: L, ...options, sampleWeight });
      for (let l = 0; l < L; l++) expectSameResult(r.perLabel[l], ref.perLabel[l], F64, `reference label ${l}`);
      expectSameResult(r.micro, ref.micro, F64, 'reference micro');
    }
  });

  it('states round-trip through JSON, merge in any order, reset and refuse mismatches', () => {
    const options = { labels: L, thresholds: 16 };
    const whole = xe.multilabelScorer(options).update(scores, labels, { sampleWeight }).result();
    const a = xe.multilabelScorer(options).update(scores.subarray(0, 90), labels.subarray(0, 90), { sampleWeight: sampleWeight.subarray(0, 30) });
    const b = xe.multilabelScorer(options).update(scores.subarray(90), labels.subarray(90), { sampleWeight: sampleWeight.subarray(30) });
    const merged = MultilabelScorer.fromState(JSON.parse(JSON.stringify(b.state()))).merge(JSON.parse(JSON.stringify(a.state()))).result();
    for (let l = 0; l < L; l++) expectSameResult(merged.perLabel[l], whole.perLabel[l], F64, `label ${l}`);
    expect(() => a.merge(xe.multilabelScorer({ labels: 2, thresholds: 16 }))).toThrow(new RangeError("other.labels = 2 does not match this scorer's labels = 3"));
    const state = a.state();
    expect(() => xe.multilabelScorerFromState({ ...state, count: 5 })).toThrow(/state.perLabel\[0\].count = 30 is not state.count = 5/);
    expect(() => xe.multilabelScorerFromState({ ...state, perLabel: state.perLabel.slice(1) })).toThrow(/state.perLabel.length must be 3, got 2/);
    expect(() => a.update(new Float32Array(4), new Uint8Array(4))).toThrow(new RangeError('scores.length = 4 is not a multiple of labels = 3'));
    expect(() => a.update(new Float32Array(3), new Uint8Array(3), { sampleWeight: new Float32Array(3) })).toThrow(/options.sampleWeight.length must equal the number of rows = 1, got 3/);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.state()).toEqual(xe.multilabelScorer(options).state());
  });
});
