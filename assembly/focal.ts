// Categorical focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"; Keras'
// CategoricalFocalCrossentropy): loss = -alpha sum_c a_c (1 - p_c)^gamma log p_c with p = softmax(z)
// and a_c the row's weighted, smoothed target, as in the other cross-entropy kernels.
//
// Gradient: with f(p) = (1 - p)^gamma log p and g_c = a_c p_c f'(p_c)
//   = a_c [(1 - p_c)^gamma - gamma (1 - p_c)^gamma p_c log p_c / (1 - p_c)],
// dloss/dz_j = alpha (p_j sum_c g_c - g_j). (1 - p)^gamma = exp(gamma log(1 - p)) uses the vector exp
// and log (the argument is <= 0, as expNeg4 needs); where p rounds to 1 the power is 0^gamma and the
// second term takes its limit, 0. A row is swept three times: statistics, loss and sum g, gradient.
// Tails run focal1, the scalar twin of focalLanes (the same IEEE operations in the same order), so a
// tail element equals what a lane would give without FMA; the scalar build runs every element through it.

import { rowStatsPlain, rowShift, rowSum } from './row';
import { expNeg4, expNeg } from './exp';
import { log4, log1 } from './log';

/**
 * Classes per f32 accumulation span of the loss and gradient sums: 32 terms per lane. A row of equal
 * terms rounds the same way at every addition, so the error grows with the terms per lane; 32 stays
 * within 1e-6 relative.
 */
// @ts-ignore: decorator
@inline const SPAN: i32 = 128;

// The v128 globals are @lazy so that the scalar build, which never uses them, does not compile them.
// @ts-ignore: decorator
@lazy const LANE = v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);

