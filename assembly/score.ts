// Model evaluation: per-row statistics, folded into the scorer's mergeable f64 state
// (src/ops/scorer.ts lays it out, copies it in before an update and back out after).
//
// For each counted row (label y != ignoreIndex) one call computes, from logits z (from = 0),
// probabilities q (from = 1) or log-probabilities (from = 2):
//   loss   -log p_y in nats (for probabilities, -log clip(q_y, eps, 1 - eps))
//   conf   the top-label probability p_max (1 / s for logits: exp(z_max - lse))
//   brier  sum_c (p_c - [c = y])^2, formed as sum_{c != y} p_c^2 + (1 - p_y)^2 so that a confident,
//          correct row does not lose its small value to the cancellation in sum p^2 - 2 p_y + 1
//   pred   the arg-max, first index on ties
//   rank   the number of classes whose score is strictly greater than the true class's (top-k hit
//          when rank < k)
// Logit rows get their log-sum-exp from rowStats, then one more sweep (the row is re-read from cache)
// for the arg-max, the rank and the sums over c != y. Those sums run in f32x4 lanes over spans of
// SPAN floats, added in f64, as entropy.ts does; every term is non-negative, so nothing cancels.
//
// A logit row whose log-sum-exp is not finite (a NaN or +inf, or only -inf) goes through a plain f64
// scan that follows the reference: NaN propagates, and the arg-max is numpy's (the first NaN if any).
//
// Each row is then folded into the state here rather than in JavaScript: a command line's cold run
// would otherwise spend most of its scoring in a per-row JavaScript loop not yet compiled. The fold
// is the one the JavaScript did, operation for operation in f64 (Neumaier's compensated sums, counts
// as exact f64 integers), so states are the same bits either way. The scorer passes the zeroed
// partial of a fold group as `state` (src/engine/score_groups.ts), and merges it into its running
// state when the group ends; the pool's workers fold groups the same way, each into its own partial.

import { rowStatsPlain, rowShift, rowSum } from './row';
import { expNeg4, expNeg } from './exp';

/** Floats per f32 accumulation span; a multiple of 4. */
// @ts-ignore: decorator
@inline const SPAN: i32 = 256;

let sweepOther: f64 = 0;
let sweepOtherSq: f64 = 0;
let sweepRank: i32 = 0;
let sweepArg: i32 = 0;
let sweepMax: f32 = 0;

/**
 * One sweep over a row of n scores at p with true class y: rank of y, first arg-max, and
 * sum / sum of squares of e_c over c != y, where e_c = exp(z_c - shift) (mode 0), q_c (1) or
 * exp(lp_c) (2). NaN never wins the arg-max here (callers route NaN rows elsewhere).
 * Probabilities (mode 1) are read clipped to [0, 1]: the check let through values a few ulps outside.
 */
