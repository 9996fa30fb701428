import { describe, expect, it } from 'vitest';
import { MAX_CONFUSION_CLASSES, QUANTILE_SLOTS, Scorer, reference, type ScoreResult, type ScorerOptions, type Xentropy } from '../src/index.js';
import { expectClose, labels as randomLabels, normal, probabilities, wasmBackends } from './helpers.js';

/** Logits whose softmax is p (shifted by a constant per row, which softmax ignores). */
function logitsOf(rows: number[][], shift = 3): Float32Array {
  return Float32Array.from(rows.flat().map((p) => Math.log(p) + shift));
}

/** Every metric of a to within rel (relative) + abs of b; counts exactly. */
function expectResultClose(a: ScoreResult, b: ScoreResult, rel: number, abs = 0): void {
  expect(a.count).toBe(b.count);
  expect(a.unit).toBe(b.unit);
  for (const key of ['loss', 'lossNats', 'lossBits', 'perplexity', 'bitsPerToken', 'accuracy', 'brier', 'ece', 'mce', 'rmsce'] as const) {
    expectClose(a[key], b[key], { rel, abs });
  }
  // Per-class figures come from counts of the same arg-max: exact counts, ratios to a few ulps.
  const ulps = { rel: 1e-15, abs: 0 };
  expect(Array.from(a.perClass!.support)).toEqual(Array.from(b.perClass!.support));
  for (const key of ['precision', 'recall', 'f1'] as const) {
    expectClose(a.perClass![key], b.perClass![key], ulps);
    for (const avg of ['macro', 'micro', 'weighted'] as const) expectClose(a[avg]![key], b[avg]![key], ulps);
  }
  expectClose(a.balancedAccuracy!, b.balancedAccuracy!, ulps);
  expect(a.confusion && Array.from(a.confusion)).toEqual(b.confusion && Array.from(b.confusion));
  expect(Object.keys(a.topK)).toEqual(Object.keys(b.topK));
  for (const k of Object.keys(b.topK)) expectClose(a.topK[k], b.topK[k], { rel, abs });
  expect(a.bitsPerByte === null).toBe(b.bitsPerByte === null);
  if (b.bitsPerByte !== null) expectClose(a.bitsPerByte!, b.bitsPerByte, { rel, abs });
  expect(a.bins.length).toBe(b.bins.length);
  a.bins.forEach((bin, i) => {
    expect(bin.count).toBe(b.bins[i].count);
    expectClose(bin.confidence, b.bins[i].confidence, { rel, abs });
    expectClose(bin.accuracy, b.bins[i].accuracy, { rel, abs });
  });
}

