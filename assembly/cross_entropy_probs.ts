// Cross-entropy from probabilities or log-probabilities (NLL) instead of logits.
//
// With lp_c the log-probability of class c (log of q_c clipped to [eps, 1 - eps] for probabilities,
// the input itself for log-probabilities) and a_c the row's target weights as in the logits kernels,
// loss = -sum_c a_c lp_c. The gradient is with respect to the input as given:
//   log-probabilities: -a_c;
//   probabilities: -a_c / q_c where eps <= q_c <= 1 - eps, and 0 where clipping held q_c constant.
// Each row's loss and gradient are multiplied by its sample weight when sampleWeight != 0.
// Sums over a row run in f32x4 lanes per block of BLOCK values, then in f64, as in row.ts.

import { BLOCK, exactDot } from './row';
import { log4k, logK, log1 } from './log';

/** lp of one value: log(clip(q)) for probabilities, or q itself (the vector loop's lanes do the same). */
// @ts-ignore: decorator
@inline function logProb1(q: f32, probs: bool, lo: f32, hi: f32): f32 {
  return probs ? log1(q < lo ? lo : q > hi ? hi : q) : q;
}

/**
 * sum_c u_c lp_c over a row of n values, u_c = (w_c or 1) * (lambda t_c + mu or 1), in f64 from
 * per-block f32 lanes. The flags are constants at each call site. Where the lanes overflow, which
 * log-probabilities near -FLT_MAX can do (probabilities' clipped logs are bounded), the kernels sum
 * again in f64 term by term: row.ts's exactDot with shift 0 is minus this sum.
 */
// @ts-ignore: decorator
@inline function rowDotLogProb(
  p: usize, n: i32, probs: bool, lo: f32, hi: f32,
  hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32
): f64 {
  let total: f64 = 0;
  for (let off = 0; off < n; off += BLOCK) {
    const len = min(BLOCK, n - off);
    let s: f64 = 0;
    let i = 0;
    // Compiled out of the scalar build, whose tail loop then takes every element.
    if (ASC_FEATURE_SIMD) {
      const lo4 = f32x4.splat(lo), hi4 = f32x4.splat(hi), lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
      // log4's constants as locals (log.ts).
      const k0 = logK(0), k1 = logK(1), k2 = logK(2), k3 = logK(3), k4 = logK(4), k5 = logK(5), k6 = logK(6);
      const k7 = logK(7), k8 = logK(8), k9 = logK(9), k10 = logK(10), k11 = logK(11), k12 = logK(12);
      const k13 = logK(13), k14 = logK(14), k15 = logK(15), k16 = logK(16), k17 = logK(17), k18 = logK(18);
      const k19 = logK(19), k20 = logK(20), k21 = logK(21);
      let acc = f32x4.splat(0);
      for (; i + 4 <= len; i += 4) {
        const o = <usize>(off + i) << 2;
        let c = f32x4.splat(1);
        if (hasT) c = f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4);
        if (hasW) c = f32x4.mul(c, v128.load(w + o));
        // lp: log(clip(q)) for probabilities, or q itself.
        const qv = v128.load(p + o);
        const lp = probs ? log4k(f32x4.pmin(hi4, f32x4.pmax(lo4, qv)),
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21) : qv;
        acc = f32x4.add(acc, f32x4.mul(c, lp));
      }
      s = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1)
        + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
    }
    for (; i < len; i++) {
      const o = <usize>(off + i) << 2;
      let c: f32 = 1;
      if (hasT) c = load<f32>(t + o) * lambda + mu;
      if (hasW) c *= load<f32>(w + o);
      s += <f64>(c * logProb1(load<f32>(p + o), probs, lo, hi));
    }
    total += s;
  }
  return total;
}

/**
 * dst_c = -g * u_c * (1 / q_c inside the clip, 0 outside, for probabilities; 1 for log-probabilities),
 * u_c = (w_c or 1) * (lambda t_c + mu or 1). dst may equal p.
 */
// @ts-ignore: decorator
@inline function rowGrad(
  p: usize, dst: usize, n: i32, probs: bool, lo: f32, hi: f32,
  hasW: bool, hasT: bool, w: usize, t: usize, lambda: f32, mu: f32, g: f32
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const lo4 = f32x4.splat(lo), hi4 = f32x4.splat(hi), lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
    const ng = f32x4.splat(-g);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let c = ng;
      if (hasT) c = f32x4.mul(c, f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4));
      if (hasW) c = f32x4.mul(c, v128.load(w + o));
      if (probs) {
        const q = v128.load(p + o);
        const inside = v128.and(f32x4.ge(q, lo4), f32x4.le(q, hi4));
        c = v128.and(f32x4.div(c, q), inside);
      }
      v128.store(dst + o, c);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let c = -g;
    if (hasT) c *= load<f32>(t + o) * lambda + mu;
    if (hasW) c *= load<f32>(w + o);
    if (probs) {
      const q = load<f32>(p + o);
      c = q >= lo && q <= hi ? c / q : 0;
    }
    store<f32>(dst + o, c);
  }
}

/**
 * Cross-entropy from probabilities (probs = true, clipped to [eps, 1 - eps]) or log-probabilities
 * against class indices: loss = -(1 - s) w_y lp_y - (s / cols) sum_c w_c lp_c, the second term only
 * when s = smoothing > 0; rows labelled ignoreIndex give 0. lossOut, gradOut (may equal input) and
 * gradScale as crossEntropySparse. Returns the sum of row losses in f64.
 */