// @ts-ignore: decorator
@inline function sweep(p: usize, n: i32, y: i32, shift: f32, mode: i32): void {
  let zy = load<f32>(p + (<usize>y << 2));
  if (mode == 1) zy = clip01(zy);
  let other: f64 = 0, otherSq: f64 = 0;
  let r = 0;
  let m: f32 = -Infinity;
  let arg: i32 = i32.MAX_VALUE;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zy4 = f32x4.splat(zy), sh = f32x4.splat(shift), y4 = i32x4.splat(y), four = i32x4.splat(4);
    const zero4 = f32x4.splat(0), one4 = f32x4.splat(1);
    let idx = i32x4(0, 1, 2, 3);
    let rank = i32x4.splat(0);
    let bestV = f32x4.splat(-Infinity);
    let bestI = i32x4.splat(i32.MAX_VALUE);
    for (let off = 0; off < n; off += SPAN) {
      const end = min(off + SPAN, n);
      let o = f32x4.splat(0), q = o;
      for (; i + 4 <= end; i += 4) {
        let z = v128.load(p + (<usize>i << 2));
        if (mode == 1) z = f32x4.pmin(f32x4.pmax(z, zero4), one4);
        rank = i32x4.sub(rank, f32x4.gt(z, zy4));
        // Strictly greater: each lane keeps its first maximum.
        const gt = f32x4.gt(z, bestV);
        bestV = v128.bitselect(z, bestV, gt);
        bestI = v128.bitselect(idx, bestI, gt);
        let e = mode == 0 ? expNeg4(f32x4.sub(z, sh)) : mode == 1 ? z : expNeg4(z);
        e = v128.andnot(e, i32x4.eq(idx, y4));
        o = f32x4.add(o, e);
        q = f32x4.add(q, f32x4.mul(e, e));
        idx = i32x4.add(idx, four);
      }
      other += <f64>f32x4.extract_lane(o, 0) + <f64>f32x4.extract_lane(o, 1)
             + <f64>f32x4.extract_lane(o, 2) + <f64>f32x4.extract_lane(o, 3);
      otherSq += <f64>f32x4.extract_lane(q, 0) + <f64>f32x4.extract_lane(q, 1)
               + <f64>f32x4.extract_lane(q, 2) + <f64>f32x4.extract_lane(q, 3);
    }
    r = i32x4.extract_lane(rank, 0) + i32x4.extract_lane(rank, 1)
      + i32x4.extract_lane(rank, 2) + i32x4.extract_lane(rank, 3);
    for (let l = 0; l < 4; l++) {
      const v = f32x4.extract_lane(bestV, 0), k = i32x4.extract_lane(bestI, 0);
      // extract_lane needs a constant lane: rotate the vectors instead.
      if (v > m || (v == m && k < arg)) { m = v; arg = k; }
      bestV = i8x16.shuffle(bestV, bestV, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3);
      bestI = i8x16.shuffle(bestI, bestI, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3);
    }
  }
  for (; i < n; i++) {
    let z = load<f32>(p + (<usize>i << 2));
    if (mode == 1) z = clip01(z);
    if (z > zy) r++;
    if (z > m) { m = z; arg = i; }
    if (i != y) {
      const e: f32 = mode == 0 ? expNeg(z - shift) : mode == 1 ? z : expNeg(z);
      other += <f64>e;
      otherSq += <f64>(e * e);
    }
  }
  // A row of only -inf has no strict maximum: numpy's arg-max is then 0.
  if (arg == i32.MAX_VALUE) { arg = 0; m = mode == 1 ? clip01(load<f32>(p)) : load<f32>(p); }
  sweepOther = other;
  sweepOtherSq = otherSq;
  sweepRank = r;
  sweepArg = arg;
  sweepMax = m;
}

/** A probability the check accepted (within a few ulps of [0, 1]) as the value in [0, 1] it stands for. */
// @ts-ignore: decorator
@inline function clip01(q: f32): f32 {
  return min(max(q, <f32>0), <f32>1);
}

/** Per-row results of rowScore, read by the fold. */
let rowLoss: f64 = 0;
let rowConf: f64 = 0;
let rowBrier: f64 = 0;
let rowArg: i32 = 0;
let rowRank: i32 = 0;

/** The f64 scan for a logit row whose log-sum-exp is lse, not finite (NaN, +inf or -inf). */
function nonFiniteRow(p: usize, n: i32, y: i32, lse: f64): void {
  let arg = 0;
  let best = <f64>load<f32>(p);
  let rank = 0;
  const zy = <f64>load<f32>(p + (<usize>y << 2));
  let brier: f64 = 0;
  for (let c = 0; c < n; c++) {
    const z = <f64>load<f32>(p + (<usize>c << 2));
    if (z > zy) rank++;
    if (best == best && (z != z || z > best)) { best = z; arg = c; }
    const pc = Math.exp(z - lse);
    brier += c == y ? (1 - pc) * (1 - pc) : pc * pc;
  }
  rowLoss = lse - zy;
  rowConf = Math.exp(best - lse);
  rowBrier = brier;
  rowArg = arg;
  rowRank = rank;
}

/** The statistics of one counted row of n scores at p with true class y (see the top of the file). */
// @ts-ignore: decorator
@inline function rowScore(p: usize, n: i32, y: i32, from: i32, eps: f64): void {
  if (from == 0) {
    rowStatsPlain(p, n);
    const m = rowShift, s = rowSum;
    if (!(m > -Infinity && m < Infinity) || s != s) {
      nonFiniteRow(p, n, y, s != s ? NaN : <f64>m);
      return;
    }
    sweep(p, n, y, m, 0);
    const zy = load<f32>(p + (<usize>y << 2));
    // log1p keeps the small loss of a confident, correct row: s = 1 + (sum over c != y).
    rowLoss = zy == m ? Math.log1p(sweepOther) : (<f64>m - <f64>zy) + Math.log(s);
    rowConf = 1 / s;
    const a = sweepOther / s;
    rowBrier = sweepOtherSq / (s * s) + a * a;
  } else if (from == 1) {
    sweep(p, n, y, 0, 1);
    const qy = <f64>clip01(load<f32>(p + (<usize>y << 2)));
    rowLoss = -Math.log(min(max(qy, eps), 1 - eps));
    rowConf = <f64>sweepMax;
    rowBrier = sweepOtherSq + (1 - qy) * (1 - qy);
  } else {
    sweep(p, n, y, 0, 2);
    const ly = <f64>load<f32>(p + (<usize>y << 2));
    rowLoss = -ly;
    rowConf = Math.exp(<f64>sweepMax);
    const a = -Math.expm1(ly);
    rowBrier = sweepOtherSq + a * a;
  }
  rowArg = sweepArg;
  rowRank = sweepRank;
}

