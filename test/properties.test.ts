// Property tests (fast-check): every public function of the wasm builds (each case draws one: SIMD,
// its asserting debug twin, scalar, and relaxed SIMD where the runtime has it) against the float64
// reference, on random shapes (classes 1 to 2049, and rows of 100,003 and 128,256 classes), extreme
// (±1e30) and subnormal values and random option combinations, plus the invariants each function keeps.
// The last test asserts that at least 10,000 cases ran and prints the count per property.
//
// Replay: every property runs from the same seed, XENTROPY_SEED (fixed by default, so CI runs the same
// cases; 'random' draws a new one, printed). A failure reports the property, the seed, the path of the
// shrunk counterexample and the command that replays it:
//   XENTROPY_SEED=<seed> XENTROPY_PATH=<path> npx vitest run test/properties.test.ts -t '<property>'
// XENTROPY_RUNS_SCALE multiplies every run count (default 1) for longer or quicker local runs.
//
// Tolerances: |got - want| <= abs + rel |want| (helpers.close: NaN only equals NaN, an infinity only
// itself). `want` is the float64 reference, rounded to float32 where wasm returns a Float32Array.
// Units and reasons, used throughout:
// - ULP = 2^-24: the unit roundoff of float32, the relative error of one float32 operation.
// - UNDER = 2^-150: half the spacing of float32 subnormals. A float32 result below 2^-126 (a
//   subnormal weight times a target, say) keeps only this absolute precision, which no relative
//   tolerance covers; each such intermediate adds UNDER times the factors applied after it. A 'mean'
//   whose denominator is below 2^-126 is refused (RangeError), so 1 / denominator cannot amplify
//   these floors beyond float32's relative precision.
// - Element-wise results (softmax, logSoftmax, gradients): rel 4e-6, twice the README's 2e-6 worst case
//   of softmax, for the reference's rounding to float32 on top; softmax adds ULP |log p| relative
//   (the float32 z - max is off by ULP |z - max| ~ ULP |log p|) and is 0 below 2^-126 (README).
// - Losses and divergences (a sum of float32 terms per row): rel 1e-5 (the README's worst row-sum
//   error, 128 float32 terms of 2^-24, is 7.6e-6) plus abs 1e-6 nats per unit of target mass (the
//   README's "near 0" bound of log-sum-exp, which every cross-entropy row contains).

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { reference } from '../src/index.js';
import type {
  BinaryCrossEntropyOptions, CrossEntropyOptions, CrossEntropyOverOptions, KlDivergenceGradOptions, ScorerOptions, Xentropy,
} from '../src/index.js';
import { close, rng, wasmBackends, type Tolerance } from './helpers.js';

const DEFAULT_SEED = 20261123;
const SEED_ENV = process.env.XENTROPY_SEED;
const SEED = SEED_ENV === 'random' ? Math.floor(Math.random() * 2 ** 31) : SEED_ENV !== undefined ? Number(SEED_ENV) : DEFAULT_SEED;
const PATH = process.env.XENTROPY_PATH || undefined;
const RUNS_SCALE = Number(process.env.XENTROPY_RUNS_SCALE ?? 1);
if (!Number.isInteger(SEED)) throw new Error(`XENTROPY_SEED must be an integer or 'random', got ${SEED_ENV}`);
if (!(RUNS_SCALE > 0)) throw new Error(`XENTROPY_RUNS_SCALE must be > 0, got ${process.env.XENTROPY_RUNS_SCALE}`);

/** The wasm builds a case may run on, by name (test/helpers.ts: SIMD, debug, scalar, relaxed SIMD). */
const builds = wasmBackends;

const f = Math.fround;
const ULP = 2 ** -24;
const SUB = 2 ** -149;
const UNDER = SUB / 2;
const MIN_NORMAL = 2 ** -126;
const BIG = f(1e30);
const REL = 4e-6;
const REL_SUM = 1e-5;
const BASE = 1e-6;

/** Cases run (not counting shrinking), per property and in total. */
const runs: Record<string, number> = {};
let cases = 0;

/**
 * Runs a property from the shared seed. On failure, throws the property's own message with the
 * seed, the path and the replay command, and the shrunk counterexample cut to 3,000 characters.
 */
function check<T>(name: string, numRuns: number, arb: fc.Arbitrary<T>, predicate: (v: T, xe: Xentropy) => void): void {
  // Each case also draws the build it runs on (SIMD, its asserting debug twin, scalar, relaxed SIMD).
  const withBuild = fc.tuple(arb, fc.integer({ min: 0, max: builds.length - 1 }));
  const details = fc.check(fc.property(withBuild, ([v, b]) => predicate(v, builds[b][1])), {
    seed: SEED, numRuns: Math.ceil(numRuns * RUNS_SCALE), ...(PATH ? { path: PATH } : {}),
    // Shrinking arrays of thousands of floats can take minutes: stop at 45 s (a property's own runs
    // take 2 s at most here) and report what is known, within vitest's 60 s test timeout.
    interruptAfterTimeLimit: 45_000, markInterruptAsFailure: true,
  });
  runs[name] = details.numRuns;
  cases += details.numRuns;
  if (!details.failed) return;
  const [value, b] = details.counterexample ? details.counterexample[0] : [undefined, 0];
  const example = details.counterexample ? `${fc.stringify(compact(value))} on ${builds[b][0]}` : '(none: interrupted)';
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `property '${name}' failed after ${details.numRuns} cases (shrunk ${details.numShrinks} times): ${cause}\n`
    + `replay: XENTROPY_SEED=${details.seed} XENTROPY_PATH=${details.counterexamplePath} `
    + `npx vitest run test/properties.test.ts -t '${name}'\n`
    + `counterexample: ${example.length > 3000 ? `${example.slice(0, 3000)}…` : example}`,
  );
}

/**
 * The counterexample for printing: arrays longer than 16 become "Float32Array(n) {index: value}" of
 * their non-zero entries (shrunk arrays are mostly zeros). The path, not this text, replays it.
 */
function compact(v: unknown): unknown {
  if ((ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v)) {
    const a = v as unknown as ArrayLike<unknown>;
    if (a.length <= 16) return v;
    // Runs of one non-zero value print as "from-to: value".
    const entries: string[] = [];
    for (let i = 0; i < a.length;) {
      let j = i + 1;
      while (j < a.length && Object.is(a[j], a[i])) j++;
      if (a[i] !== 0) entries.push(`${j - i > 1 ? `${i}-${j - 1}` : i}: ${String(a[i])}`);
      i = j;
    }
    return `${v.constructor.name}(${a.length}) {${entries.slice(0, 100).join(', ')}${entries.length > 100 ? ', …' : ''}}`;
  }
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** Logits: full-range float32 up to ±1e30 (subnormals included), moderate values, and exact specials. */
const extremeLogit = fc.oneof(
  { arbitrary: fc.float({ min: -BIG, max: BIG, noNaN: true }), weight: 3 },
  { arbitrary: fc.float({ min: -20, max: 20, noNaN: true }), weight: 4 },
  { arbitrary: fc.constantFrom(0, -0, BIG, -BIG, 1.4e-45, -1.4e-45, f(1.1754942e-38), f(-1e-40), 1, -1), weight: 1 },
);
const moderateLogit = fc.float({ min: -30, max: 30, noNaN: true });
const tinyLogit = fc.float({ min: f(-1e-37), max: f(1e-37), noNaN: true });
/** A probability in [0, 1]: full-range floats (subnormals), and exact 0 and 1. */
const probability = fc.oneof(
  { arbitrary: fc.float({ min: 0, max: 1, noNaN: true }), weight: 4 },
  { arbitrary: fc.constantFrom(0, 1, 0.5, 1e-7, f(1 - 1e-7), 1.4e-45), weight: 1 },
);
/** A log-probability in [-1e30, 0], with exact 0 and -inf. */
const logProbability = fc.oneof(
  { arbitrary: fc.float({ min: -BIG, max: 0, noNaN: true }), weight: 3 },
  { arbitrary: fc.float({ min: -30, max: 0, noNaN: true }), weight: 3 },
  { arbitrary: fc.constantFrom(0, -0, -Infinity), weight: 1 },
);
/** A class or sample weight: [0, 4] (subnormals included) and exact 0 and 1. */
const weightValue = fc.oneof(fc.float({ min: 0, max: 4, noNaN: true }), fc.constantFrom(0, 1));

/** Class counts: 1, small (SIMD lanes ±1), 1000 and 2049 (one more than the kernels' 2048-float block). */
const classesArb = fc.oneof(
  { arbitrary: fc.constant(1), weight: 2 },
  { arbitrary: fc.integer({ min: 2, max: 9 }), weight: 6 },
  { arbitrary: fc.constantFrom(15, 16, 17, 31, 33, 63, 64, 65), weight: 2 },
  { arbitrary: fc.constantFrom(1000, 2049), weight: 1 },
);
/** [rows, classes]: up to 8 rows, up to 3 of the wide ones. */
const shapeArb = classesArb.chain((classes) =>
  fc.record({ rows: fc.integer({ min: 0, max: classes >= 1000 ? 3 : 8 }), classes: fc.constant(classes) }));

const f32Array = (arb: fc.Arbitrary<number>, n: number) =>
  fc.array(arb, { minLength: n, maxLength: n }).map((a) => Float32Array.from(a));
const labelsArb = (rows: number, C: number) => fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: rows, maxLength: rows });