describe.each(wasmBackends)('scorer (%s)', (_name, xe: Xentropy) => {
  it('matches values checked by hand on 3 rows x 3 classes', () => {
    // Row 0: label 0 is the arg-max (correct, rank 0, confidence 0.45).
    // Row 1: label 1 ties class 0 and is beaten by class 2 (wrong, rank 1: ties do not count).
    // Row 2: label 2 is beaten by class 1 only (wrong, rank 1).
    const p = [[0.45, 0.3, 0.25], [0.15, 0.15, 0.7], [0.1, 0.75, 0.15]];
    const y = [0, 1, 2];
    const opts: ScorerOptions = { classes: 3, topK: [1, 2], bins: 5 };
    const lossNats = (-Math.log(0.45) - Math.log(0.15) - Math.log(0.15)) / 3;
    const brier = ((0.55 ** 2 + 0.3 ** 2 + 0.25 ** 2) + (0.15 ** 2 + 0.85 ** 2 + 0.7 ** 2) + (0.1 ** 2 + 0.75 ** 2 + 0.85 ** 2)) / 3;
    // Bins of width 0.2: 0.45 falls in [0.4, 0.6) (accuracy 1), 0.7 and 0.75 in [0.6, 0.8) (accuracy 0).
    const gap2 = Math.abs(1 - 0.45), gap3 = Math.abs(0 - (0.7 + 0.75) / 2);
    const forms: [string, Float32Array, ScorerOptions][] = [
      ['logits', logitsOf(p), opts],
      ['probs', Float32Array.from(p.flat()), { ...opts, from: 'probs' }],
      ['logProbs', Float32Array.from(p.flat().map(Math.log)), { ...opts, from: 'logProbs' }],
    ];
    for (const [, input, o] of forms) {
      for (const r of [xe.scorer(o).update(input, y).result(), reference.score(input, y, o)]) {
        const tol = { rel: 1e-6, abs: 1e-7 };
        expect(r.count).toBe(3);
        expectClose(r.lossNats, lossNats, tol);
        expectClose(r.lossBits, lossNats / Math.LN2, tol);
        expectClose(r.perplexity, Math.exp(lossNats), tol);
        expect(r.accuracy).toBe(1 / 3);
        expect(r.topK).toEqual({ 1: 1 / 3, 2: 1 });
        expectClose(r.brier, brier, tol);
        expect(r.bins.map((b) => b.count)).toEqual([0, 0, 1, 2, 0]);
        expectClose(r.bins[3].confidence, 0.725, tol);
        expectClose(r.ece, gap2 / 3 + (2 / 3) * gap3, tol);
        expectClose(r.mce, Math.max(gap2, gap3), tol);
        expect(r.bitsPerByte).toBe(null);
      }
    }
  });

  it('gives per-class figures, their averages, balanced accuracy and the confusion, checked by hand', () => {
    // Class 3 is predicted once and never a label; class 4 is neither, and is left out of the macro average.
    const C = 5, y = [0, 0, 1, 2, 2], pred = [0, 3, 1, 2, 0];
    const z = new Float32Array(y.length * C);
    pred.forEach((c, r) => { z[r * C + c] = 4; });
    const o: ScorerOptions = { classes: C, confusion: true };
    const exact = { rel: 1e-15, abs: 0 };
    for (const r of [xe.scorer(o).update(z, y).result(), reference.score(z, y, o)]) {
      expect(Array.from(r.perClass!.support)).toEqual([2, 1, 2, 0, 0]);
      expect(Array.from(r.perClass!.precision)).toEqual([1 / 2, 1, 1, 0, 0]);
      expect(Array.from(r.perClass!.recall)).toEqual([1 / 2, 1, 1 / 2, 0, 0]);
      expectClose(r.perClass!.f1, [1 / 2, 1, 2 / 3, 0, 0], exact);
      expectClose(r.macro!.precision, 2.5 / 4, exact);
      expectClose(r.macro!.recall, 2 / 4, exact);
      expectClose(r.macro!.f1, (1 / 2 + 1 + 2 / 3) / 4, exact);
      expect(r.micro).toEqual({ precision: 3 / 5, recall: 3 / 5, f1: 3 / 5 });
      expectClose(r.weighted!.precision, 4 / 5, exact);
      expectClose(r.weighted!.recall, 3 / 5, exact);
      expectClose(r.weighted!.f1, (1 + 1 + 4 / 3) / 5, exact);
      expectClose(r.balancedAccuracy!, 2 / 3, exact);
      const cells = new Array<number>(C * C).fill(0);
      y.forEach((label, i) => { cells[label * C + pred[i]]++; });
      expect(Array.from(r.confusion!)).toEqual(cells);
    }
    // Without the option there is no confusion; with no rows every average is NaN.
    expect('confusion' in xe.scorer({ classes: C }).update(z, y).result()).toBe(false);
    const empty = xe.scorer({ classes: C }).result();
    expect(Array.from(empty.perClass!.support)).toEqual([0, 0, 0, 0, 0]);
    expect([empty.macro!.f1, empty.micro!.f1, empty.weighted!.f1, empty.balancedAccuracy, empty.rmsce]).toEqual([NaN, NaN, NaN, NaN, NaN]);
  });

  it('gives the L2 calibration error from the bins (torchmetrics\' norm l2)', () => {
    const z = normal(400 * 6, 2, 77);
    const y = randomLabels(400, 6, 78);
    const r = xe.scorer({ classes: 6, bins: 7 }).update(z, y).result();
    let sum = 0;
    for (const bin of r.bins) if (bin.count > 0) sum += (bin.count / r.count) * (bin.accuracy - bin.confidence) ** 2;
    expectClose(r.rmsce, Math.sqrt(sum), { rel: 1e-15, abs: 0 });
    // Between the mean and the largest gap.
    expect(r.rmsce).toBeGreaterThanOrEqual(r.ece);
    expect(r.rmsce).toBeLessThanOrEqual(r.mce);
  });

  it("cuts quantile bins at the slot edge just above each exact quantile (binning: 'quantile')", () => {
    const rows = 1000, C = 5, B = 7, S = B * QUANTILE_SLOTS;
    const p = probabilities(rows, C, 91);
    const y = randomLabels(rows, C, 92);
    const o: ScorerOptions = { classes: C, bins: B, binning: 'quantile', from: 'probs' };
    const r = xe.scorer(o).update(p, y).result();
    expectResultClose(r, reference.score(p, y, o), 2e-6, 1e-7);
    // The confidences the kernel bins: each row's largest probability (float32, read exactly).
    const conf = Array.from({ length: rows }, (_, i) => Math.max(...p.subarray(i * C, (i + 1) * C))).sort((a, b) => a - b);
    expect(r.bins.map((b) => b.count).reduce((a, b) => a + b)).toBe(rows);
    expect(r.bins[0].lower).toBe(0);
    expect(r.bins[B - 1].upper).toBe(1);
    for (let k = 1; k < B; k++) {
      // The row that brings the count to k N / B: the exact quantile edge lies at its confidence, and the
      // bin edge is the upper end of its slot, less than 1 / (B QUANTILE_SLOTS) above it.
      const q = conf[Math.ceil((k * rows) / B) - 1];
      const edge = r.bins[k].lower;
      expect(r.bins[k - 1].upper).toBe(edge);
      expect(edge).toBe((Math.floor(q * S) + 1) / S);
      expect(edge - q).toBeLessThanOrEqual(1 / S);
      // Rows below the edge: at least k N / B, and only the rows of q's slot beyond it.
      const below = conf.filter((c) => c < edge).length;
      expect(below).toBeGreaterThanOrEqual((k * rows) / B);
      expect(below - conf.filter((c) => c < edge - 1 / S).length).toBeGreaterThan(below - (k * rows) / B - 1);
    }
    for (const bin of r.bins) if (bin.count > 0) expect(bin.confidence >= bin.lower && bin.confidence < bin.upper).toBe(true);
    // Uniform binning is the default and what it always was.
    expect(xe.scorer({ ...o, binning: 'uniform' }).update(p, y).result()).toEqual(xe.scorer({ ...o, binning: undefined }).update(p, y).result());
  });

  it('keeps the confusion up to MAX_CONFUSION_CLASSES classes and refuses it above, with a hint', () => {
    expect(MAX_CONFUSION_CLASSES).toBe(1024);
    const r = xe.scorer({ classes: 1024, confusion: true, topK: [] }).update(new Float32Array(1024), [1023]).result();
    expect(r.confusion!.length).toBe(1024 * 1024);
    expect(r.confusion![1023 * 1024]).toBe(1);
    expect(() => xe.scorer({ classes: 1025, confusion: true })).toThrow(RangeError);
    expect(() => xe.scorer({ classes: 1025, confusion: true })).toThrow(
      'options.confusion keeps classes² counts, for at most 1024 classes, got classes = 1025; without it, result().perClass still gives',
    );
    expect(() => xe.scorer({ classes: 3, confusion: 1 as never })).toThrow(TypeError);
    expect(() => xe.scorer({ classes: 3, confusion: 1 as never })).toThrow('options.confusion must be a boolean, got 1');
    expect('confusion' in xe.scorer({ classes: 1025, confusion: false }).result()).toBe(false);
  });

  it('takes the first arg-max on ties, and counts only strictly greater classes in the rank', () => {
    const z = new Float32Array([2, 2, 1, 1, /**/ 5, 5, 5, 5, /**/ 0, 3, 3, -1]);
    const s = xe.scorer({ classes: 4, topK: [1, 2, 3] }).update(z, [1, 0, 2]);
    // Row 0: arg-max 0 (label 1 wrong), rank of label 1 = 0; row 1: arg-max 0 = label; row 2: rank 0, arg-max 1.
    const r = s.result();
    expect(r.accuracy).toBe(1 / 3);
    expect(r.topK).toEqual({ 1: 1, 2: 1, 3: 1 });
    expect(reference.score(z, [1, 0, 2], { classes: 4, topK: [1, 2, 3] }).accuracy).toBe(1 / 3);
    expectClose(r.bins[3].confidence, 0.25, { rel: 1e-6, abs: 0 });
  });

  it.each([2, 3, 7, 16, 17, 1000])('agrees with the float64 reference for %i classes', (classes) => {
    const rows = classes === 1000 ? 300 : 700; // 300 x 1000 floats is larger than the 256 KiB window
    const z = normal(rows * classes, 3, classes);
    const y = randomLabels(rows, classes, classes + 1);
    for (let r = 5; r < rows; r += 11) y[r] = -100;
    // Every k below classes (k >= classes is refused: every row would be a hit).
    const opts: ScorerOptions = { classes, topK: [1, 2, 5].filter((k) => k < classes), bins: 10 };
    const got = xe.scorer(opts).update(z, y, 12345).result();
    const want = reference.score(z, y, { ...opts, bytes: 12345 });
    expectResultClose(got, want, 2e-6, 1e-7);
    // Probabilities and log-probabilities of the same rows.
    const p = new Float32Array(reference.softmax(z, classes));
    const pw = reference.score(p, y, { ...opts, from: 'probs' });
    expectResultClose(xe.scorer({ ...opts, from: 'probs' }).update(p, y).result(), pw, 2e-6, 1e-7);
    const lp = new Float32Array(reference.logSoftmax(z, classes)).map((v) => Math.min(v, 0));
    const lw = reference.score(lp, y, { ...opts, from: 'logProbs' });
    expectResultClose(xe.scorer({ ...opts, from: 'logProbs' }).update(lp, y).result(), lw, 2e-6, 1e-7);
  });

  it('keeps small losses and Brier terms of confident, correct rows', () => {
    const z = new Float32Array([20, 0, 0, 0, 30, 0]);
    const r = xe.scorer({ classes: 3 }).update(z, [0, 1]).result();
    const want = reference.score(z, [0, 1], { classes: 3 });
    expectClose(r.lossNats, want.lossNats, { rel: 1e-6, abs: 0 });
    expectClose(r.brier, want.brier, { rel: 1e-5, abs: 0 });
    expect(r.lossNats).toBeGreaterThan(0);
  });

  it('keeps its sums compensated in WebAssembly: tiny losses after a large one are not rounded away', () => {
    // Row 0 costs about 30 nats; each of the next 1000 about 1.7e-16, under half an ulp of 30, so a
    // plain f64 sum would stay at row 0's loss. The compensation must hold all of them.
    const rows = 1001, C = 3;
    const z = new Float32Array(rows * C);
    z.set([0, 30, 0]);
    for (let r = 1; r < rows; r++) z[r * C] = 37;
    const y = new Int32Array(rows);
    const big = xe.scorer({ classes: C }).update(z.subarray(0, C), y.subarray(0, 1)).state().loss[0] as number;
    const tiny = xe.scorer({ classes: C }).update(z.subarray(C, 2 * C), y.subarray(0, 1)).state().loss[0] as number;
    expectClose(tiny, Math.log1p(2 * Math.exp(-37)), { rel: 1e-6, abs: 0 });
    for (const s of [xe.scorer({ classes: C }).update(z, y), xe.scorer({ classes: C }).update(z.subarray(0, C), y.subarray(0, 1)).update(z.subarray(C), y.subarray(1))]) {
      const [sum, comp] = s.state().loss as [number, number];
      // sum - big is exact (both near 30); the compensation carries the rest.
      expectClose((sum - big) + comp, 1000 * tiny, { rel: 1e-9, abs: 0 });
    }
  });

  it('follows the reference on -inf (masked) logits, and lets NaN and +inf rows make the means NaN or +inf', () => {
    const z = new Float32Array([
      1, -Infinity, 2, 0, /**/ -Infinity, 3, -Infinity, -Infinity, /**/ 0, 1, -Infinity, 5, /**/ 2, 2, 2, -Infinity,
    ]);
    const y = [2, 1, 3, 0];
    const opts: ScorerOptions = { classes: 4, topK: [1, 2] };
    expectResultClose(xe.scorer(opts).update(z, y).result(), reference.score(z, y, opts), 1e-6, 1e-7);
    // The masked true class costs +inf.
    expect(xe.scorer(opts).update(z.subarray(0, 4), [1]).result().lossNats).toBe(Infinity);
    for (const bad of [NaN, Infinity]) {
      const w = Float32Array.from(z);
      w[9] = bad;
      const got = xe.scorer(opts).update(w, y).result(), want = reference.score(w, y, opts);
      // lse - z_y: NaN for a NaN row, +inf for a +inf row (lse = +inf), as torch.logsumexp.
      expect(want.lossNats).toBe(bad === Infinity ? Infinity : NaN);
      expect(got.lossNats).toBe(want.lossNats);
      expect(got.brier).toBeNaN();
      expect(want.brier).toBeNaN();
      // numpy's arg-max takes the first NaN (or the +inf), as the reference.
      expect(got.accuracy).toBe(want.accuracy);
      expect(got.topK).toEqual(want.topK);
    }
  });

  it('merges shards exactly: shards merged (through JSON) equal one scorer fed everything', () => {
    const classes = 17, rows = 2000;
    const z = normal(rows * classes, 4, 91);
    const y = randomLabels(rows, classes, 92);
    const opts: ScorerOptions = { classes, topK: [1, 3], bins: 15 };
    const whole = xe.scorer(opts).update(z, y, rows * 3).result();
    const cuts = [0, 1, 37, 38, 511, 1024, 1999, rows];
    const shards = cuts.slice(1).map((end, i) => {
      const start = cuts[i];
      const s = xe.scorer(opts).update(z.subarray(start * classes, end * classes), y.subarray(start, end), (end - start) * 3);
      return JSON.parse(JSON.stringify(s.state()));
    });
    // Merge in a scrambled order, half as states and half as scorers.
    const merged = xe.scorer(opts);
    for (const i of [3, 0, 6, 1, 5, 2, 4]) merged.merge(i % 2 ? Scorer.fromState(xe, shards[i]) : shards[i]);
    expectResultClose(merged.result(), whole, 1e-12);
    expect(merged.result().bins.map((b) => b.count)).toEqual(whole.bins.map((b) => b.count));
  });

  it('resets to a new scorer of its options, then counts again as one fed only what follows', () => {
    const classes = 11, rows = 300;
    const z = normal(rows * classes, 3, 93);
    const y = randomLabels(rows, classes, 94);
    const opts: ScorerOptions = { classes, topK: [1, 3], bins: 10, confusion: true, perSequence: true, sequenceLength: 30 };
    const fresh = xe.scorer(opts);
    const s = xe.scorer(opts).update(z, y);
    expect(s.count).toBe(rows);
    expect(s.reset()).toBe(s);
    expect(JSON.stringify(s.state())).toBe(JSON.stringify(fresh.state()));
    const half = rows / 2;
    s.update(z.subarray(0, half * classes), y.subarray(0, half));
    fresh.update(z.subarray(0, half * classes), y.subarray(0, half));
    expect(JSON.stringify(s.state())).toBe(JSON.stringify(fresh.state()));
    // A scorer restored from a version 1 state (no per-class counts) gains them on reset.
    const v1 = { ...JSON.parse(JSON.stringify(xe.scorer({ classes }).update(z, y).state())), version: 1 };
    for (const key of ['classSupport', 'classPredicted', 'classCorrect', 'confusion', 'binning', 'shift', 'sequenceLength', 'sequences']) delete v1[key];
    const old = Scorer.fromState(xe, v1);
    expect('classSupport' in old.state()).toBe(false);
    expect(old.reset().state()).toEqual(xe.scorer({ classes }).state());
  });

  it('round-trips its state through JSON, and keeps counting after', () => {
    const classes = 7;
    const z = normal(300 * classes, 2, 5);
    const y = randomLabels(300, classes, 6);
    const a = xe.scorer({ classes, bins: 4, unit: 'bits' }).update(z.subarray(0, 100 * classes), y.subarray(0, 100));
    const json = JSON.stringify(a.state());
    const state = JSON.parse(json);
    expect(state).toMatchObject({ format: 'xentropy-scorer', version: 3, classes, bins: 4, unit: 'bits' });
    expect(state.binCount).toHaveLength(4);
    const b = xe.scorerFromState(state);
    expect(b.result()).toEqual(a.result());
    a.update(z.subarray(100 * classes), y.subarray(100));
    b.update(z.subarray(100 * classes), y.subarray(100));
    expect(b.result()).toEqual(a.result());
    expect(b.result().loss).toBe(b.result().lossBits);
  });

  it('skips ignored rows entirely', () => {
    const classes = 5;
    const z = normal(50 * classes, 2, 8);
    const y = randomLabels(50, classes, 9);
    const keep: number[] = [];
    for (let r = 0; r < 50; r++) {
      if (r % 4 === 1) {
        y[r] = 3;
        // Garbage in an ignored row is never read.
        z.fill(NaN, r * classes, (r + 1) * classes);
      } else if (y[r] !== 3) keep.push(r);
    }
    const kept = keep.filter((r) => y[r] !== 3);
    const zk = new Float32Array(kept.flatMap((r) => Array.from(z.subarray(r * classes, (r + 1) * classes))));
    const yk = Int32Array.from(kept, (r) => y[r]);
    const got = xe.scorer({ classes, ignoreIndex: 3 }).update(z, y).result();
    const all3 = y.filter((v) => v === 3).length;
    expect(got.count).toBe(50 - all3);
    expect(got).toEqual(xe.scorer({ classes, ignoreIndex: 3 }).update(zk, yk).result());
    expect(xe.scorer({ classes }).update(z, new Int32Array(50).fill(-100)).result().count).toBe(0);
  });

  it('gives bits per byte when every update gives bytes, null otherwise', () => {
    const z = normal(40 * 4, 2, 10);
    const y = randomLabels(40, 4, 11);
    const s = xe.scorer({ classes: 4 }).update(z.subarray(0, 80), y.subarray(0, 20), 50).update(z.subarray(80), y.subarray(20), 70);
    const r = s.result();
    expectClose(r.bitsPerByte!, (r.lossBits * 40) / 120, { rel: 1e-12, abs: 0 });
    expect(xe.scorer({ classes: 4 }).update(z, y).result().bitsPerByte).toBe(null);
    expect(s.update(z.subarray(0, 4), y.subarray(0, 1)).result().bitsPerByte).toBe(null);
  });

  it('accepts every integer label type', () => {
    const z = normal(30 * 6, 2, 12);
    const y = randomLabels(30, 6, 13);
    const want = xe.scorer({ classes: 6 }).update(z, y).result();
    for (const labels of [Uint8Array.from(y), Uint16Array.from(y), Uint32Array.from(y), Array.from(y)]) {
      expect(xe.scorer({ classes: 6 }).update(z, labels).result()).toEqual(want);
    }
  });

  it('refuses bad input with the argument and the value, and adds nothing', () => {
    const s = xe.scorer({ classes: 3 });
    const z = new Float32Array(6);
    const bad: [() => unknown, ErrorConstructor, string][] = [
      [() => xe.scorer(undefined as never), TypeError, 'scorer options must be an object'],
      [() => xe.scorer({} as never), TypeError, 'options.classes must be a number, got undefined'],
      [() => xe.scorer({ classes: 0 }), RangeError, 'options.classes must be an integer in [1, 2^28], got 0'],
      [() => xe.scorer({ classes: 3, topK: [0] }), RangeError, 'options.topK[0] = 0 is not a positive integer'],
      [() => xe.scorer({ classes: 3, topK: [1, 2.5] }), RangeError, 'options.topK[1] = 2.5 is not a positive integer'],
      [() => xe.scorer({ classes: 3, topK: [1, 1] }), RangeError, 'options.topK[1] = 1 repeats'],
      [() => xe.scorer({ classes: 3, topK: 5 as never }), TypeError, 'options.topK must be an array of positive integers, got 5'],
      [() => xe.scorer({ classes: 3, topK: ['1'] as never }), TypeError, 'options.topK[0] must be a number, got "1"'],
      [() => xe.scorer({ classes: 3, bins: 0 }), RangeError, 'options.bins must be a positive integer, got 0'],
      [() => xe.scorer({ classes: 3, bins: 1.5 }), RangeError, 'options.bins must be a positive integer, got 1.5'],
      [() => xe.scorer({ classes: 3, bins: '15' as never }), TypeError, 'options.bins must be a number, got "15"'],
      [() => xe.scorer({ classes: 3, from: 'odds' as never }), RangeError, "options.from must be one of 'logits', 'probs', 'logProbs', got \"odds\""],
      [() => xe.scorer({ classes: 3, bin: 3 } as never), TypeError, 'scorer options has no option "bin"'],
      [() => s.update(new Int16Array(6) as never, [0, 1]), TypeError, 'logits must be a Float32Array, Float64Array, Float16Array, a Uint16Array of float16 / bfloat16 bits (with update options.dtype), a float tensor or a resident buffer, got Int16Array(6)'],
      [() => s.update(new Uint16Array(6), [0, 1]), TypeError, "logits is a Uint16Array: pass update options.dtype 'float16' or 'bfloat16'"],
      [() => s.update(z, [0, 1], { dtype: 'float16' }), TypeError, "update options.dtype = 'float16' applies to a Uint16Array of half bits, but logits is a Float32Array"],
      [() => s.update(new Float32Array(5), [0, 1]), RangeError, 'logits.length = 5 is not a multiple of classes = 3'],
      [() => s.update(z, [0]), RangeError, 'labels.length must be the number of rows 2, got 1'],
      [() => s.update(z, new Float32Array(2) as never), TypeError, 'labels must be class indices'],
      [() => s.update(z, [0, 3]), RangeError, 'labels[1] = 3 is not a class index in [0, 3) nor ignoreIndex = -100'],
      [() => s.update(z, [0, 1.5]), RangeError, 'labels[1] = 1.5 is not a class index'],
      [() => s.update(z, [0, '1'] as never), TypeError, 'labels[1] must be a number, got "1"'],
      [() => s.update(z, [0, 1], -1), RangeError, 'bytes must be a finite number >= 0, got -1'],
      [() => s.update(z, [0, 1], '9' as never), TypeError, 'bytes must be a number, got "9"'],
      [() => xe.scorer({ classes: 3, from: 'probs' }).update(new Float32Array([0, 1, 2, 0, 0, 0]), [0, 1]), RangeError, 'logits[2] = 2 is not a probability'],
      [() => s.merge(xe.scorer({ classes: 4 })), RangeError, "other.classes = 4 does not match this scorer's classes = 3"],
      [() => s.merge(xe.scorer({ classes: 3, bins: 10 })), RangeError, "other.bins = 10 does not match this scorer's bins = 15"],
      [() => s.merge(xe.scorer({ classes: 3, topK: [2] })), RangeError, "other.topK = [2] does not match this scorer's topK = [1]"],
      [() => s.merge({ format: 'xentropy-scorer', version: 4 } as never), RangeError, 'other.version = 4 is not supported (this version reads 1, 2 and 3)'],
      [() => s.merge({ format: 'xentropy-scorer', version: 2 } as never), TypeError, 'other.classes is missing'],
      // Issue 25's guard rails and language-model options.
      [() => xe.scorer({ classes: 1 }), RangeError, 'options.classes = 1: a softmax over one class is always 1, so there is nothing to score; score a binary model with binaryCrossEntropy, or xe.binaryScorer'],
      [() => xe.scorer({ classes: 3, topK: [1, 3] }), RangeError, 'options.topK[1] = 3 is not below classes = 3: every row would be a top-3 hit'],
      [() => xe.scorer({ classes: 3, shift: 1 as never }), TypeError, 'options.shift must be a boolean, got 1'],
      [() => xe.scorer({ classes: 3, perSequence: 'yes' as never }), TypeError, 'options.perSequence must be a boolean, got "yes"'],
      [() => xe.scorer({ classes: 3, sequenceLength: 0 }), RangeError, 'options.sequenceLength must be a positive integer, got 0'],
      [() => xe.scorer({ classes: 3, shift: true }).update(z, [0, 1]), RangeError, "the scorer's shift needs the sequence length: create it with sequenceLength, or pass [B, T, V] logits as a tensor"],
      [() => xe.scorer({ classes: 3, perSequence: true }).update(z, [0, 1]), RangeError, "the scorer's perSequence needs the sequence length"],
      [() => xe.scorer({ classes: 3, shift: true, sequenceLength: 4 }).update(z, [0, 1]), RangeError, "logits hold 2 rows, not whole sequences of 4 (the scorer's shift needs them)"],
      [() => xe.scorer({ classes: 3, shift: true, sequenceLength: 2 }).update({ data: new Float32Array(12), dims: [1, 4, 3] }, [0, 0, 0, 0]), RangeError, "the scorer's sequenceLength = 2 disagrees with the tensors' sequence dimension 4"],
      [() => s.update({ data: new Float32Array(8), dims: [2, 4] }, [0, 1]), RangeError, "the scorer's classes = 3 disagrees with the input's last dimension 4 (dims [2, 4])"],
      [() => s.update({ data: z, dims: [2, 3] }, { data: [0, 1], dims: [3] }), RangeError, 'labels has dims [3] (3 elements) but 2 values'],
      [() => s.update({ data: z, dims: [2, 3] }, { data: [0, 1, 2], dims: [3] }), RangeError, 'labels.length must be the number of rows 2, got 3'],
      [() => s.update(z, [0, 1], { attentionMask: [1] }), RangeError, 'attentionMask.length must be 2, got 1'],
      [() => s.update(z, [0, 1], { attentionMask: new Float32Array(2) }), TypeError, 'attentionMask must be an integer or boolean mask, got Float32Array(2)'],
      [() => s.update(z, [0, 1], { attentionMask: [1, 'x'] }), TypeError, 'attentionMask[1] must be a number or boolean, got "x"'],
      [() => s.update(z, [0, 1], { byte: 3 } as never), TypeError, 'update options has no option "byte"; known options: bytes, attentionMask, dtype'],
      [() => s.update(z, [0, 1], { bytes: -2 }), RangeError, 'bytes must be a finite number >= 0, got -2'],
      [() => s.update(z, [0, 1], new Uint8Array(2) as never), TypeError, 'the third argument of update must be bytes (a number) or an options object { bytes, attentionMask }, got Uint8Array(2)'],
      [() => s.update(z, BigInt64Array.of(0n, 2n ** 40n)), RangeError, 'labels[1] = 1099511627776n is not a class index in [0, 3) nor ignoreIndex = -100'],
      [() => s.merge(xe.scorer({ classes: 3, perSequence: true })), RangeError, 'other has per-sequence results and this scorer has none: merge only scorers created with the same perSequence option'],
      [() => xe.scorer({ classes: 3, perSequence: true }).merge(s), RangeError, 'other has no per-sequence results and this scorer has'],
      [() => xe.scorerFromState({ ...s.state(), binCount: [1] }), RangeError, 'state.binCount.length must be 15, got 1'],
      [() => xe.scorerFromState({ ...s.state(), count: -1 }), RangeError, 'state.count = -1 is not a count'],
      [() => xe.scorerFromState(null as never), TypeError, 'state must be a scorer state object, got null'],
      // Issue 24: inconsistent states, non-finite values JSON could not carry, labels read once.
      [() => xe.scorerFromState({ ...s.state(), correct: 1 }), RangeError, 'state.correct = 1 exceeds state.count = 0'],
      [() => s.merge({ ...s.state(), loss: [null, 0] } as never), TypeError, 'other.loss[0] must be a number or one of "Infinity", "-Infinity", "NaN", got null'],
      [() => s.merge({ ...s.state(), loss: ['Infinity', 0] }), RangeError, 'other.loss[0] = Infinity must be 0 when other.count = 0'],
      [() => s.update(z, new Int32Array(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(8, { maxByteLength: 16 }))), TypeError, 'labels is an Int32Array on a resizable ArrayBuffer'],
      [() => s.update(z, new Proxy(new Int32Array(2), {})), TypeError, 'labels must be class indices'],
    ];
    for (const [call, type, message] of bad) {
      expect(call, message).toThrow(type);
      expect(call, message).toThrow(message);
    }
    expect(s.count).toBe(0);
    expect(s.result().count).toBe(0);
    expect(Number.isNaN(s.result().lossNats)).toBe(true);
  });
});

