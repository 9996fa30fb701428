// Binary cross-entropy, element-wise: PyTorch's F.binary_cross_entropy_with_logits (logits form) and
// F.binary_cross_entropy / Keras's binary_crossentropy (probabilities form).
//
// n elements are viewed as [rows, cols]; the optional weight and posWeight vectors have cols entries
// and broadcast over rows. When cols == 1, or no vector is given, the chunk is one flat span with the
// (scalar) weights splatted, so the default shape still runs four lanes at a time; otherwise each row
// is a span whose weights load alongside the elements.
//
// Per-element arithmetic is f32. Loss sums run in f32x4 lanes over FLUSH = 64 elements (16 terms per
// lane, all non-negative, so a relative rounding error below 16 * 2^-24 = 9.5e-7 at worst), then in
// f64: longer f32 runs drift where the terms are all alike (an untrained model's logits near 0,
// clipped probabilities), which round the same way at every addition. Measured on such inputs:
// 1.8e-7 to 2.0e-7 relative (test/binary_cross_entropy.test.ts).
//
// Both forms are written so that no step cancels: every loss is a sum of non-negative terms, and the
// gradient is a difference of two accurately computed non-negative terms (in the logits form, times
// a positive factor).

import { expK, expNeg4, expNeg4k, expNeg } from './exp';
import { lanesF64 } from './vector';
import { log4, log4k, logK, log1, log1pK, log1pUnit4, log1pUnit4k, log1pUnit1 } from './log';

/**
 * log(1 + v) for four lanes of v in (-1, 1], accurate for small |v| where log(1 + v) would lose
 * v's low bits: u = 1 + v, then log(u) * v / (u - 1), which cancels the rounding of u (D. Goldberg,
 * "What every computer scientist should know about floating-point arithmetic", 1991, Theorem 4);
 * v itself when u rounds to 1.
 */
// @ts-ignore: decorator
@inline function log1p4(v: v128): v128 {
  const one = f32x4.splat(1);
  const u = f32x4.add(one, v);
  const d = f32x4.sub(u, one);
  // Lanes with d == 0 divide by zero; their result is discarded by the select.
  const r = f32x4.mul(log4(u), f32x4.div(v, d));
  return v128.bitselect(v, r, f32x4.eq(d, f32x4.splat(0)));
}

/** log1p4 with log4's constants passed in (k0 ... k21 = logK(0) ... logK(21); k5 is 1.0), as log4k. */
// @ts-ignore: decorator
@inline function log1p4k(
  v: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128,
  k9: v128, k10: v128, k11: v128, k12: v128, k13: v128, k14: v128, k15: v128, k16: v128, k17: v128,
  k18: v128, k19: v128, k20: v128, k21: v128
): v128 {
  const u = f32x4.add(k5, v);
  const d = f32x4.sub(u, k5);
  const lu = log4k(u,
    k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
  const r = f32x4.mul(lu, f32x4.div(v, d));
  return v128.bitselect(v, r, f32x4.eq(d, f32x4.splat(0)));
}

/** Scalar twin of log1p4, bit-identical to one lane of it. Not inlined, as log1. */
function log1p1(v: f32): f32 {
  const u = <f32>1 + v;
  const d = u - <f32>1;
  if (d == 0) return v;
  return log1(u) * (v / d);
}

// Partial results of a span (AS functions return one value).
let spanSum: f64 = 0;

/**
 * Elements per sub-block of a logits span: the first sweep writes their e^-|x| to the caller's
 * scratch (SPLIT * 4 = 2 KiB, in L1), the second reads it back. Splitting the element's long chain of
 * operations into two loops with shorter dependency chains lets the core overlap more elements. A
 * multiple of FLUSH.
 */
// @ts-ignore: decorator
@inline export const SPLIT: i32 = 512;

/** Elements per f32x4 loss sum before it is added in f64 (see the file header). A divisor of SPLIT. */
// @ts-ignore: decorator
@inline const FLUSH: i32 = 64;

/** Scratch bytes binaryCrossEntropyLogits needs. */
export function binaryScratchBytes(): i32 {
  return SPLIT << 2;
}

/**
 * The logits loops' bit constants, each stored once and splatted as it is loaded before the loop
 * (bceK), for the reason expNeg4k's are (exp.ts: V8 rebuilds a v128.const at each use in a loop):
 * 1.0f, the sign bit, the magnitude bits.
 */
// @ts-ignore: decorator
@lazy const BCE_K = memory.data<u32>([
  0x3F800000, 0x80000000, 0x7FFFFFFF,
], 4);

/** Constant i of BCE_K: 0 one, 1 sign, 2 magnitude. */
// @ts-ignore: decorator
@inline function bceK(i: i32): v128 {
  return v128.load32_splat(BCE_K + (<usize>i << 2));
}

/**
 * dst[i] = e^-|x[i]| for n values, n a multiple of 4: the first sweep of a logits sub-block, with
 * expNeg4's constants in locals (see exp.ts). Not inlined: one copy serves every variant.
 */
function expNegAbsSweep(x: usize, dst: usize, n: i32): void {
  const k0 = expK(0), k1 = expK(1), k2 = expK(2), k3 = expK(3), k4 = expK(4);
  const k5 = expK(5), k6 = expK(6), k7 = expK(7), k8 = expK(8), k9 = expK(9);
  const sign = bceK(1);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    // -|x| as one OR of the sign bit.
    v128.store(dst + o, expNeg4k(v128.or(v128.load(x + o), sign), k0, k1, k2, k3, k4, k5, k6, k7, k8, k9));
  }
}

