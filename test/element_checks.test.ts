// The element checks of entropy, KL and JS divergence and of crossEntropy from probabilities or
// log-probabilities, which the WebAssembly backends do with a range scan in WebAssembly
// (src/engine/element_checks.ts): wherever the bad element lies (a later copy window, the
// last element, in p and in q at once) the error is the reference's, and nothing the caller can see
// is written before it.

import { describe, expect, it } from 'vitest';
import { reference, type Resident, type Xentropy } from '../src/index.js';
import { windowRows } from '../src/engine/staging.js';
import { expectSameBits, labels, probabilities, wasmBackends } from './helpers.js';

const C = 1000;
// Three copy windows, the last one partial.
const rows = 2 * windowRows(C) + 7, n = rows * C;
const p = probabilities(rows, C, 71), q = probabilities(rows, C, 72);
const logP = p.map(Math.log);
const y = labels(rows, C, 73);
/** Labels for p read as [rows, C / 2, spatial = 2] (PyTorch's layout, gathered row by row): 2 rows per sample. */
const ySpatial = labels(2 * rows, C / 2, 74);
/** An index in the second window, and one in the third. */
const second = (windowRows(C) + 3) * C + 17, third = (2 * windowRows(C) + 1) * C + 5;

/** A copy of x with x[i] = v for each [i, v]. */
function edited(x: Float32Array, ...edits: [number, number][]): Float32Array {
  const y = x.slice();
  for (const [i, v] of edits) y[i] = v;
  return y;
}

type Arg = Float32Array | Resident;
type Call = (xe: Xentropy, p: Arg, q: Arg) => unknown;
/** The reference, called like an instance (it takes plain arrays only, which is all it is given here). */
const ref = reference as unknown as Xentropy;

// [what, the call, p, q, the message]
const refusals: [string, Call, Float32Array, Float32Array, RegExp][] = [
  ['entropy, p above 1 in the second window', (xe, a) => xe.entropy(a, C, { reduction: 'sum' }),
    edited(p, [second, 1.5]), q, new RegExp(`^p\\[${second}\\] = 1\\.5 is not a probability in \\[0, 1\\]$`)],
  ['entropy per row, NaN as the last element', (xe, a) => xe.entropy(a, C),
    edited(p, [n - 1, NaN]), q, new RegExp(`^p\\[${n - 1}\\] = NaN is not a probability in \\[0, 1\\]$`)],
  ['klDivergence, q NaN as the last element', (xe, a, b) => xe.klDivergence(a, b, C),
    p, edited(q, [n - 1, NaN]), new RegExp(`^q\\[${n - 1}\\] = NaN is not a probability`)],
  // q goes bad a window before p does; the reference checks all of p first, so p is named.
  ['klDivergence, q bad in the second window and p in the third', (xe, a, b) => xe.klDivergence(a, b, C, { reduction: 'none' }),
    edited(p, [third, -0.25]), edited(q, [second, 2]), new RegExp(`^p\\[${third}\\] = -0\\.25 is not a probability`)],
  ['klDivergence, a positive log target in the second window', (xe, a, b) => xe.klDivergence(a, b, C, { logTarget: true }),
    edited(logP, [second, 0.5]), q, new RegExp(`^p\\[${second}\\] = 0\\.5 is not a log-probability in \\[-Infinity, 0\\]$`)],
  ['klDivergence from logProbs, p above 1 (q is not checked)', (xe, a, b) => xe.klDivergence(a, b, C, { from: 'logProbs' }),
    edited(p, [third, 3]), edited(q, [0, 5]), new RegExp(`^p\\[${third}\\] = 3 is not a probability`)],
  ['jsDivergence, q bad in the second window and p in the third', (xe, a, b) => xe.jsDivergence(a, b, C),
    edited(p, [third, Infinity]), edited(q, [second, -1]), new RegExp(`^p\\[${third}\\] = Infinity is not a probability`)],
  ['jsDivergence per row, q above 1 in the third window', (xe, a, b) => xe.jsDivergence(a, b, C, { reduction: 'none' }),
    p, edited(q, [third, 1.0000001]), new RegExp(`^q\\[${third}\\] = 1\\.0000001\\d* is not a probability`)],
  ['crossEntropy from probs, above 1 in the second window', (xe, a) => xe.crossEntropy(a, y, { classes: C, from: 'probs' }),
    edited(p, [second, 1.5]), q, new RegExp(`^input\\[${second}\\] = 1\\.5 is not a probability in \\[0, 1\\]$`)],
  ['crossEntropy from probs per row, NaN as the last element', (xe, a) => xe.crossEntropy(a, y, { classes: C, from: 'probs', reduction: 'none' }),
    edited(p, [n - 1, NaN]), q, new RegExp(`^input\\[${n - 1}\\] = NaN is not a probability`)],
  ['crossEntropy from probs over soft targets, negative in the third window',
    (xe, a) => xe.crossEntropy(a, q, { classes: C, from: 'probs', labelSmoothing: 0.1 }),
    edited(p, [third, -0.5]), q, new RegExp(`^input\\[${third}\\] = -0\\.5 is not a probability`)],
  ['crossEntropy from probs in [N, C, spatial] layout, above 1 in the second window',
    (xe, a) => xe.crossEntropy(a, ySpatial, { classes: C / 2, spatial: 2, from: 'probs' }),
    edited(p, [second, 2]), q, new RegExp(`^input\\[${second}\\] = 2 is not a probability`)],
  ['crossEntropy from logProbs, positive in the third window', (xe, a) => xe.crossEntropy(a, y, { classes: C, from: 'logProbs' }),
    edited(logP, [third, 0.5]), q, new RegExp(`^input\\[${third}\\] = 0\\.5 is not a log-probability \\(from: 'logProbs' needs values <= 0\\)$`)],
  // A bad label and a bad probability: every other check comes before the element check, in both.
  ['crossEntropy from probs, a bad probability and a bad label',
    (xe, a) => xe.crossEntropy(a, Int32Array.from(y, (v, i) => (i === 5 ? C : v)), { classes: C, from: 'probs' }),
    edited(p, [0, 1.5]), q, new RegExp(`^target\\[5\\] = ${C} is not a class index`)],
];