// Per-lane results of focalLanes (AS functions return one value).
// @ts-ignore: decorator
@lazy let laneGrad: v128 = v128(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
// @ts-ignore: decorator
@lazy let laneProb: v128 = v128(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
// The same for focal1.
let oneGrad: f32 = 0;
let oneProb: f32 = 0;

/** Returns -a (1 - p)^gamma log p per lane; leaves g in laneGrad and p in laneProb. */
// @ts-ignore: decorator
@inline function focalLanes(z: v128, a: v128, shift: v128, logS: v128, invS: v128, gamma: f32): v128 {
  const x = f32x4.sub(z, shift);
  const lp = f32x4.sub(x, logS);
  const p = f32x4.mul(expNeg4(x), invS);
  const omp = f32x4.sub(f32x4.splat(1), p);
  const one = f32x4.eq(omp, f32x4.splat(0));
  const g4 = f32x4.splat(gamma);
  // 0^gamma is 1 for gamma = 0 and 0 above; log 0 would turn 0 * -inf into NaN.
  const atOne = f32x4.splat(gamma == 0 ? <f32>1 : <f32>0);
  const pw = v128.bitselect(atOne, expNeg4(f32x4.mul(g4, log4(omp))), one);
  const second = v128.andnot(f32x4.div(f32x4.mul(f32x4.mul(g4, pw), f32x4.mul(p, lp)), omp), one);
  // Classes with no target weight contribute nothing, even a masked -inf logit (0 * -inf is NaN).
  const none = f32x4.eq(a, f32x4.splat(0));
  laneGrad = v128.andnot(f32x4.mul(a, f32x4.sub(pw, second)), none);
  laneProb = p;
  return v128.andnot(f32x4.neg(f32x4.mul(a, f32x4.mul(pw, lp))), none);
}

/** Scalar twin of focalLanes: returns -a (1 - p)^gamma log p; leaves g in oneGrad and p in oneProb. */
// @ts-ignore: decorator
@inline function focal1(z: f32, a: f32, shift: f32, logS: f32, invS: f32, gamma: f32): f32 {
  const x = z - shift;
  const lp = x - logS;
  const p = expNeg(x) * invS;
  const omp = <f32>1 - p;
  const one = omp == 0;
  const pw = one ? (gamma == 0 ? <f32>1 : <f32>0) : expNeg(gamma * log1(omp));
  const second = one ? <f32>0 : ((gamma * pw) * (p * lp)) / omp;
  const none = a == 0;
  oneGrad = none ? <f32>0 : a * (pw - second);
  oneProb = p;
  return none ? <f32>0 : -(a * (pw * lp));
}

/** a for four classes j..j+3: (w or 1)(lambda t + mu or mu) plus alphaY where the class is y. */
// @ts-ignore: decorator
@inline function coef4(o: usize, j: i32, y: i32, hasW: bool, w: usize, hasT: bool, t: usize,
  lambda: f32, mu: f32, alphaY: f32): v128 {
  let c = hasT ? f32x4.add(f32x4.mul(v128.load(t + o), f32x4.splat(lambda)), f32x4.splat(mu)) : f32x4.splat(mu);
  if (hasW) c = f32x4.mul(c, v128.load(w + o));
  return f32x4.add(c, v128.and(f32x4.splat(alphaY), i32x4.eq(i32x4.add(i32x4.splat(j), LANE), i32x4.splat(y))));
}

/** Scalar coefficient of class j, in the same operation order as coef4. */
// @ts-ignore: decorator
@inline function coef1(o: usize, j: i32, y: i32, hasW: bool, w: usize, hasT: bool, t: usize,
  lambda: f32, mu: f32, alphaY: f32): f32 {
  let c = hasT ? load<f32>(t + o) * lambda + mu : mu;
  if (hasW) c *= load<f32>(w + o);
  return c + (j == y ? alphaY : <f32>0);
}

/**
 * rowFocal in f64, one class at a time, as the float64 reference computes it: for a row whose f32 loss
 * or gradient sum came out inf or NaN. With logits far beyond 1e30, log p = z - lse leaves float32
 * (or p log p becomes 0 * -inf) where the loss need not; true infinities and NaNs come out as the
 * reference's. shift and logS are the row's from rowStats: log p = (z - shift) - logS, in that order, so
 * that near FLT_MAX, where f64 cannot add log s to the shift, a tied maximum still gets 1 / s.
 */
function rowFocalExact(
  p: usize, q: usize, n: i32, y: i32, hasW: bool, w: usize, hasT: bool, t: usize,
  lambda: f32, mu: f32, alphaY: f32, gamma: f32, scale: f32, shift: f64, logS: f64
): f64 {
  const g = <f64>gamma;
  let loss: f64 = 0, gSum: f64 = 0;
  // Two sweeps when q != 0: the loss and sum g, then the gradient, whose g_c is formed again.
  const passes = q ? 2 : 1;
  for (let pass = 0; pass < passes; pass++) {
    for (let c = 0; c < n; c++) {
      const o = <usize>c << 2;
      const a = <f64>coef1(o, c, y, hasW, w, hasT, t, lambda, mu, alphaY);
      const lp = (<f64>load<f32>(p + o) - shift) - logS, e = Math.exp(lp), omp = 1 - e;
      // (1 - p)^gamma through exp and log (0^0 is 1), and (1 - p)^(gamma - 1) as that over 1 - p, whose
      // limit at p = 1 is 0.
      const pw = g == 0 ? 1 : Math.exp(g * Math.log(omp));
      const gc = a == 0 ? 0 : a * (pw - (e == 1 ? 0 : g * (pw / omp) * e * lp));
      if (pass == 0) {
        if (a != 0) loss -= a * pw * lp;
        gSum += gc;
      } else {
        store<f32>(q + o, <f32>(<f64>scale * (e * gSum - gc)));
      }
    }
  }
  return loss;
}

/** sum g over the classes focalSums took, beside its loss sum. */
let focalGSum: f64 = 0;

/**
 * The loss and sum g (in focalGSum) over classes [from, to) of a row: vector lanes in spans of SPAN
 * below n & ~3, focal1 from there on. rowFocal's one call takes a whole row, or a hard label's block.
 */
// @ts-ignore: decorator
@inline function focalSums(
  p: usize, from: i32, to: i32, n: i32, y: i32, hasW: bool, w: usize, hasT: bool, t: usize,
  lambda: f32, mu: f32, alphaY: f32, gamma: f32, shift: f32, logS: f32, invS: f32
): f64 {
  let loss: f64 = 0, gSum: f64 = 0;
  let j = from;
  // Compiled out of the scalar build, whose tail loop then takes every class.
  if (ASC_FEATURE_SIMD) {
    const shift4 = f32x4.splat(shift), invS4 = f32x4.splat(invS), logS4 = f32x4.splat(logS);
    const whole = min(to, n & ~3);
    // f32 lanes over spans of SPAN classes, f64 across spans.
    while (j < whole) {
      const end = min(j + SPAN, whole);
      let lossAcc = f32x4.splat(0), gAcc = f32x4.splat(0);
      for (; j < end; j += 4) {
        const o = <usize>j << 2;
        const a = coef4(o, j, y, hasW, w, hasT, t, lambda, mu, alphaY);
        lossAcc = f32x4.add(lossAcc, focalLanes(v128.load(p + o), a, shift4, logS4, invS4, gamma));
        gAcc = f32x4.add(gAcc, laneGrad);
      }
      loss += <f64>f32x4.extract_lane(lossAcc, 0) + <f64>f32x4.extract_lane(lossAcc, 1)
            + <f64>f32x4.extract_lane(lossAcc, 2) + <f64>f32x4.extract_lane(lossAcc, 3);
      gSum += <f64>f32x4.extract_lane(gAcc, 0) + <f64>f32x4.extract_lane(gAcc, 1)
            + <f64>f32x4.extract_lane(gAcc, 2) + <f64>f32x4.extract_lane(gAcc, 3);
    }
  }
  for (let k = j; k < to; k++) {
    const o = <usize>k << 2;
    const a = coef1(o, k, y, hasW, w, hasT, t, lambda, mu, alphaY);
    loss += <f64>focal1(load<f32>(p + o), a, shift, logS, invS, gamma);
    gSum += <f64>oneGrad;
  }
  focalGSum = gSum;
  return loss;
}

/**
 * One row: returns its loss (before alpha and sample weight); writes the gradient when q != 0. Not
 * inlined: one copy serves every weight and target combination of both kernels (each class costs two
 * exps and a log, beside which the call and the flag tests are lost).
 *
 * A hard label without smoothing (no soft target, mu = 0), the usual focal loss, has a_c = 0 for every
 * class but y: the loss is class y's term alone, sum g is g_y, and the gradient is
 * scale (p_j g_y - [j = y] g_y). Then only y's block of four (or y itself in the tail) goes through
 * focalSums, and the gradient needs one exponential per class instead of two, a log and a division.
 * The bits are the whole row's: there the other classes' terms are exact zeros (+0 added to an f32
 * lane, p g - 0 = p g), and class y gets the arithmetic of its position.
 */
function rowFocal(
  p: usize, q: usize, n: i32, y: i32, hasW: bool, w: usize, hasT: bool, t: usize,
  lambda: f32, mu: f32, alphaY: f32, gamma: f32, scale: f32
): f64 {
  rowStatsPlain(p, n);
  const s = rowSum;
  const shift = rowShift, invS = <f32>(1 / s), logS = <f32>Math.log(s);
  const hard = !hasT && mu == 0;
  const whole = ASC_FEATURE_SIMD ? n & ~3 : 0;
  const vectorY = y < whole;
  const from = !hard ? 0 : vectorY ? y & ~3 : y;
  const to = !hard ? n : vectorY ? from + 4 : y + 1;
  const loss = focalSums(p, from, to, n, y, hasW, w, hasT, t, lambda, mu, alphaY, gamma, shift, logS, invS);
  const gSum = focalGSum;
  if (!isFinite(loss) || !isFinite(gSum)) {
    return rowFocalExact(p, q, n, y, hasW, w, hasT, t, lambda, mu, alphaY, gamma, scale, shift, Math.log(s));
  }
  if (!q) return loss;
  const gsS = <f32>gSum;
  // y's logit, read before the sweep below: q may be the logits.
  const zy = hard ? load<f32>(p + (<usize>y << 2)) : 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const shift4 = f32x4.splat(shift), invS4 = f32x4.splat(invS), logS4 = f32x4.splat(logS);
    const sc = f32x4.splat(scale), gs = f32x4.splat(gsS);
    if (hard) {
      for (; j < whole; j += 4) {
        const o = <usize>j << 2;
        const pj = f32x4.mul(expNeg4(f32x4.sub(v128.load(p + o), shift4)), invS4);
        v128.store(q + o, f32x4.mul(sc, f32x4.mul(pj, gs)));
      }
    } else {
      for (; j < whole; j += 4) {
        const o = <usize>j << 2;
        focalLanes(v128.load(p + o), coef4(o, j, y, hasW, w, hasT, t, lambda, mu, alphaY), shift4, logS4, invS4, gamma);
        v128.store(q + o, f32x4.mul(sc, f32x4.sub(f32x4.mul(laneProb, gs), laneGrad)));
      }
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    if (hard) {
      store<f32>(q + o, scale * ((expNeg(load<f32>(p + o) - shift) * invS) * gsS));
    } else {
      focal1(load<f32>(p + o), coef1(o, j, y, hasW, w, hasT, t, lambda, mu, alphaY), shift, logS, invS, gamma);
      store<f32>(q + o, scale * (oneProb * gsS - oneGrad));
    }
  }
  if (hard) {
    // sum g is g_y alone (exact in f32), so p_y gsS - gsS is y's p g - g.
    let py: f32;
    if (ASC_FEATURE_SIMD && vectorY) {
      py = f32x4.extract_lane(f32x4.mul(expNeg4(f32x4.sub(f32x4.splat(zy), f32x4.splat(shift))), f32x4.splat(invS)), 0);
    } else {
      py = expNeg(zy - shift) * invS;
    }
    store<f32>(q + (<usize>y << 2), scale * (py * gsS - gsS));
  }
  return loss;
}

/**
 * Focal loss against class indices: a_c = (1 - eps) w_y [c = y] + (eps / cols) w_c; rows labelled
 * ignoreIndex give 0. Each row's loss and gradient are multiplied by alpha and its sample weight.
 * lossOut, gradOut (may equal logits) and gradScale as crossEntropySparse; returns the loss sum.
 */
export function focalSparse(
  logits: usize, labels: usize, rows: i32, cols: i32,
  weight: usize, ignoreIndex: i32, smoothing: f32, sampleWeight: usize, gamma: f32, alpha: f32,
  lossOut: usize, gradOut: usize, gradScale: f64
): f64 {
  const stride = <usize>cols << 2;
  const hasW = weight != 0;
  const mu = <f32>(<f64>smoothing / <f64>cols);
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = logits + <usize>r * stride;
    const q = gradOut ? gradOut + <usize>r * stride : 0;
    const y = load<i32>(labels + (<usize>r << 2));
    if (y == ignoreIndex) {
      if (lossOut) store<f32>(lossOut + (<usize>r << 2), 0);
      if (q) memory.fill(q, 0, stride);
      continue;
    }
    const wy: f32 = hasW ? load<f32>(weight + (<usize>y << 2)) : 1;
    const alphaY = (<f32>1 - smoothing) * wy;
    const sr: f64 = <f64>alpha * (sampleWeight ? <f64>load<f32>(sampleWeight + (<usize>r << 2)) : 1);
    const scale = <f32>(gradScale * sr);
    const loss = sr * (hasW
      ? rowFocal(p, q, cols, y, true, weight, false, 0, 0, mu, alphaY, gamma, scale)
      : rowFocal(p, q, cols, y, false, 0, false, 0, 0, mu, alphaY, gamma, scale));
    total += loss;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>loss);
  }
  return total;
}

/**
 * Focal loss against soft targets t: a_c = (w_c or 1)((1 - eps) t_c + eps / cols). Otherwise as
 * focalSparse.
 */
export function focalSoft(
  logits: usize, target: usize, rows: i32, cols: i32,
  weight: usize, smoothing: f32, sampleWeight: usize, gamma: f32, alpha: f32,
  lossOut: usize, gradOut: usize, gradScale: f64
): f64 {
  const stride = <usize>cols << 2;
  const hasW = weight != 0;
  const lambda = <f32>1 - smoothing, mu = <f32>(<f64>smoothing / <f64>cols);
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = logits + <usize>r * stride;
    const t = target + <usize>r * stride;
    const q = gradOut ? gradOut + <usize>r * stride : 0;
    const sr: f64 = <f64>alpha * (sampleWeight ? <f64>load<f32>(sampleWeight + (<usize>r << 2)) : 1);
    const scale = <f32>(gradScale * sr);
    const loss = sr * (hasW
      ? rowFocal(p, q, cols, -1, true, weight, true, t, lambda, mu, 0, gamma, scale)
      : rowFocal(p, q, cols, -1, false, 0, true, t, lambda, mu, 0, gamma, scale));
    total += loss;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>loss);
  }
  return total;
}