/**
 * One logits span of n elements at x / t (targets f32 in [0, 1]): sum_i bce_i times the weight, in
 * spanSum, with lossOut[i] = lossScale w bce_i and gradOut[i] = gradScale w d bce_i / dx when
 * non-zero (gradOut may equal x). Weights load per element from w / pw when hasW / hasPW, else are
 * the scalars wS / pwS; usePW says a positive-class weight applies at all (without it the factor
 * 1 + (pw - 1) t is exactly 1 and is left out); smooth says the target is t lambda + mu (without it
 * t itself, which lambda = 1, mu = 0 would give exactly). scratch holds SPLIT floats. The flags and
 * `grad` (gradOut != 0) are constant at every call site, so each use compiles to its own loops.
 *
 * Per element, with P and Q the two target coefficients ordered by the sign of x (P = 1 - t, Q = pw t
 * for x >= 0, swapped for x < 0), e = e^-|x| and a = 1 / (1 + e) = sigma(|x|), so e a = 1 - a:
 *   bce = P |x| + (1 - t + pw t) log(1 + e)       (no term is negative)
 *   d bce / dx = sign(x) a (P - Q e)               (= (1 - t) sigma(x) - pw t (1 - sigma(x)))
 * so neither sigma(x) nor 1 - sigma(x) is formed by a subtraction from 1. The sign of x picks P and Q
 * (an arithmetic shift and an xor swap) and negates the gradient, so -0 and +0 give the same values.
 * The output scale (times the weight) is the numerator of a's division: two multiplies per lane fewer
 * than P a - Q (e a) scaled afterwards, and a smaller gradient error.
 */