describe.each(wasmBackends)('element checks on %s', (_name, xe) => {
  /** `call` on resident copies of p and q, freed afterwards. */
  function onResident<T>(a: Float32Array, b: Float32Array, call: (ra: Resident, rb: Resident) => T): T {
    const ra = xe.tensor(a), rb = xe.tensor(b);
    try {
      return call(ra, rb);
    } finally {
      ra.free(); rb.free();
    }
  }

  it('spans three copy windows', () => {
    expect(second).toBeGreaterThanOrEqual(windowRows(C) * C);
    expect(third).toBeGreaterThanOrEqual(2 * windowRows(C) * C);
  });

  it.each(refusals)('refuses %s with the reference message, plain or resident', (_what, call, a, b, message) => {
    expect(() => call(ref, a, b)).toThrow(message);
    expect(() => call(xe, a, b)).toThrow(message);
    onResident(a, b, (ra, rb) => {
      expect(() => call(xe, ra, rb)).toThrow(message);
      expect(() => call(xe, ra, b)).toThrow(message);
      expect(() => call(xe, a, rb)).toThrow(message);
    });
  });

  it('accepts what the reference accepts at the edges of the ranges: -0, 0, 1, subnormals, -Infinity log targets', () => {
    const edges: [number, number][] = [[second, -0], [second + 1, 0], [second + 2, 1], [third, 1e-45], [n - 1, 2 ** -126]];
    const a = edited(p, ...edges), b = edited(q, ...edges);
    const logA = edited(logP, [second, -Infinity], [third, -0], [n - 1, 0]);
    for (const [what, call] of [
      ['entropy', (x: Arg) => xe.entropy(x, C, { reduction: 'sum' })],
      ['klDivergence', (x: Arg, y: Arg) => xe.klDivergence(x, y, C)],
      ['jsDivergence', (x: Arg, y: Arg) => xe.jsDivergence(x, y, C)],
    ] as [string, (x: Arg, y: Arg) => number][]) {
      const plain = call(a, b);
      expect(Number.isFinite(plain), what).toBe(true);
      expectSameBits(onResident(a, b, call), plain, `${what}, resident`);
    }
    expect(Number.isFinite(xe.klDivergence(logA, q, C, { logTarget: true }))).toBe(true);
    const ce = (x: Arg) => xe.crossEntropy(x, y, { classes: C, from: 'probs' });
    expect(Number.isFinite(ce(a))).toBe(true);
    expectSameBits(onResident(a, b, ce), ce(a), 'crossEntropy from probs, resident');
    expect(() => xe.crossEntropy(logA, y, { classes: C, from: 'logProbs' })).not.toThrow();
  });

  it('crossEntropyOver refuses a batch from probs with the crossEntropy message, after the batches before it', () => {
    const bad = edited(p, [second, NaN]);
    const message = new RegExp(`^batches\\[1\\]: input\\[${second}\\] = NaN is not a probability in \\[0, 1\\]$`);
    const o = { classes: C, from: 'probs' } as const;
    expect(() => xe.crossEntropyOver([{ input: p, target: y }, { input: bad, target: y }], o)).toThrow(message);
    onResident(bad, q, (rb) => {
      expect(() => xe.crossEntropyOver([{ input: p, target: y }, { input: rb, target: y }], o)).toThrow(message);
    });
  });

  it('crossEntropyWithGrad from probs or logProbs refuses before writing gradOut, a resident gradOut or the input in place', () => {
    const sentinel = new Float32Array(n).fill(7);
    for (const from of ['probs', 'logProbs'] as const) {
      const good = from === 'probs' ? p : logP;
      const bad = edited(good, [n - 1, 1.5]);
      const message = new RegExp(`^input\\[${n - 1}\\] = 1\\.5 is not a ${from === 'probs' ? 'probability' : 'log-probability'}`);
      const gradOut = sentinel.slice();
      expect(() => xe.crossEntropyWithGrad(bad, y, { classes: C, from, gradOut })).toThrow(message);
      expectSameBits(gradOut, sentinel, `${from}: gradOut untouched`);
      const inPlace = bad.slice();
      expect(() => xe.crossEntropyWithGrad(inPlace, y, { classes: C, from, gradOut: inPlace })).toThrow(message);
      expectSameBits(inPlace, bad, `${from}: input untouched by a refused in-place call`);
      const spatial = sentinel.slice();
      expect(() => xe.crossEntropyWithGrad(bad, ySpatial, { classes: C / 2, spatial: 2, from, gradOut: spatial })).toThrow(message);
      expectSameBits(spatial, sentinel, `${from}: gradOut untouched, [N, C, spatial] layout`);
      onResident(bad, sentinel, (rb, rg) => {
        expect(() => xe.crossEntropyWithGrad(rb, y, { classes: C, from, gradOut: rg })).toThrow(message);
        expectSameBits(rg.array, sentinel, `${from}: resident gradOut untouched`);
        expect(() => xe.crossEntropyWithGrad(bad, y, { classes: C, from, gradOut: rg })).toThrow(message);
        expectSameBits(rg.array, sentinel, `${from}: resident gradOut untouched, plain input`);
        expect(() => xe.crossEntropyWithGrad(rb, y, { classes: C, from, gradOut: rb })).toThrow(message);
        expectSameBits(rb.array, bad, `${from}: resident input untouched by a refused in-place call`);
      });
      // Without a gradOut the gradient is a new array: the call still refuses, returning nothing.
      expect(() => xe.crossEntropyWithGrad(bad, y, { classes: C, from })).toThrow(message);
    }
  });

  it('klDivergenceWithGrad refuses before writing gradOut, a resident gradOut or q in place', () => {
    const badP = edited(p, [n - 1, 1.5]);
    const message = new RegExp(`^p\\[${n - 1}\\] = 1\\.5 is not a probability`);
    const sentinel = new Float32Array(n).fill(7);
    for (const from of ['probs', 'logits', 'logProbs'] as const) {
      const qs = from === 'probs' ? q : q.map((v) => Math.log(v) - 1);
      const gradOut = sentinel.slice();
      expect(() => xe.klDivergenceWithGrad(badP, qs, C, { from, gradOut })).toThrow(message);
      expectSameBits(gradOut, sentinel, `${from}: gradOut untouched`);
      const inPlace = qs.slice();
      expect(() => xe.klDivergenceWithGrad(badP, inPlace, C, { from, gradOut: inPlace })).toThrow(message);
      expectSameBits(inPlace, qs, `${from}: q untouched by a refused in-place call`);
      onResident(badP, qs, (rp, rq) => {
        const rg = xe.tensor(sentinel);
        try {
          expect(() => xe.klDivergenceWithGrad(rp, rq, C, { from, gradOut: rg })).toThrow(message);
          expectSameBits(rg.array, sentinel, `${from}: resident gradOut untouched`);
          expect(() => xe.klDivergenceWithGrad(badP, rq, C, { from, gradOut: rg })).toThrow(message);
          expectSameBits(rg.array, sentinel, `${from}: resident gradOut untouched, plain p`);
          expect(() => xe.klDivergenceWithGrad(rp, rq, C, { from, gradOut: rq })).toThrow(message);
          expectSameBits(rq.array, qs, `${from}: resident q untouched by a refused in-place call`);
        } finally {
          rg.free();
        }
      });
    }
  });

  it('is unharmed by the refusals: the next calls give the bits they gave before', () => {
    const calls = () => [
      xe.entropy(p, C, { reduction: 'sum' }), xe.klDivergence(p, q, C), xe.jsDivergence(p, q, C),
      xe.crossEntropy(p, y, { classes: C, from: 'probs' }),
    ];
    const before = calls();
    for (const [, call, a, b] of refusals) expect(() => call(xe, a, b)).toThrow(RangeError);
    const after = calls();
    after.forEach((v, i) => expectSameBits(v, before[i], `call ${i}`));
  });
});