/**
 * Neumaier's compensated addition of x into the sum at s and its compensation at c. An infinite sum
 * has no rounding error to recover (and inf - inf would make the compensation NaN).
 */
// @ts-ignore: decorator
@inline function addCompensated(s: usize, c: usize, x: f64): void {
  const sum = load<f64>(s);
  const t = sum + x;
  if (t - t == 0) store<f64>(c, load<f64>(c) + (abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum));
  store<f64>(s, t);
}

/**
 * Scores `rows` rows of `cols` scores at `input` against i32 labels and folds each counted row (label
 * != ignoreIndex) into the state at `state`, f64s laid out as
 *   [count, correct, loss sum, loss compensation, Brier sum, Brier compensation,
 *    k_0 .. k_{K-1}, hits_0 .. hits_{K-1},
 *    binCount[bins], binCorrect[bins], binConf[bins], binConfComp[bins]].
 * from: 0 logits, 1 probabilities (read clipped to [0, 1]; loss clipped to [eps, 1 - eps]), 2
 * log-probabilities. With `losses` != 0, counted row r's loss (nats) is also stored at losses + 8 r.
 * With `classCounts` != 0, the per-class counts there, f64s laid out as
 *   [support[cols], predicted[cols], correct[cols]]
 * count the row's label, its arg-max and, when they agree, its label; with `confusion` != 0, the
 * cols x cols f64 counts there (row-major, true x predicted) count (label, arg-max). Callers that
 * pass neither (JavaScript reads missing arguments as 0) get the state they always had.
 * Ignored rows are neither read nor written. Returns the number of counted rows.
 */
export function scoreRows(
  input: usize, labels: usize, rows: i32, cols: i32, ignoreIndex: i32, from: i32, eps: f64,
  state: usize, topK: i32, bins: i32, losses: usize, classCounts: usize, confusion: usize,
): i32 {
  const stride = <usize>cols << 2;
  const ks = state + 48, hits = ks + (<usize>topK << 3);
  const binCount = hits + (<usize>topK << 3), binCorrect = binCount + (<usize>bins << 3);
  const binConf = binCorrect + (<usize>bins << 3), binConfComp = binConf + (<usize>bins << 3);
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const y = load<i32>(labels + (<usize>r << 2));
    if (y == ignoreIndex) continue;
    counted++;
    rowScore(input + <usize>r * stride, cols, y, from, eps);
    const loss = rowLoss, conf = rowConf;
    const correct = rowArg == y;
    const rank = <f64>rowRank;
    if (losses) store<f64>(losses + (<usize>r << 3), loss);
    store<f64>(state, load<f64>(state) + 1);
    if (correct) store<f64>(state, load<f64>(state, 8) + 1, 8);
    for (let j = 0; j < topK; j++) {
      const q = hits + (<usize>j << 3);
      if (rank < load<f64>(ks + (<usize>j << 3))) store<f64>(q, load<f64>(q) + 1);
    }
    addCompensated(state + 16, state + 24, loss);
    addCompensated(state + 32, state + 40, rowBrier);
    // Equal-width bins of [0, 1]; a NaN confidence goes to bin 0, where it makes the ECE NaN.
    const bin: i32 = conf > 0 ? min(bins - 1, <i32>Math.floor(conf * <f64>bins)) : 0;
    const b = <usize>bin << 3;
    store<f64>(binCount + b, load<f64>(binCount + b) + 1);
    if (correct) store<f64>(binCorrect + b, load<f64>(binCorrect + b) + 1);
    addCompensated(binConf + b, binConfComp + b, conf);
    if (classCounts) {
      const support = classCounts + (<usize>y << 3);
      store<f64>(support, load<f64>(support) + 1);
      const predicted = classCounts + ((<usize>cols + <usize>rowArg) << 3);
      store<f64>(predicted, load<f64>(predicted) + 1);
      if (correct) {
        const right = classCounts + ((2 * <usize>cols + <usize>y) << 3);
        store<f64>(right, load<f64>(right) + 1);
      }
    }
    if (confusion) {
      const cell = confusion + ((<usize>y * <usize>cols + <usize>rowArg) << 3);
      store<f64>(cell, load<f64>(cell) + 1);
    }
  }
  return counted;
}