// @ts-ignore: decorator
@inline function logitsSpan(
  x: usize, t: usize, n: i32, w: usize, pw: usize, wS: f32, pwS: f32, hasW: bool, hasPW: bool, usePW: bool,
  smooth: bool, lambda: f32, mu: f32,
  lossOut: usize, lossScale: f32, gradOut: usize, gradScale: f32, grad: bool, scratch: usize
): void {
  let total: f64 = 0;
  let i = 0;
  // Without a weight vector the scalar weight multiplies the sums and the output scales instead.
  const lsW: f32 = hasW ? lossScale : lossScale * wS, gsW: f32 = hasW ? gradScale : gradScale * wS;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const one = bceK(0), lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
    const ls4 = f32x4.splat(lsW), gs4 = f32x4.splat(gsW), pwS4 = f32x4.splat(pwS);
    const sign = bceK(1), magnitude = bceK(2);
    const c0 = log1pK(0), c1 = log1pK(1), c2 = log1pK(2), c3 = log1pK(3), c4 = log1pK(4);
    const vectorEnd = n & ~3;
    // f64 sums of the f32 sums of FLUSH elements: lanes 0, 1 and lanes 2, 3.
    let d01 = f64x2.splat(0), d23 = f64x2.splat(0);
    while (i < vectorEnd) {
      const m = min(vectorEnd - i, SPLIT);
      const base = <usize>i << 2;
      const xb = x + base, tb = t + base;
      expNegAbsSweep(xb, scratch, m);
      for (let j0 = 0; j0 < m; j0 += FLUSH) {
        const jEnd = min(m, j0 + FLUSH);
        let s0 = f32x4.splat(0);
        for (let j = j0; j < jEnd; j += 4) {
          const o = <usize>j << 2;
          const xv = v128.load(xb + o);
          const ts = smooth ? f32x4.add(f32x4.mul(v128.load(tb + o), lam), mu4) : v128.load(tb + o);
          const e = v128.load(scratch + o);
          const omt = f32x4.sub(one, ts);
          const pt = usePW ? f32x4.mul(hasPW ? v128.load(pw + base + o) : pwS4, ts) : ts;
          const swap = v128.and(v128.xor(omt, pt), i32x4.shr_s(xv, 31));
          const P = v128.xor(omt, swap), Q = v128.xor(pt, swap);
          const lin = f32x4.mul(P, v128.and(xv, magnitude));
          const lp = log1pUnit4k(e, c0, c1, c2, c3, c4);
          let l = f32x4.add(lin, usePW ? f32x4.mul(f32x4.add(omt, pt), lp) : lp);
          const wv = hasW ? v128.load(w + base + o) : one;
          if (hasW) l = f32x4.mul(wv, l);
          s0 = f32x4.add(s0, l);
          if (lossOut) v128.store(lossOut + base + o, f32x4.mul(l, ls4));
          if (grad) {
            const a = f32x4.div(hasW ? f32x4.mul(gs4, wv) : gs4, f32x4.add(one, e));
            const g = f32x4.mul(a, f32x4.sub(P, f32x4.mul(Q, e)));
            v128.store(gradOut + base + o, v128.xor(g, v128.and(xv, sign)));
          }
        }
        d01 = f64x2.add(d01, f64x2.promote_low_f32x4(s0));
        d23 = f64x2.add(d23, f64x2.promote_low_f32x4(i32x4.shuffle(s0, s0, 2, 3, 0, 1)));
      }
      i += m;
    }
    total = (f64x2.extract_lane(d01, 0) + f64x2.extract_lane(d01, 1))
          + (f64x2.extract_lane(d23, 0) + f64x2.extract_lane(d23, 1));
  }
  // The same IEEE operations per element, in the same order, as a lane above.
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xv = load<f32>(x + o);
    const ts = smooth ? load<f32>(t + o) * lambda + mu : load<f32>(t + o);
    const e = expNeg(-abs<f32>(xv));
    const omt = <f32>1 - ts;
    const pt = usePW ? (hasPW ? load<f32>(pw + o) : pwS) * ts : ts;
    const negative = reinterpret<i32>(xv) < 0;
    const P = negative ? pt : omt, Q = negative ? omt : pt;
    const lin = P * abs<f32>(xv);
    const lp = log1pUnit1(e);
    let l = lin + (usePW ? (omt + pt) * lp : lp);
    const wv: f32 = hasW ? load<f32>(w + o) : 1;
    if (hasW) l = wv * l;
    total += <f64>l;
    if (lossOut) store<f32>(lossOut + o, l * lsW);
    if (grad) {
      const a = (hasW ? gsW * wv : gsW) / (<f32>1 + e);
      const g = a * (P - Q * e);
      store<f32>(gradOut + o, negative ? -g : g);
    }
  }
  spanSum = hasW ? total : total * <f64>wS;
}

/**
 * One probabilities span, as logitsSpan: p clipped to [lo, hi], l = -(t log p + (1 - t) log(1 - p)),
 * gradient (p - t) / (p (1 - p)) where lo <= p <= hi (clip passes the gradient at its bounds, as
 * torch.clamp and tf.clip_by_value do) and 0 outside.
 */
