import { rowStatsPlain, rowShift } from './row';
import { expNeg4, expNeg } from './exp';
import { log4k, logK, log1 } from './log';

// Sums run in f32x4 lanes over spans of SPAN floats (at most 32 terms per lane with two accumulators),
// then the lanes are added in f64: a row's f32 rounding error then stays near 32 * 2^-24 at worst
// whatever its length (rowStats' 2048-float blocks are too long for that), and every term here has
// one sign, so nothing cancels.

/** Floats per f32 accumulation span; a multiple of 8. */
// @ts-ignore: decorator
@inline const SPAN: i32 = 256;

/** Adds the four lanes of two f32x4 accumulators in f64. */
// @ts-ignore: decorator
@inline function lanes(a: v128, b: v128): f64 {
  return <f64>f32x4.extract_lane(a, 0) + <f64>f32x4.extract_lane(a, 1)
       + <f64>f32x4.extract_lane(a, 2) + <f64>f32x4.extract_lane(a, 3)
       + <f64>f32x4.extract_lane(b, 0) + <f64>f32x4.extract_lane(b, 1)
       + <f64>f32x4.extract_lane(b, 2) + <f64>f32x4.extract_lane(b, 3);
}

/**
 * sum_c p_c log p_c (<= 0) over n probabilities at p, with 0 log 0 = 0 chosen by a select: log4 gives
 * -inf at 0 and 0 * -inf would be NaN.
 */