describe.each([['reference', null], ...wasmBackends] as [string, Xentropy | null][])('scorer from probabilities a few ulps outside [0, 1] (%s)', (_name, xe) => {
  const above = (ulps: number) => 1 + ulps * 2 ** -23;
  const below = (ulps: number) => -ulps * 2 ** -24;
  const clipped = new Float32Array([1, 0, 0, 0, /**/ 0.25, 0.75, 0, 0, /**/ 0, 0.5, 0.25, 0.25]);
  const edge = (ulps: number) => new Float32Array([above(ulps), below(ulps), 0, 0, /**/ 0.25, 0.75, below(ulps), 0, /**/ below(ulps), 0.5, 0.25, 0.25]);
  const y = [0, 2, 1];
  const opts: ScorerOptions = { classes: 4, from: 'probs', topK: [1, 2], bins: 4 };
  const run = (input: Float32Array) => (xe ? xe.scorer(opts).update(input, y).result() : reference.score(input, y, opts));

  it('accepts 4 ulps either side and reads them as clipped to [0, 1]: every metric is the clipped input\'s', () => {
    const got = run(edge(4));
    expect(got).toEqual(run(clipped));
    // Row 0's confidence is 1, not 1 + 4 ulps: the top bin holds rows 0 and 1 (confidence 0.75).
    expect(got.bins[3].confidence).toBe(0.875);
    if (xe) {
      const s = xe.scorer(opts).update(edge(4), y);
      expect(xe.scorerFromState(JSON.parse(JSON.stringify(s.state()))).result()).toEqual(got);
    }
  });

  it('refuses 5 ulps either side, naming the element', () => {
    const high = edge(4);
    high[0] = above(5);
    expect(() => run(high)).toThrow(RangeError);
    expect(() => run(high)).toThrow(`logits[0] = ${above(5)} is not a probability in [0, 1] (from: 'probs') (values within 4 float32 ulps of [0, 1] are read as clipped; renormalise or clip the rest)`);
    const low = edge(4);
    low[6] = below(5);
    expect(() => run(low)).toThrow(`logits[6] = ${below(5)} is not a probability in [0, 1]`);
  });
});

describe('reference scorer', () => {
  it('is exposed as reference.score and validates like the scorer', () => {
    expect(() => reference.score(new Float32Array(4), [0, 1], { classes: 2, bins: 0 })).toThrow('options.bins must be a positive integer, got 0');
    const p = probabilities(10, 4, 3);
    const y = randomLabels(10, 4, 4);
    expect(reference.score(p, y, { classes: 4, from: 'probs' }).count).toBe(10);
  });
});