// @ts-ignore: decorator
@inline function probsSpan(
  x: usize, t: usize, n: i32, w: usize, wS: f32, hasW: bool, lo: f32, hi: f32,
  lambda: f32, mu: f32, lossOut: usize, lossScale: f32, gradOut: usize, gradScale: f32
): void {
  let total: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), zero = f32x4.splat(0);
    const lo4 = f32x4.splat(lo), hi4 = f32x4.splat(hi);
    const lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
    const ls4 = f32x4.splat(lossScale), gs4 = f32x4.splat(gradScale);
    // log4's constants as locals (log.ts).
    const k0 = logK(0), k1 = logK(1), k2 = logK(2), k3 = logK(3), k4 = logK(4), k5 = logK(5), k6 = logK(6);
    const k7 = logK(7), k8 = logK(8), k9 = logK(9), k10 = logK(10), k11 = logK(11), k12 = logK(12);
    const k13 = logK(13), k14 = logK(14), k15 = logK(15), k16 = logK(16), k17 = logK(17), k18 = logK(18);
    const k19 = logK(19), k20 = logK(20), k21 = logK(21);
    while (i + 4 <= n) {
      const end = min(n & ~3, i + FLUSH);
      // One accumulator: each lane's term costs dozens of operations, so the add chain never stalls.
      let s0 = zero;
      for (; i + 4 <= end; i += 4) {
        const o = <usize>i << 2;
        const raw = v128.load(x + o);
        // Inputs are validated to [0, 1], never NaN, so pmin / pmax suffice.
        const p = f32x4.pmin(f32x4.pmax(raw, lo4), hi4);
        const ts = f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4);
        const wv = hasW ? v128.load(w + o) : f32x4.splat(wS);
        const omt = f32x4.sub(one, ts);
        // -log p and -log(1 - p) are both >= 0; log1p(-p) keeps small p accurate.
        const lp = log4k(p,
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        const l1mp = log1p4k(f32x4.neg(p),
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        const l = f32x4.mul(wv, f32x4.sub(f32x4.neg(f32x4.mul(ts, lp)), f32x4.mul(omt, l1mp)));
        s0 = f32x4.add(s0, l);
        if (lossOut) v128.store(lossOut + o, f32x4.mul(l, ls4));
        if (gradOut) {
          const q = f32x4.sub(one, p);
          const g = f32x4.div(f32x4.sub(p, ts), f32x4.mul(p, q));
          const inside = v128.and(f32x4.ge(raw, lo4), f32x4.le(raw, hi4));
          v128.store(gradOut + o, v128.and(f32x4.mul(f32x4.mul(gs4, wv), g), inside));
        }
      }
      total += lanesF64(s0);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const raw = load<f32>(x + o);
    const p = min<f32>(max<f32>(raw, lo), hi);
    const ts = load<f32>(t + o) * lambda + mu;
    const wv = hasW ? load<f32>(w + o) : wS;
    const omt = <f32>1 - ts;
    const l = wv * (-(ts * log1(p)) - omt * log1p1(-p));
    total += <f64>l;
    if (lossOut) store<f32>(lossOut + o, l * lossScale);
    if (gradOut) {
      const g = (p - ts) / (p * (<f32>1 - p));
      store<f32>(gradOut + o, raw >= lo && raw <= hi ? (gradScale * wv) * g : 0);
    }
  }
  spanSum = total;
}

/**
 * Binary cross-entropy with logits, PyTorch's F.binary_cross_entropy_with_logits, over n elements
 * viewed as [n / cols, cols], for x the logit, t = target (1 - smoothing) + smoothing / 2, w =
 * weight[c] and pw = posWeight[c] (1 when the pointer is 0):
 *
 *   l = w [(1 - t) x + (1 + (pw - 1) t)(log(1 + e^-|x|) + max(-x, 0))]
 *     = -w [pw t log sigma(x) + (1 - t) log(1 - sigma(x))]
 *   dl/dx = w [(1 + (pw - 1) t) sigma(x) - pw t]
 *
 * When lossOut != 0 it receives lossScale * l per element; when gradOut != 0, gradScale * dl/dx
 * (gradOut may equal input). target holds f32 values in [0, 1]. scratch is binaryScratchBytes() bytes,
 * 16-byte aligned, not overlapping the other arguments. Returns sum_i l_i in f64.
 */