// @ts-ignore: decorator
@inline function sumPLogP(p: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    // log4's constants as locals (log.ts).
    const k0 = logK(0), k1 = logK(1), k2 = logK(2), k3 = logK(3), k4 = logK(4), k5 = logK(5), k6 = logK(6);
    const k7 = logK(7), k8 = logK(8), k9 = logK(9), k10 = logK(10), k11 = logK(11), k12 = logK(12);
    const k13 = logK(13), k14 = logK(14), k15 = logK(15), k16 = logK(16), k17 = logK(17), k18 = logK(18);
    const k19 = logK(19), k20 = logK(20), k21 = logK(21);
    for (let off = 0; off < n; off += SPAN) {
      const end = min(off + SPAN, n);
      let a0 = zero, a1 = zero;
      for (; i + 8 <= end; i += 8) {
        const q = p + (<usize>i << 2);
        const x0 = v128.load(q), x1 = v128.load(q, 16);
        const l0 = log4k(x0,
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        const l1 = log4k(x1,
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        a0 = f32x4.add(a0, v128.bitselect(zero, f32x4.mul(x0, l0), f32x4.eq(x0, zero)));
        a1 = f32x4.add(a1, v128.bitselect(zero, f32x4.mul(x1, l1), f32x4.eq(x1, zero)));
      }
      for (; i + 4 <= end; i += 4) {
        const x0 = v128.load(p + (<usize>i << 2));
        const l0 = log4k(x0,
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        a0 = f32x4.add(a0, v128.bitselect(zero, f32x4.mul(x0, l0), f32x4.eq(x0, zero)));
      }
      total += lanes(a0, a1);
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    total += <f64>(x == 0 ? <f32>0 : x * log1(x));
  }
  return total;
}

// The exponential sum of the last sumExpGap call (AS functions return one value).
let gapSum: f64 = 0;

/**
 * T = sum_c e_c (m - z_c) with e_c = exp(z_c - m), over n logits at p with finite maximum m; also sets
 * gapSum = s = sum_c e_c. A class with e_c = 0 (z_c = -inf, or below the exp flush) adds 0 to T by a
 * select, where e_c (m - z_c) would be 0 * inf = NaN for a masked class.
 *
 * s is summed again here, rather than taken from rowStats, with the classes at the maximum (e_c = 1
 * exactly) counted apart: added to a lane holding 1, each small e_c would be rounded to 2^-24
 * absolute, an error in log s that dominates a small entropy.
 */
// @ts-ignore: decorator
@inline function sumExpGap(p: usize, n: i32, m: f32): f64 {
  let total: f64 = 0, rest: f64 = 0;
  let count = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), m4 = f32x4.splat(m);
    let top = i32x4.splat(0);
    for (let off = 0; off < n; off += SPAN) {
      const end = min(off + SPAN, n);
      let a0 = zero, a1 = zero, s0 = zero, s1 = zero;
      for (; i + 8 <= end; i += 8) {
        const q = p + (<usize>i << 2);
        const g0 = f32x4.sub(m4, v128.load(q)), g1 = f32x4.sub(m4, v128.load(q, 16));
        const e0 = expNeg4(f32x4.neg(g0)), e1 = expNeg4(f32x4.neg(g1));
        a0 = f32x4.add(a0, v128.bitselect(zero, f32x4.mul(e0, g0), f32x4.eq(e0, zero)));
        a1 = f32x4.add(a1, v128.bitselect(zero, f32x4.mul(e1, g1), f32x4.eq(e1, zero)));
        const t0 = f32x4.eq(g0, zero), t1 = f32x4.eq(g1, zero);
        s0 = f32x4.add(s0, v128.bitselect(zero, e0, t0));
        s1 = f32x4.add(s1, v128.bitselect(zero, e1, t1));
        // A true comparison lane is -1.
        top = i32x4.sub(i32x4.sub(top, t0), t1);
      }
      for (; i + 4 <= end; i += 4) {
        const g0 = f32x4.sub(m4, v128.load(p + (<usize>i << 2)));
        const e0 = expNeg4(f32x4.neg(g0));
        a0 = f32x4.add(a0, v128.bitselect(zero, f32x4.mul(e0, g0), f32x4.eq(e0, zero)));
        const t0 = f32x4.eq(g0, zero);
        s0 = f32x4.add(s0, v128.bitselect(zero, e0, t0));
        top = i32x4.sub(top, t0);
      }
      total += lanes(a0, a1);
      rest += lanes(s0, s1);
    }
    count = i32x4.extract_lane(top, 0) + i32x4.extract_lane(top, 1)
          + i32x4.extract_lane(top, 2) + i32x4.extract_lane(top, 3);
  }
  for (; i < n; i++) {
    const g = m - load<f32>(p + (<usize>i << 2));
    const e = expNeg(-g);
    total += <f64>(e == 0 ? <f32>0 : e * g);
    if (g == 0) count++;
    else rest += <f64>e;
  }
  gapSum = <f64>count + rest;
  return total;
}

/**
 * Shannon entropy of `rows` rows of `cols` values at src, in nats times `unit`.
 *
 * Probabilities (fromLogits false): H = -sum_c p_c log p_c, with 0 log 0 = 0.
 * Logits: p = softmax(z), and H = lse - sum_c p_c z_c is formed without cancellation as
 *   H = log s + T / s,  s = sum_c exp(z_c - m),  T = sum_c exp(z_c - m) (m - z_c) >= 0,
 * m the row maximum (from rowStats; s and T from one more sweep, see sumExpGap); a row whose
 * maximum is not finite (+inf, NaN, or only -inf) gives NaN, as the softmax of such a row is NaN
 * in PyTorch.
 *
 * When lossOut != 0 it receives each row's entropy times unit (f32). Returns the sum of the rows'
 * entropies in nats (f64).
 */
export function entropy(src: usize, rows: i32, cols: i32, fromLogits: bool, lossOut: usize, unit: f64): f64 {
  const stride = <usize>cols << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const p = src + <usize>r * stride;
    let h: f64;
    if (fromLogits) {
      rowStatsPlain(p, cols);
      const m = rowShift;
      // rowStats reports a non-finite row through its shift; the row's softmax is NaN then.
      if (m - m == 0) {
        const t = sumExpGap(p, cols, m);
        h = Math.log(gapSum) + t / gapSum;
      } else {
        h = NaN;
      }
    } else {
      // 0 - x rather than -x: a pure row (all terms 0) gives +0, not -0.
      h = 0 - sumPLogP(p, cols);
    }
    total += h;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>(h * unit));
  }
  return total;
}