export function crossEntropyProbsSparse(
  input: usize, labels: usize, rows: i32, cols: i32,
  weight: usize, ignoreIndex: i32, smoothing: f32, sampleWeight: usize, probs: bool, eps: f32,
  lossOut: usize, gradOut: usize, gradScale: f64
): f64 {
  const stride = <usize>cols << 2;
  const hasW = weight != 0;
  const smooth = smoothing != 0;
  const beta = <f64>smoothing / <f64>cols;
  const lo = eps, hi = <f32>1 - eps;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = input + <usize>r * stride;
    const y = load<i32>(labels + (<usize>r << 2));
    if (y == ignoreIndex) {
      if (lossOut) store<f32>(lossOut + (<usize>r << 2), 0);
      if (gradOut) memory.fill(gradOut + <usize>r * stride, 0, stride);
      continue;
    }
    const qy = load<f32>(p + (<usize>y << 2));
    const wy: f64 = hasW ? <f64>load<f32>(weight + (<usize>y << 2)) : 1;
    const alpha = (1 - <f64>smoothing) * wy;
    let loss = -alpha * <f64>logProb1(qy, probs, lo, hi);
    if (smooth) {
      // Each flag combination is its own instantiation, so no flag is tested inside a loop.
      const dot = probs
        ? (hasW ? rowDotLogProb(p, cols, true, lo, hi, true, false, weight, 0, 0, 0)
                : rowDotLogProb(p, cols, true, lo, hi, false, false, 0, 0, 0, 0))
        : (hasW ? rowDotLogProb(p, cols, false, lo, hi, true, false, weight, 0, 0, 0)
                : rowDotLogProb(p, cols, false, lo, hi, false, false, 0, 0, 0, 0));
      // Inf or NaN: overflowed lanes, or a true inf or NaN, which the f64 sum gives again.
      loss -= beta * (probs || isFinite(dot) ? dot : -exactDot(p, cols, 0, hasW, false, weight, 0, 0, 0));
    }
    const sr: f64 = sampleWeight ? <f64>load<f32>(sampleWeight + (<usize>r << 2)) : 1;
    loss *= sr;
    const scale = gradScale * sr;
    total += loss;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>loss);
    if (gradOut) {
      const q = gradOut + <usize>r * stride;
      const g = <f32>(scale * beta);
      if (!smooth) memory.fill(q, 0, stride);
      else if (probs) {
        if (hasW) rowGrad(p, q, cols, true, lo, hi, true, false, weight, 0, 0, 0, g);
        else rowGrad(p, q, cols, true, lo, hi, false, false, 0, 0, 0, 0, g);
      } else {
        if (hasW) rowGrad(p, q, cols, false, lo, hi, true, false, weight, 0, 0, 0, g);
        else rowGrad(p, q, cols, false, lo, hi, false, false, 0, 0, 0, 0, g);
      }
      // The true class's own term, from the value read before the row was overwritten.
      let gy = <f32>(-scale * alpha);
      if (probs) gy = qy >= lo && qy <= hi ? gy / qy : 0;
      const at = q + (<usize>y << 2);
      store<f32>(at, load<f32>(at) + gy);
    }
  }
  return total;
}

/**
 * Cross-entropy from probabilities (probs = true) or log-probabilities against soft targets t:
 * loss = -sum_c a_c lp_c, a_c = (w_c or 1) ((1 - s) t_c + s / cols). lossOut, gradOut (may equal
 * input) and gradScale as crossEntropySoft. Returns the sum of row losses in f64.
 */
export function crossEntropyProbsSoft(
  input: usize, target: usize, rows: i32, cols: i32,
  weight: usize, smoothing: f32, sampleWeight: usize, probs: bool, eps: f32,
  lossOut: usize, gradOut: usize, gradScale: f64
): f64 {
  const stride = <usize>cols << 2;
  const hasW = weight != 0;
  const lambda = <f32>1 - smoothing, mu = <f32>(<f64>smoothing / <f64>cols);
  const lo = eps, hi = <f32>1 - eps;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = input + <usize>r * stride;
    const t = target + <usize>r * stride;
    const sr: f64 = sampleWeight ? <f64>load<f32>(sampleWeight + (<usize>r << 2)) : 1;
    let dot = probs
      ? (hasW ? rowDotLogProb(p, cols, true, lo, hi, true, true, weight, t, lambda, mu)
              : rowDotLogProb(p, cols, true, lo, hi, false, true, 0, t, lambda, mu))
      : (hasW ? rowDotLogProb(p, cols, false, lo, hi, true, true, weight, t, lambda, mu)
              : rowDotLogProb(p, cols, false, lo, hi, false, true, 0, t, lambda, mu));
    if (!probs && !isFinite(dot)) dot = -exactDot(p, cols, 0, hasW, true, weight, t, lambda, mu);
    const loss = -sr * dot;
    total += loss;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>loss);
    if (gradOut) {
      const q = gradOut + <usize>r * stride;
      const g = <f32>(gradScale * sr);
      if (probs) {
        if (hasW) rowGrad(p, q, cols, true, lo, hi, true, true, weight, t, lambda, mu, g);
        else rowGrad(p, q, cols, true, lo, hi, false, true, 0, t, lambda, mu, g);
      } else {
        if (hasW) rowGrad(p, q, cols, false, lo, hi, true, true, weight, t, lambda, mu, g);
        else rowGrad(p, q, cols, false, lo, hi, false, true, 0, t, lambda, mu, g);
      }
    }
  }
  return total;
}