export function binaryCrossEntropyLogits(
  input: usize, target: usize, n: i32, cols: i32, weight: usize, posWeight: usize, smoothing: f32,
  lossOut: usize, lossScale: f32, gradOut: usize, gradScale: f32, scratch: usize
): f64 {
  const lambda = <f32>1 - smoothing, mu = smoothing * <f32>0.5;
  if (cols == 1 || (weight == 0 && posWeight == 0)) {
    // One span: the weights are one scalar each (cols == 1) or absent.
    const wS: f32 = weight ? load<f32>(weight) : 1;
    if (posWeight || smoothing != 0) {
      // One variant for both: with pw = 1, pw t = t and (1 - t) + t = 1 exactly in f32 (1 - t is
      // exact for t >= 1/2; below, its rounding is at most 2^-25, and the sum rounds back to 1, a tie
      // to even included), so the bits are those of a variant without pw. Sharing it leaves room in the
      // size budget for the plain variant, which skips the smoothing's multiply-add; smoothing alone
      // pays for the pw product and factor.
      const pwS: f32 = posWeight ? load<f32>(posWeight) : 1;
      if (gradOut) logitsSpan(input, target, n, 0, 0, wS, pwS, false, false, true, true, lambda, mu, lossOut, lossScale, gradOut, gradScale, true, scratch);
      else logitsSpan(input, target, n, 0, 0, wS, pwS, false, false, true, true, lambda, mu, lossOut, lossScale, 0, 0, false, scratch);
    } else {
      if (gradOut) logitsSpan(input, target, n, 0, 0, wS, 1, false, false, false, false, 1, 0, lossOut, lossScale, gradOut, gradScale, true, scratch);
      else logitsSpan(input, target, n, 0, 0, wS, 1, false, false, false, false, 1, 0, lossOut, lossScale, 0, 0, false, scratch);
    }
    return spanSum;
  }
  const rows = n / cols;
  const stride = <usize>cols << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * stride;
    const lo = lossOut ? lossOut + o : 0, go = gradOut ? gradOut + o : 0;
    // Rows with vectors are rarer than the flat case: the gradient flag stays a runtime value here.
    if (weight && posWeight) {
      logitsSpan(input + o, target + o, cols, weight, posWeight, 1, 1, true, true, true, true, lambda, mu, lo, lossScale, go, gradScale, go != 0, scratch);
    } else if (weight) {
      logitsSpan(input + o, target + o, cols, weight, 0, 1, 1, true, false, false, true, lambda, mu, lo, lossScale, go, gradScale, go != 0, scratch);
    } else {
      logitsSpan(input + o, target + o, cols, 0, posWeight, 1, 1, false, true, true, true, lambda, mu, lo, lossScale, go, gradScale, go != 0, scratch);
    }
    total += spanSum;
  }
  return total;
}

/**
 * Binary cross-entropy of probabilities, Keras's binary_crossentropy (PyTorch's F.binary_cross_entropy
 * with Keras's clip instead of its log clamp at -100), over n elements viewed as [n / cols, cols]:
 *
 *   p = clip(input, lo, hi),  l = -w [t log p + (1 - t) log(1 - p)]
 *   dl/dinput = w (p - t) / (p (1 - p)) for lo <= input <= hi, 0 outside (the clip's gradient)
 *
 * with t and w as binaryCrossEntropyLogits. Outputs and result as binaryCrossEntropyLogits.
 */
export function binaryCrossEntropyProbs(
  input: usize, target: usize, n: i32, cols: i32, weight: usize, lo: f32, hi: f32, smoothing: f32,
  lossOut: usize, lossScale: f32, gradOut: usize, gradScale: f32
): f64 {
  const lambda = <f32>1 - smoothing, mu = smoothing * <f32>0.5;
  if (cols == 1 || weight == 0) {
    const wS: f32 = weight ? load<f32>(weight) : 1;
    probsSpan(input, target, n, 0, wS, false, lo, hi, lambda, mu, lossOut, lossScale, gradOut, gradScale);
    return spanSum;
  }
  const rows = n / cols;
  const stride = <usize>cols << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * stride;
    probsSpan(
      input + o, target + o, cols, weight, 1, true, lo, hi, lambda, mu,
      lossOut ? lossOut + o : 0, lossScale, gradOut ? gradOut + o : 0, gradScale,
    );
    total += spanSum;
  }
  return total;
}