/** Logits of one case, all from one regime so that moderate and tiny rows are exercised as well. */
function logitsArb(n: number): fc.Arbitrary<Float32Array> {
  return fc.oneof(
    { arbitrary: f32Array(extremeLogit, n), weight: 3 },
    { arbitrary: f32Array(moderateLogit, n), weight: 2 },
    { arbitrary: f32Array(tinyLogit, n), weight: 1 },
  );
}

/** Rows of probabilities summing to 1 in float64 before rounding to float32, with exact zeros. */
function distributionArb(rows: number, classes: number): fc.Arbitrary<Float32Array> {
  const entry = fc.oneof({ arbitrary: fc.float({ min: 0, max: 1, noNaN: true }), weight: 5 }, { arbitrary: fc.constant(0), weight: 1 });
  return f32Array(entry, rows * classes).map((raw) => {
    const out = new Float32Array(raw.length);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < classes; c++) s += raw[r * classes + c];
      for (let c = 0; c < classes; c++) out[r * classes + c] = s > 0 ? raw[r * classes + c] / s : 1 / classes;
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------
// Comparison helpers

/** max_c |z_c| of each row. */
function rowMaxAbs(z: ArrayLike<number>, C: number): Float64Array {
  const out = new Float64Array(Math.floor(z.length / C));
  for (let i = 0; i < out.length * C; i++) out[Math.floor(i / C)] = Math.max(out[Math.floor(i / C)], Math.abs(z[i]));
  return out;
}

function asArray(what: string, v: number | ArrayLike<number>): ArrayLike<number> {
  if (typeof v === 'number') throw new Error(`${what}: got a number, want an array`);
  return v;
}

function asNumber(what: string, v: number | ArrayLike<number>): number {
  if (typeof v !== 'number') throw new Error(`${what}: got an array, want a number`);
  return v;
}

/**
 * Element-wise comparison, float32 results against the reference rounded to float32. A result within
 * the tolerance of the unrounded value can round to the neighbour of the rounded one: one float32 ulp,
 * which the relative tolerance covers for normal numbers and SUB (added here) for subnormal ones.
 */
function expectAllClose(
  what: string, got: number | ArrayLike<number>, want: number | ArrayLike<number>, tol: (i: number) => Tolerance,
): void {
  const g = asArray(what, got), w = asArray(`${what} (reference)`, want);
  if (g.length !== w.length) throw new Error(`${what}: length ${g.length}, want ${w.length}`);
  for (let i = 0; i < w.length; i++) {
    const t = tol(i);
    const t32 = { rel: t.rel, abs: t.abs + SUB };
    if (!close(g[i], f(w[i]), t32)) throw new Error(`${what}[${i}]: got ${g[i]}, want ${w[i]} (rel ${t32.rel} + abs ${t32.abs})`);
  }
}

function expectScalarClose(what: string, got: number | ArrayLike<number>, want: number | ArrayLike<number>, tol: Tolerance): void {
  const g = asNumber(what, got), w = asNumber(`${what} (reference)`, want);
  if (!close(g, w, tol)) throw new Error(`${what}: got ${g}, want ${w} (rel ${tol.rel} + abs ${tol.abs})`);
}

/** Exact equality of two results (NaN equals NaN), for in-place and layout checks. */
function same(what: string, a: number | ArrayLike<number>, b: number | ArrayLike<number>): void {
  const x = typeof a === 'number' ? [a] : Array.from(a), y = typeof b === 'number' ? [b] : Array.from(b);
  expect(x, what).toEqual(y);
}

/**
 * A loss against the reference: per row (or element) for 'none' with rel 1e-5 + abs rowAbs(r), else
 * the reduced number with rel 1e-5 + abs reduceAbs(Σ rowAbs) (the reduction's scale applied).
 */
function expectLoss(
  what: string, got: number | ArrayLike<number>, want: number | ArrayLike<number>, n: number,
  rowAbs: (r: number) => number, reduceAbs: (sum: number) => number, nanOrInf: ReadonlySet<number> = new Set(),
): void {
  // Rows in nanOrInf may be NaN or +inf in either (see crossEntropy probs/logProbs); so may a reduction over them.
  const either = (x: number) => Number.isNaN(x) || x === Infinity;
  if (typeof want !== 'number') {
    const g = asArray(what, got);
    for (const r of nanOrInf) if (!either(g[r]) || !either(want[r])) throw new Error(`${what}[${r}]: got ${g[r]}, want ${want[r]}, both NaN or +inf`);
    const keep = (a: ArrayLike<number>) => Array.from(a).filter((_, r) => !nanOrInf.has(r));
    const kept = Array.from({ length: want.length }, (_, r) => r).filter((r) => !nanOrInf.has(r));
    expectAllClose(what, keep(g), keep(want), (k) => ({ rel: REL_SUM, abs: rowAbs(kept[k]) }));
    return;
  }
  if (nanOrInf.size > 0) {
    const g = asNumber(what, got);
    if (!either(g) || !either(want)) throw new Error(`${what}: got ${g}, want ${want}, both NaN or +inf`);
    return;
  }
  let abs = 0;
  for (let r = 0; r < n; r++) abs += rowAbs(r);
  expectScalarClose(what, got, want, { rel: REL_SUM, abs: reduceAbs(abs) });
}

const unitOf = (unit: 'nats' | 'bits' | undefined) => (unit === 'bits' ? 1 / Math.LN2 : 1);

/** Options whose weights are plain arrays, as these properties draw them. */
type PlainOptions = Omit<CrossEntropyOptions, 'weight' | 'sampleWeight'> & { weight?: Float32Array; sampleWeight?: Float32Array };

/**
 * Each row's target mass Σ_c a_c, with a_c the cross-entropy target as the README defines it
 * ("Options": weights, smoothing and the sample weight included); 0 for an ignored row.
 */
function targetMass(C: number, rows: number, target: Int32Array | Float32Array, o: PlainOptions): Float64Array {
  const eps = o.labelSmoothing ?? 0, ignore = o.ignoreIndex ?? -100;
  const w = (c: number) => (o.weight ? o.weight[c] : 1);
  const mass = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = o.sampleWeight ? o.sampleWeight[r] : 1;
    if (target instanceof Int32Array && target[r] === ignore) continue;
    for (let c = 0; c < C; c++) {
      const t = target instanceof Float32Array ? target[r * C + c] : c === target[r] ? 1 : 0;
      mass[r] += s * w(c) * ((1 - eps) * t + eps / C);
    }
  }
  return mass;
}

/** The denominator of 'mean' (README "Reductions"). */
function meanDenominator(rows: number, target: Int32Array | Float32Array, o: PlainOptions): number {
  const ignore = o.ignoreIndex ?? -100;
  let d = 0;
  for (let r = 0; r < rows; r++) {
    const s = o.sampleWeight ? o.sampleWeight[r] : 1;
    if (target instanceof Float32Array) d += s;
    else if (target[r] !== ignore) d += s * (o.weight ? o.weight[target[r]] : 1);
  }
  return d;
}

/**
 * A 'mean' whose denominator is in (0, 2^-126) is refused with a RangeError by both backends (the
 * float32 kernels cannot multiply by its reciprocal). Checks that and returns true for such a call.
 */
function refusedMean(xe: Xentropy, rows: number, target: Int32Array | Float32Array, o: PlainOptions, input: Float32Array): boolean {
  const d = meanDenominator(rows, target, o);
  if ((o.reduction ?? 'mean') !== 'mean' || !(d > 0 && d < MIN_NORMAL)) return false;
  expect(() => xe.crossEntropy(input, target, o)).toThrow(/denominator/);
  expect(() => xe.crossEntropyWithGrad(input, target, o)).toThrow(RangeError);
  expect(() => reference.crossEntropyWithGrad(input, target, o)).toThrow(RangeError);
  return true;
}

/** 1 / the denominator of 'mean' (README "Reductions"); 0 when it is 0 (the loss is then NaN or 0). */
function meanScale(rows: number, target: Int32Array | Float32Array, o: PlainOptions): number {
  const d = meanDenominator(rows, target, o);
  return d > 0 ? 1 / d : 0;
}

// ---------------------------------------------------------------------------------------------------

describe(`properties (fast-check, seed ${SEED}${PATH ? `, path ${PATH}` : ''})`, () => {
  afterAll(() => {
    console.log(`properties: ${cases} cases (seed ${SEED}): ${JSON.stringify(runs)}`);
  });

  it('rowwise: logSoftmax, softmax and logSumExp match the reference', () => {
    const arb = shapeArb.chain(({ rows, classes }) => fc.record({ C: fc.constant(classes), z: logitsArb(rows * classes) }));
    check('rowwise', 3000, arb, ({ C, z }, xe) => {
      const lpRef = reference.logSoftmax(z, C);
      // logSoftmax: z - max is rounded to float32 (ULP |z - max|, within the relative part), and log s
      // is off by up to 2.5e-6 absolute (README).
      expectAllClose('logSoftmax', xe.logSoftmax(z, C), lpRef, () => ({ rel: REL, abs: 2.5e-6 }));
      expectAllClose('softmax', xe.softmax(z, C), reference.softmax(z, C), (i) => ({ rel: REL + ULP * Math.abs(lpRef[i]), abs: MIN_NORMAL }));
      // logSumExp: 1 ulp, and 1e-6 absolute near 0 (README), doubled for the reference's rounding.
      expectAllClose('logSumExp', xe.logSumExp(z, C), reference.logSumExp(z, C), () => ({ rel: 2 * 2 * ULP, abs: BASE }));
      // In place gives exactly what a new array gets.
      const inPlace = z.slice();
      xe.softmax(inPlace, C, inPlace);
      same('softmax in place', inPlace, xe.softmax(z, C));
      const lpInPlace = z.slice();
      xe.logSoftmax(lpInPlace, C, lpInPlace);
      same('logSoftmax in place', lpInPlace, xe.logSoftmax(z, C));
    });
  });

  /** Cross-entropy from logits: class indices (label -1 = ignored) or soft targets, every option. */
  const ceLogitsArb = shapeArb.chain(({ rows, classes: C }) => fc.record({
    rows: fc.constant(rows),
    C: fc.constant(C),
    z: logitsArb(rows * C),
    soft: fc.boolean(),
    labels: fc.array(fc.oneof({ arbitrary: fc.integer({ min: 0, max: C - 1 }), weight: 4 }, { arbitrary: fc.constant(-1), weight: 1 }), { minLength: rows, maxLength: rows }),
    target: distributionArb(rows, C),
    ignoreIndex: fc.constantFrom(undefined, -100, -1, 0),
    reduction: fc.constantFrom(undefined, 'mean', 'sum', 'none') as fc.Arbitrary<CrossEntropyOptions['reduction']>,
    weight: fc.option(f32Array(weightValue, C), { nil: undefined }),
    sampleWeight: fc.option(f32Array(weightValue, rows), { nil: undefined }),
    labelSmoothing: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    unit: fc.constantFrom(undefined, 'nats', 'bits') as fc.Arbitrary<CrossEntropyOptions['unit']>,
    onAllIgnored: fc.constantFrom(undefined, 'nan', 'zero') as fc.Arbitrary<CrossEntropyOptions['onAllIgnored']>,
  }));
  type CeCase = typeof ceLogitsArb extends fc.Arbitrary<infer T> ? T : never;

  /** The case's target (label -1 stands for the ignored row, whatever ignoreIndex is) and options. */
  function ceCall(v: CeCase): { target: Int32Array | Float32Array; o: PlainOptions } {
    const ignore = v.ignoreIndex ?? -100;
    const target = v.soft ? v.target : Int32Array.from(v.labels, (l) => (l === -1 ? ignore : l));
    return {
      target,
      o: {
        classes: v.C, reduction: v.reduction, weight: v.weight, sampleWeight: v.sampleWeight, ignoreIndex: v.ignoreIndex,
        labelSmoothing: v.labelSmoothing, unit: v.unit, onAllIgnored: v.onAllIgnored,
      },
    };
  }

  it('crossEntropy logits: crossEntropy(WithGrad) from logits match the reference for every option', () => {
    check('crossEntropy logits', 4000, ceLogitsArb, (v, xe) => {
      const { rows, C, z } = v;
      const { target, o } = ceCall(v);
      if (refusedMean(xe, rows, target, o, z)) return;
      const want = reference.crossEntropyWithGrad(z, target, o);
      const got = xe.crossEntropyWithGrad(z, target, o);
      const lossOnly = xe.crossEntropy(z, target, o);
      const unit = unitOf(v.unit);
      const mass = targetMass(C, rows, target, o);
      const maxAbs = rowMaxAbs(z, C);
      const s = (r: number) => (v.sampleWeight ? v.sampleWeight[r] : 1);
      // A row's loss: relative terms, 1e-6 nats per unit of mass, and per class UNDER for its
      // coefficient times |log q_c| <= 2 max|z| + log C and UNDER for the product, times the sample weight.
      const rowAbs = (r: number) => unit * (mass[r] * BASE + s(r) * C * UNDER * (2 + 2 * maxAbs[r] + Math.log(C)));
      const red = v.reduction ?? 'mean';
      const reduceAbs = (abs: number) => (red === 'mean' ? abs * meanScale(rows, target, o) : abs);
      expectLoss('crossEntropyWithGrad loss', got.loss, want.loss, rows, rowAbs, reduceAbs);
      expectLoss('crossEntropy', lossOnly, want.loss, rows, rowAbs, reduceAbs);
      // Gradient scale (mass softmax - a): softmax's relative error (rel 4e-6 + ULP |log p| <= 4.1e-6
      // in absolute terms, as p |log p| <= 1/e) times the mass, 2 ULP of the cancelling difference,
      // UNDER per coefficient before scaling (C + 1 of them reach each element) and after it (the
      // kernel's scaled factors and their products with weights <= 4: 8 UNDER).
      const gscale = unit * (red === 'mean' ? meanScale(rows, target, o) : 1);
      expectAllClose('grad', got.grad, want.grad, (i) => {
        const r = Math.floor(i / C);
        return { rel: REL, abs: gscale * (mass[r] * (4.1e-6 + 2 * ULP) + s(r) * (C + 1) * UNDER) + 8 * UNDER };
      });
    });
  });

  it('crossEntropyOver: any split of the rows into batches gives the loss of one call', () => {
    const arb = ceLogitsArb.chain((v) => fc.record({ v: fc.constant(v), cuts: fc.array(fc.nat({ max: v.rows }), { maxLength: 4 }) }));
    check('crossEntropyOver', 1200, arb, ({ v, cuts }, xe) => {
      const { rows, C, z } = v;
      const { target, o } = ceCall(v);
      const reduction = v.reduction === 'sum' ? 'sum' : 'mean';
      const whole: PlainOptions = { ...o, reduction };
      if (refusedMean(xe, rows, target, whole, z)) return;
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), rows];
      const batches = bounds.slice(1).map((end, k) => {
        const start = bounds[k];
        return {
          input: z.subarray(start * C, end * C),
          target: target instanceof Float32Array ? target.subarray(start * C, end * C) : target.subarray(start, end),
          ...(v.sampleWeight ? { sampleWeight: v.sampleWeight.subarray(start, end) } : {}),
        };
      });
      const over: CrossEntropyOverOptions = {
        classes: C, reduction, weight: v.weight, ignoreIndex: v.ignoreIndex, labelSmoothing: v.labelSmoothing, unit: v.unit,
        onAllIgnored: v.onAllIgnored,
      };
      // The same float32 row losses, summed in float64 in another order: rel 1e-12.
      expectScalarClose('crossEntropyOver', xe.crossEntropyOver(batches, over), xe.crossEntropy(z, target, whole), { rel: 1e-12, abs: 0 });
    });
  });

  it("crossEntropy spatial: PyTorch's [N, C, d] layout gives the class-last result, transposed", () => {
    const arb = fc.record({ N: fc.integer({ min: 0, max: 3 }), C: fc.integer({ min: 1, max: 9 }), S: fc.integer({ min: 1, max: 6 }) })
      .chain(({ N, C, S }) => fc.record({
        N: fc.constant(N), C: fc.constant(C), S: fc.constant(S),
        z: f32Array(moderateLogit, N * C * S),
        soft: fc.boolean(),
        labels: labelsArb(N * S, C),
        target: distributionArb(N * S, C),
        weight: fc.option(f32Array(weightValue, C), { nil: undefined }),
        sampleWeight: fc.option(f32Array(weightValue, N * S), { nil: undefined }),
        labelSmoothing: fc.constantFrom(0, 0.1),
        reduction: fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>,
        extra: fc.constantFrom('none', 'zLoss', 'softcap', 'focal'),
      }));
    check('crossEntropy spatial', 1000, arb, (v, xe) => {
      const { N, C, S } = v;
      // [N, C, S] -> [N * S, C]: row n S + s, class c.
      const toLast = (x: Float32Array) => {
        const out = new Float32Array(x.length);
        for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[(n * S + s) * C + c] = x[(n * C + c) * S + s];
        return out;
      };
      const o: PlainOptions = {
        classes: C, reduction: v.reduction, weight: v.weight, sampleWeight: v.sampleWeight, labelSmoothing: v.labelSmoothing,
        ...(v.extra === 'zLoss' ? { zLoss: 1e-3 } : v.extra === 'softcap' ? { softcap: 5 } : v.extra === 'focal' ? { focal: { gamma: 2, alpha: 0.25 } } : {}),
      };
      const target = v.soft ? v.target : Int32Array.from(v.labels);
      if (refusedMean(xe, N * S, target, { ...o, spatial: S }, v.z)) return;
      const got = xe.crossEntropyWithGrad(v.z, target, { ...o, spatial: S });
      // The same call class-last, on the transposed logits and targets; gradients transposed back.
      const last = xe.crossEntropyWithGrad(toLast(v.z), v.soft ? toLast(v.target) : target, o);
      const want = reference.crossEntropyWithGrad(v.z, target, { ...o, spatial: S });
      same('spatial loss = class-last loss', got.loss, last.loss);
      same('spatial grad = class-last grad', toLast(got.grad), last.grad);
      // Against the reference, as crossEntropy softcap/focal/zLoss: logits within ±30, 1e-6 nats (1e-5
      // for gradients) per unit of mass, the z-loss's 2 zLoss lse times that, UNDER per coefficient.
      const mass = targetMass(C, N * S, v.soft ? toLast(v.target) : target, o);
      const zl = v.extra === 'zLoss' ? 2e-3 * (30 + Math.log(C)) : 0;
      const sw = (r: number) => (v.sampleWeight ? v.sampleWeight[r] : 1);
      const rowAbs = (r: number) => (mass[r] + zl) * BASE + sw(r) * C * UNDER * 64;
      const gscale = v.reduction === 'mean' ? meanScale(N * S, target, o) : 1;
      expectLoss('loss', got.loss, want.loss, N * S, rowAbs, (abs) => abs * gscale);
      const lastRow = (i: number) => Math.floor(i / (C * S)) * S + (i % S);
      expectAllClose('grad', got.grad, want.grad, (i) => ({ rel: REL, abs: gscale * ((mass[lastRow(i)] + zl) * 1e-5 + (C + 1) * 4 * UNDER) + 8 * UNDER }));
    });
  });

  it('crossEntropy probs/logProbs: from probabilities and log-probabilities matches the reference', () => {
    const arb = shapeArb.chain(({ rows, classes: C }) => fc.record({
      rows: fc.constant(rows), C: fc.constant(C),
      from: fc.constantFrom('probs', 'logProbs') as fc.Arbitrary<'probs' | 'logProbs'>,
      probs: f32Array(probability, rows * C),
      logProbs: f32Array(logProbability, rows * C),
      labels: fc.array(fc.oneof({ arbitrary: fc.integer({ min: 0, max: C - 1 }), weight: 4 }, { arbitrary: fc.constant(-100), weight: 1 }), { minLength: rows, maxLength: rows }),
      soft: fc.boolean(),
      target: distributionArb(rows, C),
      epsilon: fc.constantFrom(undefined, 1e-7, 1e-3, 0.25),
      reduction: fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>,
      weight: fc.option(f32Array(weightValue, C), { nil: undefined }),
      sampleWeight: fc.option(f32Array(weightValue, rows), { nil: undefined }),
      labelSmoothing: fc.constantFrom(0, 0.1, 1),
      unit: fc.constantFrom(undefined, 'bits') as fc.Arbitrary<'bits' | undefined>,
      onAllIgnored: fc.constantFrom(undefined, 'zero') as fc.Arbitrary<'zero' | undefined>,
    }));
    check('crossEntropy probs/logProbs', 2400, arb, (v, xe) => {
      const { rows, C } = v;
      const probs = v.from === 'probs';
      const input = probs ? v.probs : v.logProbs;
      const target = v.soft ? v.target : Int32Array.from(v.labels);
      const o: PlainOptions = {
        classes: C, from: v.from, reduction: v.reduction, weight: v.weight, sampleWeight: v.sampleWeight,
        labelSmoothing: v.labelSmoothing, unit: v.unit, onAllIgnored: v.onAllIgnored,
        ...(probs ? { epsilon: v.epsilon } : {}),
      };
      if (refusedMean(xe, rows, target, o, input)) return;
      const want = reference.crossEntropyWithGrad(input, target, o);
      const got = xe.crossEntropyWithGrad(input, target, o);
      const lossOnly = xe.crossEntropy(input, target, o);
      const unit = unitOf(v.unit);
      const lo = f(v.epsilon ?? 1e-7);
      // Every term -a_c lp_c is >= 0 (lp <= 0), so the loss is relative, except per class UNDER for the
      // coefficient times |lp_c| <= -log(lo) (probabilities) or |lp_c| (log-probabilities) and UNDER
      // for the product, times the row's sample weight.
      const rowAbs = (r: number) => {
        let m = probs ? -Math.log(lo) : 0;
        if (!probs) for (let c = 0; c < C; c++) if (Number.isFinite(input[r * C + c])) m = Math.max(m, -input[r * C + c]);
        return unit * (v.sampleWeight ? v.sampleWeight[r] : 1) * C * UNDER * (2 + m);
      };
      // A soft coefficient a_c within one float32 rounding of the underflow threshold 2^-150 may round
      // to 0 or not, by the order of the float32 operations that form it (README: a_c is formed in
      // float32). Against lp_c = -inf its row's loss is then NaN (0 · -inf) or +inf.
      const nanOrInf = new Set<number>();
      if (v.soft && !probs) {
        const eps = v.labelSmoothing;
        for (let i = 0; i < input.length; i++) {
          const a = (v.weight ? v.weight[i % C] : 1) * ((1 - eps) * v.target[i] + eps / C);
          if (input[i] === -Infinity && a >= 2 ** -151 && a <= 2 ** -149) nanOrInf.add(Math.floor(i / C));
        }
      }
      const reduceAbs = (abs: number) => (v.reduction === 'mean' ? abs * meanScale(rows, target, o) : abs);
      expectLoss('crossEntropyWithGrad loss', got.loss, want.loss, rows, rowAbs, reduceAbs, nanOrInf);
      expectLoss('crossEntropy', lossOnly, want.loss, rows, rowAbs, reduceAbs, nanOrInf);
      // -scale a_c (/ q_c): relative, plus UNDER for the coefficient before scaling (times a sample
      // weight <= 4) and for the float32 products after it, -g (t λ + μ) w: UNDER (1 + w + w) <= 9 UNDER,
      // over q_c >= lo for probabilities.
      const gscale = unit * (v.reduction === 'mean' ? meanScale(rows, target, o) : 1);
      expectAllClose('grad', got.grad, want.grad, () => ({ rel: REL, abs: (gscale * 4 + 9) * UNDER / (probs ? lo : 1) }));
    });
  });

  it('crossEntropy softcap/focal/zLoss: with softcap, focal and zLoss matches the reference', () => {
    const arb = shapeArb.chain(({ rows, classes: C }) => fc.record({
      rows: fc.constant(rows), C: fc.constant(C),
      z: f32Array(moderateLogit, rows * C),
      labels: labelsArb(rows, C),
      soft: fc.boolean(),
      target: distributionArb(rows, C),
      extra: fc.constantFrom('softcap', 'focal', 'zLoss', 'softcap+focal', 'softcap+zLoss'),
      softcap: fc.constantFrom(1, 15, 30),
      gamma: fc.constantFrom(0, 1, 2, 3.5),
      alpha: fc.constantFrom(0.25, 1),
      zLoss: fc.constantFrom(1e-4, 0.01),
      weight: fc.option(f32Array(fc.float({ min: 0, max: 4, noNaN: true, noDefaultInfinity: true }), C), { nil: undefined }),
      sampleWeight: fc.option(f32Array(fc.constantFrom(0, 0.5, 1, 2), rows), { nil: undefined }),
      reduction: fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>,
      labelSmoothing: fc.constantFrom(0, 0.1),
    }));
    check('crossEntropy softcap/focal/zLoss', 1600, arb, (v, xe) => {
      const { rows, C, z } = v;
      const target = v.soft ? v.target : Int32Array.from(v.labels);
      const o: PlainOptions = { classes: C, reduction: v.reduction, labelSmoothing: v.labelSmoothing, weight: v.weight, sampleWeight: v.sampleWeight };
      if (v.extra.includes('softcap')) o.softcap = v.softcap;
      if (v.extra.includes('focal')) o.focal = { gamma: v.gamma, alpha: v.alpha };
      if (v.extra.includes('zLoss')) o.zLoss = v.zLoss;
      if (refusedMean(xe, rows, target, o, z)) return;
      const want = reference.crossEntropyWithGrad(z, target, o);
      const got = xe.crossEntropyWithGrad(z, target, o);
      const lossOnly = xe.crossEntropy(z, target, o);
      // Logits within ±30: 1e-6 nats per unit of mass, plus for the z-loss zLoss lse² the error of lse
      // (1e-6) times 2 zLoss |lse| <= 2 zLoss (30 + log C) per unit of sample weight.
      const mass = targetMass(C, rows, target, o);
      const zl = o.zLoss ?? 0;
      const sw = (r: number) => (v.sampleWeight ? v.sampleWeight[r] : 1);
      const rowAbs = (r: number) => mass[r] * BASE + sw(r) * (2 * zl * (30 + Math.log(C)) * BASE + C * UNDER * 64);
      const reduceAbs = (abs: number) => (v.reduction === 'mean' ? abs * meanScale(rows, target, o) : abs);
      expectLoss('crossEntropyWithGrad loss', got.loss, want.loss, rows, rowAbs, reduceAbs);
      expectLoss('crossEntropy', lossOnly, want.loss, rows, rowAbs, reduceAbs);
      // Gradients: 1e-5 per unit of mass (the focal factor and its derivative, each within a few
      // float32 operations of the softmax), plus the z-loss term 2 zLoss lse p with lse off by 1e-6.
      const gscale = v.reduction === 'mean' ? meanScale(rows, target, o) : 1;
      expectAllClose('grad', got.grad, want.grad, (i) => {
        const r = Math.floor(i / C);
        return { rel: REL, abs: gscale * (mass[r] * 1e-5 + sw(r) * 2 * zl * (30 + Math.log(C)) * 1e-5 + sw(r) * (C + 1) * UNDER) + 8 * UNDER };
      });
    });
  });

  it('binaryCrossEntropy: binaryCrossEntropy(WithGrad) match the reference, focal included', () => {
    const arb = fc.record({ rows: fc.integer({ min: 0, max: 8 }), classes: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 17, 1000)) })
      .chain(({ rows, classes: C }) => fc.record({
        C: fc.constant(C),
        from: fc.constantFrom('logits', 'probs') as fc.Arbitrary<'logits' | 'probs'>,
        z: logitsArb(rows * C),
        p: f32Array(probability, rows * C),
        target: fc.oneof(
          f32Array(probability, rows * C),
          fc.array(fc.integer({ min: 0, max: 1 }), { minLength: rows * C, maxLength: rows * C }).map((a) => Uint8Array.from(a)),
        ),
        weight: fc.option(f32Array(weightValue, C), { nil: undefined }),
        posWeight: fc.option(f32Array(weightValue, C), { nil: undefined }),
        focal: fc.option(fc.record({ gamma: fc.constantFrom(0, 0.5, 1, 2, 3.5), alpha: fc.constantFrom(0, 0.25, 0.5, 1) }), { nil: undefined, freq: 3 }),
        labelSmoothing: fc.constantFrom(undefined, 0, 0.1, 1),
        epsilon: fc.constantFrom(undefined, 1e-7, 1e-3),
        reduction: fc.constantFrom(undefined, 'mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none' | undefined>,
        unit: fc.constantFrom(undefined, 'nats', 'bits') as fc.Arbitrary<'nats' | 'bits' | undefined>,
      }));
    check('binaryCrossEntropy', 3000, arb, (v, xe) => {
      const { C } = v;
      const logits = v.from === 'logits';
      const x = logits ? v.z : v.p;
      // posWeight and focal cannot be combined (RangeError): focal wins.
      const o: BinaryCrossEntropyOptions & { weight?: Float32Array; posWeight?: Float32Array } = {
        classes: C, from: v.from, weight: v.weight, labelSmoothing: v.labelSmoothing, reduction: v.reduction, unit: v.unit, focal: v.focal,
        ...(logits ? { posWeight: v.focal ? undefined : v.posWeight } : { epsilon: v.epsilon }),
      };
      const want = reference.binaryCrossEntropyWithGrad(x, v.target, o);
      const got = xe.binaryCrossEntropyWithGrad(x, v.target, o);
      const lossOnly = xe.binaryCrossEntropy(x, v.target, o);
      const unit = unitOf(v.unit);
      // Per element: w (1 + pw) units of log-likelihood, each within 1e-6 nats, plus UNDER per float32
      // product below 2^-126 (subnormal weights; 4 of them), times the size of the log-likelihood
      // (|x| + 1 for logits, -log(lo) for clipped probabilities).
      const lo = f(v.epsilon ?? 1e-7);
      const elemAbs = (i: number) => {
        const w = v.weight ? v.weight[i % C] : 1;
        const pw = o.posWeight ? o.posWeight[i % C] : 1;
        return unit * (w * (1 + pw) * BASE + 4 * UNDER * (1 + (logits ? Math.abs(x[i]) : -Math.log(lo))));
      };
      const n = x.length;
      const mean = v.reduction === undefined || v.reduction === 'mean';
      const reduceAbs = (abs: number) => (mean ? abs / Math.max(n, 1) : abs);
      expectLoss('binaryCrossEntropyWithGrad loss', got.loss, want.loss, n, elemAbs, reduceAbs);
      expectLoss('binaryCrossEntropy', lossOnly, want.loss, n, elemAbs, reduceAbs);
      // Gradient per element: 1e-6 per unit of w (1 + pw) (sigmoid within a few ulps; the focal factor
      // a few more), and UNDER per float32 product (4), divided by p (1 - p) >= lo / 2 for probabilities.
      const scale = (mean ? 1 / Math.max(n, 1) : 1) * unit;
      expectAllClose('grad', got.grad, want.grad, (i) => {
        const w = v.weight ? v.weight[i % C] : 1;
        const pw = o.posWeight ? o.posWeight[i % C] : 1;
        return { rel: REL, abs: scale * w * (1 + pw) * (v.focal ? 1e-5 : BASE) + 4 * UNDER * (logits ? 1 : 2 / lo) };
      });
    });
  });

  const divergenceArb = shapeArb.chain(({ rows, classes: C }) => fc.record({
    rows: fc.constant(rows), C: fc.constant(C),
    pRaw: f32Array(probability, rows * C),
    pDist: distributionArb(rows, C),
    normalised: fc.boolean(),
    qProbs: f32Array(probability, rows * C),
    z: logitsArb(rows * C),
    z2: logitsArb(rows * C),
    qLogProbs: f32Array(logProbability, rows * C),
    from: fc.constantFrom('probs', 'logits', 'logProbs') as fc.Arbitrary<'probs' | 'logits' | 'logProbs'>,
    logTarget: fc.boolean(),
    epsilon: fc.constantFrom(undefined, 0, 1e-7, 1e-3),
    reduction: fc.constantFrom(undefined, 'batchmean', 'mean', 'sum', 'none') as fc.Arbitrary<'batchmean' | 'mean' | 'sum' | 'none' | undefined>,
    unit: fc.constantFrom(undefined, 'nats', 'bits') as fc.Arbitrary<'nats' | 'bits' | undefined>,
  }));

  it('entropy/KL/JS: entropy, klDivergence(WithGrad) and jsDivergence match the reference', () => {
    check('entropy/KL/JS', 3000, divergenceArb, (v, xe) => {
      const { rows, C } = v;
      const unit = unitOf(v.unit);
      const p = v.normalised ? v.pDist : v.pRaw;
      const red = v.reduction ?? 'batchmean';
      const perRow = red === 'batchmean' ? 1 / Math.max(rows, 1) : red === 'mean' ? 1 / Math.max(rows * C, 1) : 1;

      // Entropy: terms -p log p >= 0 never cancel, so relative, plus 2e-6 nats per log C nats of scale
      // (p log p below 2^-126 rounds to subnormals; logits add log s's 1e-6).
      const eReduction = red === 'batchmean' ? 'mean' : red;
      for (const from of ['probs', 'logits'] as const) {
        const x = from === 'probs' ? p : v.z;
        const eo = { from, reduction: eReduction, unit: v.unit };
        const abs = unit * 2e-6 * Math.max(1, Math.log(C));
        if (eReduction === 'none') expectAllClose(`entropy ${from}`, xe.entropy(x, C, eo), reference.entropy(x, C, eo), () => ({ rel: REL_SUM, abs }));
        else expectScalarClose(`entropy ${from}`, xe.entropy(x, C, eo), reference.entropy(x, C, eo), { rel: REL_SUM, abs });
      }

      // KL: q in the chosen form, p optionally as log p.
      const q = v.from === 'probs' ? v.qProbs : v.from === 'logits' ? v.z : v.qLogProbs;
      const pArg = v.logTarget ? p.map(Math.log) : p;
      const ko: KlDivergenceGradOptions = {
        from: v.from, logTarget: v.logTarget, reduction: v.reduction, unit: v.unit, ...(v.from === 'probs' ? { epsilon: v.epsilon } : {}),
      };
      const want = reference.klDivergenceWithGrad(pArg, q, C, ko);
      const got = xe.klDivergenceWithGrad(pArg, q, C, ko);
      const lossOnly = xe.klDivergence(pArg, q, C, ko);
      // Terms p_c (log p_c - log q_c) can cancel (rows need not sum to 1), so the relative tolerance is
      // on their size Σ p_c (|log p_c| + |log q_c|), plus 1e-6 nats per unit of mass.
      const lq = v.from === 'logits' ? reference.logSoftmax(q, C) : null;
      const eps = f(v.epsilon ?? 0);
      const rowAbs = (r: number) => {
        let size = 0, P = 0;
        for (let c = 0; c < C; c++) {
          const i = r * C + c, pc = p[i];
          if (pc === 0) continue;
          P += pc;
          const logq = lq ? lq[i] : v.from === 'logProbs' ? q[i] : Math.log(Math.max(q[i], eps));
          size += pc * (Math.abs(Math.log(pc)) + Math.abs(logq));
        }
        return unit * (REL * (Number.isFinite(size) ? size : 0) + BASE * P + 2 * C * UNDER);
      };
      expectLoss('klDivergenceWithGrad loss', got.loss, want.loss, rows, rowAbs, (abs) => abs * perRow);
      expectLoss('klDivergence', lossOnly, want.loss, rows, rowAbs, (abs) => abs * perRow);
      // Gradient: logits scale (P softmax - p): softmax's 4.1e-6 (see crossEntropy logits) per unit of
      // P; log-probabilities -scale p and probabilities -scale p / q: relative, but -scale p is formed
      // first and below 2^-126 is off by UNDER, which the division by q_c magnifies.
      const P = (r: number) => { let s = 0; for (let c = 0; c < C; c++) s += p[r * C + c]; return s; };
      expectAllClose('klDivergence grad', got.grad, want.grad, (i) => ({
        rel: REL,
        abs: unit * perRow * (v.from === 'logits' ? P(Math.floor(i / C)) * (4.1e-6 + 2 * ULP) : 0)
          + 2 * UNDER * (v.from === 'probs' && q[i] > 0 ? 1 + 1 / q[i] : 1),
      }));

      // JS: terms (p + q)(ln 2 - H(p / (p + q))) >= 0, computed in float32 from halves that cancel;
      // 2e-6 nats per unit of Σ (p + q) in the row.
      const jsFrom = v.from === 'logits' ? 'logits' : 'probs';
      const jp = jsFrom === 'logits' ? v.z : p, jq = jsFrom === 'logits' ? v.z2 : v.qProbs;
      const jo = { from: jsFrom, reduction: v.reduction, unit: v.unit } as const;
      const jsRow = (r: number) => {
        if (jsFrom === 'logits') return unit * 2e-6 * 2;
        let s = 0;
        for (let c = 0; c < C; c++) s += jp[r * C + c] + jq[r * C + c];
        return unit * 2e-6 * Math.max(s, 1);
      };
      if (red === 'none') expectAllClose('jsDivergence', xe.jsDivergence(jp, jq, C, jo), reference.jsDivergence(jp, jq, C, jo), (r) => ({ rel: REL_SUM, abs: jsRow(r) }));
      else {
        let abs = 0;
        for (let r = 0; r < rows; r++) abs += jsRow(r);
        expectScalarClose('jsDivergence', xe.jsDivergence(jp, jq, C, jo), reference.jsDivergence(jp, jq, C, jo), { rel: REL_SUM, abs: abs * perRow });
      }
    });
  });

  it('scorer: update().result() matches reference.score', () => {
    const arb = shapeArb.chain(({ rows, classes: C }) => fc.record({
      C: fc.constant(C),
      from: fc.constantFrom('logits', 'probs', 'logProbs') as fc.Arbitrary<'logits' | 'probs' | 'logProbs'>,
      z: logitsArb(rows * C),
      probs: f32Array(probability, rows * C),
      logProbs: f32Array(logProbability, rows * C),
      labels: fc.array(fc.oneof({ arbitrary: fc.integer({ min: 0, max: C - 1 }), weight: 5 }, { arbitrary: fc.constant(-100), weight: 1 }), { minLength: rows, maxLength: rows }),
      topK: fc.constantFrom([1], [1, 5], [2, 3]),
      bins: fc.constantFrom(1, 10, 15),
      split: fc.nat(),
    }));
    check('scorer', 1200, arb, (v, xe) => {
      const { C } = v;
      const x = v.from === 'logits' ? v.z : v.from === 'probs' ? v.probs : v.logProbs;
      const labels = Int32Array.from(v.labels);
      // A scorer needs 2 classes, and refuses k >= classes (every row would be a hit).
      const o: ScorerOptions = { classes: C, topK: v.topK.filter((k) => k < C), bins: v.bins, from: v.from };
      if (C === 1) {
        expect(() => xe.scorer(o)).toThrow(/classes = 1: .*binaryCrossEntropy/);
        expect(() => reference.score(x, labels, o)).toThrow(RangeError);
        return;
      }
      // Two updates (a split batch) must give what one would.
      const cut = labels.length === 0 ? 0 : v.split % (labels.length + 1);
      const got = xe.scorer(o).update(x.subarray(0, cut * C), labels.subarray(0, cut)).update(x.subarray(cut * C), labels.subarray(cut)).result();
      const want = reference.score(x, labels, o);
      // Counts, arg-max and ranks compare float32 inputs exactly: equal.
      expect(got.count).toBe(want.count);
      expect(got.accuracy).toEqual(want.accuracy);
      expect(got.topK).toEqual(want.topK);
      // Loss: the mean of -log p_y, relative plus 1e-6 nats (log-sum-exp near 0).
      expectScalarClose('lossNats', got.lossNats, want.lossNats, { rel: REL_SUM, abs: BASE });
      // Brier: Σ (p_c - [c = y])² <= 2 per row, with p within softmax's 4.1e-6: 2·2·4.1e-6 per row.
      expectScalarClose('brier', got.brier, want.brier, { rel: REL_SUM, abs: 2e-5 });
      // Calibration: a confidence within 1e-5 of a bin edge may land in either bin; otherwise the bins
      // hold the same rows and ECE agrees within the confidences' error.
      const conf = confidences(x, labels, C, v.from);
      const onEdge = conf.some((c) => Math.abs(c * v.bins - Math.round(c * v.bins)) < 1e-5 * v.bins && c > 0 && c < 1);
      if (!onEdge) {
        expect(got.bins.map((b) => b.count)).toEqual(want.bins.map((b) => b.count));
        expectScalarClose('ece', got.ece, want.ece, { rel: REL_SUM, abs: 1e-5 });
      }
    });
  });

  it('large rows: rows of more than 100k classes behave like the reference', () => {
    const arb = fc.record({
      rows: fc.integer({ min: 1, max: 2 }),
      C: fc.constantFrom(100_003, 128_256),
      seed: fc.integer({ min: 1, max: 1e6 }),
      specials: fc.array(fc.tuple(fc.nat(), extremeLogit), { maxLength: 8 }),
      soft: fc.boolean(),
    });
    check('large rows', 4, arb, ({ rows, C, seed, specials, soft }, xe) => {
      const u = rng(seed);
      const z = Float32Array.from({ length: rows * C }, () => 6 * (u() - 0.5));
      for (const [i, x] of specials) z[i % z.length] = x;
      const y = Int32Array.from({ length: rows }, () => Math.floor(u() * C));
      const t = new Float32Array(rows * C);
      for (let r = 0; r < rows; r++) for (let k = 0; k < 4; k++) t[r * C + Math.floor(u() * C)] += 0.25;
      const lpRef = reference.logSoftmax(z, C);
      expectAllClose('logSoftmax', xe.logSoftmax(z, C), lpRef, () => ({ rel: REL, abs: 2.5e-6 }));
      expectAllClose('softmax', xe.softmax(z, C), reference.softmax(z, C), (i) => ({ rel: REL + ULP * Math.abs(lpRef[i]), abs: MIN_NORMAL }));
      expectAllClose('logSumExp', xe.logSumExp(z, C), reference.logSumExp(z, C), () => ({ rel: 4 * ULP, abs: BASE }));
      const o: PlainOptions = { classes: C, labelSmoothing: 0.1, reduction: 'none' };
      const target = soft ? t : y;
      const got = xe.crossEntropyWithGrad(z, target, o), want = reference.crossEntropyWithGrad(z, target, o);
      expectAllClose('loss', got.loss, want.loss, () => ({ rel: REL_SUM, abs: BASE }));
      expectAllClose('grad', got.grad, want.grad, () => ({ rel: REL, abs: 4.1e-6 + 2 * ULP }));
      expectAllClose('entropy', xe.entropy(z, C, { from: 'logits' }), reference.entropy(z, C, { from: 'logits' }), () => ({ rel: REL_SUM, abs: 2e-6 * Math.log(C) }));
      const kl = { from: 'logits', reduction: 'none' } as const;
      expectAllClose('klDivergence', xe.klDivergence(t, z, C, kl), reference.klDivergence(t, z, C, kl), () => ({ rel: REL_SUM, abs: 1e-5 }));
    });
  });

  // -------------------------------------------------------------------------------------------------
  // Invariants, on the wasm results alone.

  const rowsArb = shapeArb.chain(({ rows, classes }) => fc.record({ C: fc.constant(classes), z: logitsArb(rows * classes) }));

  it('softmax sums: softmax rows sum to 1 and logSoftmax is <= 0', () => {
    check('softmax sums', 1600, rowsArb, ({ C, z }, xe) => {
      const p = xe.softmax(z, C);
      const lp = xe.logSoftmax(z, C);
      for (let r = 0; r * C < z.length; r++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += p[r * C + c];
        // Each p_c is within 4e-6 + ULP |log p_c| relative (rowwise), which sums to <= 4.1e-6.
        if (!(Math.abs(s - 1) <= 4.1e-6)) throw new Error(`softmax row ${r} sums to ${s}`);
      }
      for (let i = 0; i < lp.length; i++) if (!(lp[i] <= 0)) throw new Error(`logSoftmax[${i}] = ${lp[i]} > 0`);
    });
  });

  it('CE, KL >= 0: crossEntropy >= 0 and klDivergence >= 0', () => {
    check('CE, KL >= 0', 1600, ceLogitsArb, (v, xe) => {
      const { C, z } = v;
      const { target, o } = ceCall(v);
      const loss = xe.crossEntropy(z, target, { ...o, reduction: 'none' });
      for (let r = 0; r < loss.length; r++) if (!(loss[r] >= 0)) throw new Error(`crossEntropy row ${r} = ${loss[r]}`);
      // Gibbs: KL(p‖softmax z) >= P log P with P = Σ p; float32 rows sum to 1 within C ULP, so KL is
      // >= -(C ULP) up to the 1e-6 nats of log-sum-exp.
      const kl = xe.klDivergence(v.target, z, C, { from: 'logits', reduction: 'none' });
      for (let r = 0; r < kl.length; r++) if (!(kl[r] >= -(C * ULP + BASE))) throw new Error(`klDivergence row ${r} = ${kl[r]}`);
    });
  });

  it('H(p,q) = H(p) + KL: cross-entropy is entropy plus KL, with soft targets and logits', () => {
    check('H(p,q) = H(p) + KL', 1600, ceLogitsArb, ({ C, z, target }, xe) => {
      const ce = xe.crossEntropy(z, target, { classes: C, reduction: 'none' });
      const h = xe.entropy(target, C);
      const kl = xe.klDivergence(target, z, C, { from: 'logits', reduction: 'none' });
      for (let r = 0; r < ce.length; r++) {
        // Three float32 results, each within 1e-5 relative and 2e-6 · max(1, log C) nats.
        const tol = REL_SUM * (Math.abs(ce[r]) + Math.abs(h[r]) + Math.abs(kl[r])) + 3 * 2e-6 * Math.max(1, Math.log(C));
        if (!(Math.abs(ce[r] - (h[r] + kl[r])) <= tol)) {
          throw new Error(`row ${r}: H(p,q) = ${ce[r]}, H(p) + KL = ${h[r]} + ${kl[r]} = ${h[r] + kl[r]} (tol ${tol})`);
        }
      }
    });
  });

  it('grad rows sum to 0: the gradient of the mean cross-entropy sums to 0 across each row', () => {
    check('grad rows sum to 0', 1600, ceLogitsArb.chain((v) => fc.record({ v: fc.constant(v), focal: fc.boolean() })), ({ v, focal }, xe) => {
      const { rows, C, z } = v;
      const { target, o } = ceCall(v);
      const opts: PlainOptions = { ...o, reduction: 'mean', unit: undefined, onAllIgnored: 'zero', ...(focal ? { focal: { gamma: 2, alpha: 0.25 } } : {}) };
      if (refusedMean(xe, rows, target, opts, z)) return;
      const { grad } = xe.crossEntropyWithGrad(z, target, opts);
      const mass = targetMass(C, rows, target, opts);
      const scale = meanScale(rows, target, opts);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += grad[r * C + c];
        // Σ_c g_c = scale (mass Σ p - Σ a): Σ p is 1 within 4.1e-6 (softmax sums), each g_c rounds by
        // ULP of its two terms (2 ULP mass in all) and each coefficient by UNDER before and after
        // scaling. The focal gradient, Σ_c (p_c Σ g - g_c), cancels the same way with a factor <= 3.
        const tol = scale * (mass[r] * (4.1e-6 + 2 * ULP) * (focal ? 3 : 1) + (C + 1) * UNDER) + 8 * C * UNDER;
        if (!(Math.abs(s) <= tol)) throw new Error(`grad row ${r} sums to ${s} (tol ${tol})`);
      }
    });
  });

  it('shift invariance: adding a constant to a row changes nothing but the log-sum-exp', () => {
    const arb = shapeArb.chain(({ rows, classes: C }) => fc.record({
      C: fc.constant(C),
      z: f32Array(moderateLogit, rows * C),
      t: distributionArb(rows, C),
      shift: fc.oneof(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.constantFrom(1000, -250, 0.5, 2 ** 20)),
      labels: labelsArb(rows, C),
      labelSmoothing: fc.constantFrom(0, 0.1),
      focal: fc.boolean(),
    }));
    check('shift invariance', 1600, arb, ({ C, z, t, shift, labels, labelSmoothing, focal }, xe) => {
      const zs = z.map((x) => x + shift);
      const y = Int32Array.from(labels);
      // The log of a distribution as the second logits of JS (-inf for its zeros: masked classes).
      const logT = t.map(Math.log);
      const o = { classes: C, reduction: 'none' as const, labelSmoothing, ...(focal ? { focal: { gamma: 2, alpha: 0.25 } } : {}) };
      const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
        ['crossEntropy', xe.crossEntropy(z, y, o), xe.crossEntropy(zs, y, o)],
        ['entropy', xe.entropy(z, C, { from: 'logits' }), xe.entropy(zs, C, { from: 'logits' })],
        ['klDivergence', xe.klDivergence(t, z, C, { from: 'logits', reduction: 'none' }), xe.klDivergence(t, zs, C, { from: 'logits', reduction: 'none' })],
        ['jsDivergence', xe.jsDivergence(z, logT, C, { from: 'logits', reduction: 'none' }), xe.jsDivergence(zs, logT, C, { from: 'logits', reduction: 'none' })],
      ];
      const pa = xe.softmax(z, C), pb = xe.softmax(zs, C);
      const la = xe.logSumExp(z, C), lb = xe.logSumExp(zs, C);
      for (let r = 0; r * C < z.length; r++) {
        // δ: the largest rounding of a shifted logit (zs is float32), m: the largest |logit|. A row
        // value whose gradient has L1 norm <= 2 (each of these: 2 per unit of mass, mass <= 1; JS's
        // pair moves by 2δ) moves by at most 2δ; each result carries 1e-5 relative + 2e-6·log C nats.
        let delta = 0, m = 0;
        for (let c = 0; c < C; c++) {
          delta = Math.max(delta, Math.abs(zs[r * C + c] - (z[r * C + c] + shift)));
          m = Math.max(m, Math.abs(zs[r * C + c]));
        }
        for (const [name, a, b] of pairs) {
          const tol = 4 * delta + REL_SUM * (Math.abs(a[r]) + Math.abs(b[r])) + 2 * 2e-6 * Math.max(1, Math.log(C));
          if (!(Math.abs(a[r] - b[r]) <= tol)) throw new Error(`${name} row ${r}: ${a[r]} vs shifted ${b[r]} (tol ${tol})`);
        }
        // logSumExp moves by the shift: both within 4 ULP + 1e-6, and the rounding of shift and zs.
        const lt = 4 * ULP * (Math.abs(la[r]) + Math.abs(lb[r]) + Math.abs(shift)) + 2 * BASE + delta;
        if (!(Math.abs(lb[r] - la[r] - shift) <= lt)) throw new Error(`logSumExp row ${r}: ${la[r]} + ${shift} vs ${lb[r]} (tol ${lt})`);
        for (let c = 0; c < C; c++) {
          // Probabilities move by a factor exp(±2δ), and each is within 4e-6 + ULP |log p| (m bounds
          // |z - max|, so ULP 2m).
          const i = r * C + c;
          const ptol = pa[i] * (Math.expm1(2 * delta) + 2 * (REL + 2 * ULP * (m + Math.abs(shift)))) + MIN_NORMAL;
          if (!(Math.abs(pa[i] - pb[i]) <= ptol)) throw new Error(`softmax[${i}]: ${pa[i]} vs shifted ${pb[i]} (tol ${ptol})`);
        }
      }
    });
  });

  it(`case count: ran at least 10,000 cases in total (seed ${SEED})`, () => {
    console.log(`properties: ${cases} cases in total (seed ${SEED})`);
    // A replay (XENTROPY_PATH) runs one case per property.
    const want = PATH ? Object.keys(runs).length : Math.floor(10_000 * Math.min(RUNS_SCALE, 1));
    expect(Object.keys(runs)).toHaveLength(15);
    expect(cases).toBeGreaterThanOrEqual(want);
  });
});

/** Top-label confidence of each counted row (float64), as the scorer bins it. */
function confidences(x: Float32Array, labels: Int32Array, C: number, from: 'logits' | 'probs' | 'logProbs'): number[] {
  const out: number[] = [];
  for (let r = 0; r < labels.length; r++) {
    if (labels[r] === -100) continue;
    const row = Array.from(x.subarray(r * C, (r + 1) * C));
    const p = from === 'logits' ? Array.from(reference.softmax(Float32Array.from(row), C)) : from === 'probs' ? row : row.map(Math.exp);
    let best = 0;
    for (let c = 1; c < C; c++) if (row[c] > row[best]) best = c;
    out.push(p[best]);
  }
  return out;
}