// Binary focal loss (Lin et al. 2017; torchvision.ops.sigmoid_focal_loss, Keras BinaryFocalCrossentropy
// with apply_class_balancing), for p = sigma(x) or the clipped probability, t the smoothed target:
//
//   q = 1 - p_t = p (1 - t) + (1 - p) t,  alpha_t = alpha t + (1 - alpha)(1 - t)
//   l = w alpha_t q^gamma bce,  bce = -[t log p + (1 - t) log(1 - p)]
//
// With dq/dp = 1 - 2t and d bce/dp = (p - t) / (p (1 - p)):
//   dl/dp = w alpha_t q^gamma [(p - t) / (p (1 - p)) + gamma (1 - 2t) bce / q]
//   dl/dx = dl/dp * p (1 - p) = w alpha_t q^gamma [(p - t) + gamma (1 - 2t) bce p (1 - p) / q]
// Writing q^(gamma - 1) as q^gamma / q keeps the second term finite for gamma < 1. q = 0 needs a hard
// target met exactly (t = 1, 1 - p = 0 or t = 0, p = 0); there p (1 - p) / q has the limit p or 1 - p,
// but the term is multiplied by q^gamma = 0 (gamma > 0) or gamma = 0, so it is set to 0. q is formed
// as a sum of non-negative products, never as 1 - p_t, so q of a confident correct prediction keeps
// its digits. alpha is validated to [0, 1], so every loss is non-negative (block sums as above).
//
// The lane functions below serve the SIMD loop; each has a scalar twin performing the same IEEE
// operations in the same order, which serves the tail (and every element of the scalar build), so a
// tail element equals what a lane would give without FMA (NaN payloads aside).

// Per-lane gradient (before gradScale) of the last focal lane call (AS functions return one value).
// @lazy: a v128 global must not be compiled into the scalar build, where only focalGrad1 is used.
// @ts-ignore: decorator
@lazy let focalGrad: v128 = v128(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
// The same for the scalar twins.
let focalGrad1: f32 = 0;

/**
 * q^gamma = exp(gamma log q) per lane, with 0^gamma = 1 for gamma = 0 and 0 above (log 0 = -inf would
 * give 0 * -inf = NaN). gamma log q is clamped to <= 0 for expNeg4: q is at most 1 + 2^-23 when the
 * rounding of p and 1 - p adds up above 1.
 */
// @ts-ignore: decorator
@inline function powGamma4(q: v128, qz: v128, gamma: f32): v128 {
  const zero = f32x4.splat(0);
  const atZero = f32x4.splat(gamma == 0 ? <f32>1 : <f32>0);
  return v128.bitselect(atZero, expNeg4(f32x4.min(f32x4.mul(f32x4.splat(gamma), log4(q)), zero)), qz);
}

/** Scalar twin of powGamma4 (qz: q == 0). */
// @ts-ignore: decorator
@inline function powGamma1(q: f32, qz: bool, gamma: f32): f32 {
  if (qz) return gamma == 0 ? <f32>1 : <f32>0;
  return expNeg(min<f32>(gamma * log1(q), 0));
}

/** Focal loss of four logits (w alpha_t q^gamma bce); leaves the gradient w.r.t. x in focalGrad. */
// @ts-ignore: decorator
@inline function focalLogits4(xv: v128, ts: v128, wv: v128, gamma: f32, alpha: f32): v128 {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  const ax = f32x4.abs(xv);
  const pos = f32x4.ge(xv, zero);
  const omt = f32x4.sub(one, ts);
  const e = expNeg4(f32x4.neg(ax));
  // The plain kernel's bce with pw = 1 (the same value: its coefficient select by the sign bit picks the
  // same one, also at -0), so gamma = 0 gives alpha_t times it.
  const bce = f32x4.add(f32x4.mul(v128.bitselect(omt, ts, pos), ax), log1pUnit4(e));
  const a = f32x4.div(one, f32x4.add(one, e));
  const b = f32x4.mul(e, a);
  const sig = v128.bitselect(a, b, pos);
  const sigc = v128.bitselect(b, a, pos);
  const q = f32x4.add(f32x4.mul(sig, omt), f32x4.mul(sigc, ts));
  const qz = f32x4.eq(q, zero);
  const at = f32x4.add(f32x4.mul(f32x4.splat(alpha), ts), f32x4.mul(f32x4.splat(<f32>1 - alpha), omt));
  const k = f32x4.mul(wv, f32x4.mul(at, powGamma4(q, qz, gamma)));
  // sigma - t as (1 - t) sigma - t (1 - sigma), no cancellation (the plain kernel's a (P - Q e) is the
  // same difference, rounded differently: a few ulps apart).
  const d = f32x4.sub(f32x4.mul(omt, sig), f32x4.mul(ts, sigc));
  // Lanes with q == 0 divide by zero; the andnot discards them.
  const r = v128.andnot(f32x4.div(f32x4.mul(sig, sigc), q), qz);
  // bce r is |x| e^-|x| at large |x|: where r has underflowed to 0 it is 0, also against an infinite bce.
  const br = v128.andnot(f32x4.mul(bce, r), f32x4.eq(r, zero));
  const second = f32x4.mul(f32x4.mul(f32x4.splat(gamma), f32x4.sub(omt, ts)), br);
  focalGrad = f32x4.mul(k, f32x4.add(d, second));
  return f32x4.mul(k, bce);
}

/** Scalar twin of focalLogits4; leaves the gradient in focalGrad1. */
// @ts-ignore: decorator
@inline function focalLogits1(xv: f32, ts: f32, wv: f32, gamma: f32, alpha: f32): f32 {
  const ax = abs<f32>(xv);
  const pos = xv >= 0;
  const omt = <f32>1 - ts;
  const e = expNeg(-ax);
  const bce = (pos ? omt : ts) * ax + log1pUnit1(e);
  const a = <f32>1 / (<f32>1 + e);
  const b = e * a;
  const sig = pos ? a : b;
  const sigc = pos ? b : a;
  const q = sig * omt + sigc * ts;
  const qz = q == 0;
  const at = alpha * ts + (<f32>1 - alpha) * omt;
  const k = wv * (at * powGamma1(q, qz, gamma));
  const d = omt * sig - ts * sigc;
  const r = qz ? <f32>0 : (sig * sigc) / q;
  const second = (gamma * (omt - ts)) * (r == 0 ? <f32>0 : bce * r);
  focalGrad1 = k * (d + second);
  return k * bce;
}

/**
 * Focal loss of four probabilities raw, clipped to [lo, hi]; leaves the gradient w.r.t. raw in
 * focalGrad (0 outside the clip, as probsSpan).
 */
// @ts-ignore: decorator
@inline function focalProbs4(raw: v128, ts: v128, wv: v128, lo: f32, hi: f32, gamma: f32, alpha: f32): v128 {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  const lo4 = f32x4.splat(lo), hi4 = f32x4.splat(hi);
  // Inputs are validated to [0, 1], never NaN, so pmin / pmax suffice.
  const p = f32x4.pmin(f32x4.pmax(raw, lo4), hi4);
  const omt = f32x4.sub(one, ts);
  const omp = f32x4.sub(one, p);
  const bce = f32x4.sub(f32x4.neg(f32x4.mul(ts, log4(p))), f32x4.mul(omt, log1p4(f32x4.neg(p))));
  const q = f32x4.add(f32x4.mul(p, omt), f32x4.mul(omp, ts));
  // The clip keeps p in [lo, hi] with lo > 0, so q > 0; the mask only guards the division.
  const qz = f32x4.eq(q, zero);
  const at = f32x4.add(f32x4.mul(f32x4.splat(alpha), ts), f32x4.mul(f32x4.splat(<f32>1 - alpha), omt));
  const k = f32x4.mul(wv, f32x4.mul(at, powGamma4(q, qz, gamma)));
  const d = f32x4.div(f32x4.sub(p, ts), f32x4.mul(p, omp));
  const r = v128.andnot(f32x4.div(one, q), qz);
  const second = f32x4.mul(f32x4.mul(f32x4.splat(gamma), f32x4.sub(omt, ts)), f32x4.mul(bce, r));
  const inside = v128.and(f32x4.ge(raw, lo4), f32x4.le(raw, hi4));
  focalGrad = v128.and(f32x4.mul(k, f32x4.add(d, second)), inside);
  return f32x4.mul(k, bce);
}

/** Scalar twin of focalProbs4; leaves the gradient in focalGrad1. */
// @ts-ignore: decorator
@inline function focalProbs1(raw: f32, ts: f32, wv: f32, lo: f32, hi: f32, gamma: f32, alpha: f32): f32 {
  // pmax then pmin, spelled out (pmax(a, b) = a < b ? b : a; pmin(a, b) = b < a ? b : a).
  let p = raw < lo ? lo : raw;
  p = hi < p ? hi : p;
  const omt = <f32>1 - ts;
  const omp = <f32>1 - p;
  const bce = -(ts * log1(p)) - omt * log1p1(-p);
  const q = p * omt + omp * ts;
  const qz = q == 0;
  const at = alpha * ts + (<f32>1 - alpha) * omt;
  const k = wv * (at * powGamma1(q, qz, gamma));
  const d = (p - ts) / (p * omp);
  const r = qz ? <f32>0 : <f32>1 / q;
  const second = (gamma * (omt - ts)) * (bce * r);
  focalGrad1 = raw >= lo && raw <= hi ? k * (d + second) : 0;
  return k * bce;
}

/**
 * One focal span of n elements, as logitsSpan / probsSpan (probs selects the form; it and hasW are
 * constant at every call site). Leaves sum_i l_i in spanSum.
 */
// @ts-ignore: decorator
@inline function focalSpan(
  x: usize, t: usize, n: i32, w: usize, wS: f32, hasW: bool, probs: bool, lo: f32, hi: f32,
  lambda: f32, mu: f32, gamma: f32, alpha: f32, lossOut: usize, lossScale: f32, gradOut: usize, gradScale: f32
): void {
  let total: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const lam = f32x4.splat(lambda), mu4 = f32x4.splat(mu);
    const ls4 = f32x4.splat(lossScale), gs4 = f32x4.splat(gradScale);
    while (i + 4 <= n) {
      const end = min(n & ~3, i + FLUSH);
      let s0 = f32x4.splat(0);
      for (; i + 4 <= end; i += 4) {
        const o = <usize>i << 2;
        const xv = v128.load(x + o);
        const ts = f32x4.add(f32x4.mul(v128.load(t + o), lam), mu4);
        const wv = hasW ? v128.load(w + o) : f32x4.splat(wS);
        const l = probs ? focalProbs4(xv, ts, wv, lo, hi, gamma, alpha) : focalLogits4(xv, ts, wv, gamma, alpha);
        s0 = f32x4.add(s0, l);
        if (lossOut) v128.store(lossOut + o, f32x4.mul(l, ls4));
        if (gradOut) v128.store(gradOut + o, f32x4.mul(gs4, focalGrad));
      }
      total += lanesF64(s0);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xv = load<f32>(x + o);
    const ts = load<f32>(t + o) * lambda + mu;
    const wv = hasW ? load<f32>(w + o) : wS;
    const l = probs ? focalProbs1(xv, ts, wv, lo, hi, gamma, alpha) : focalLogits1(xv, ts, wv, gamma, alpha);
    total += <f64>l;
    if (lossOut) store<f32>(lossOut + o, l * lossScale);
    if (gradOut) store<f32>(gradOut + o, gradScale * focalGrad1);
  }
  spanSum = total;
}

/**
 * Binary focal loss over n elements viewed as [n / cols, cols] (see the formulas above), for logits
 * (probs = 0) or probabilities clipped to [lo, hi] (probs != 0; the gradient is 0 outside the clip).
 * t = target (1 - smoothing) + smoothing / 2, w = weight[c] (1 when the pointer is 0); gamma >= 0,
 * alpha in [0, 1]. Outputs and result as binaryCrossEntropyLogits.
 */
export function binaryFocal(
  input: usize, target: usize, n: i32, cols: i32, weight: usize, probs: i32, lo: f32, hi: f32,
  smoothing: f32, gamma: f32, alpha: f32, lossOut: usize, lossScale: f32, gradOut: usize, gradScale: f32
): f64 {
  const lambda = <f32>1 - smoothing, mu = smoothing * <f32>0.5;
  if (cols == 1 || weight == 0) {
    const wS: f32 = weight ? load<f32>(weight) : 1;
    if (probs) {
      focalSpan(input, target, n, 0, wS, false, true, lo, hi, lambda, mu, gamma, alpha, lossOut, lossScale, gradOut, gradScale);
    } else {
      focalSpan(input, target, n, 0, wS, false, false, lo, hi, lambda, mu, gamma, alpha, lossOut, lossScale, gradOut, gradScale);
    }
    return spanSum;
  }
  const rows = n / cols;
  const stride = <usize>cols << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * stride;
    const lo_ = lossOut ? lossOut + o : 0, go = gradOut ? gradOut + o : 0;
    if (probs) {
      focalSpan(input + o, target + o, cols, weight, 1, true, true, lo, hi, lambda, mu, gamma, alpha, lo_, lossScale, go, gradScale);
    } else {
      focalSpan(input + o, target + o, cols, weight, 1, true, false, lo, hi, lambda, mu, gamma, alpha, lo_, lossScale, go, gradScale);
    }
    total += spanSum;
  }
  return total;
}
