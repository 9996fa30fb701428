import { rowStatsPlain, rowShift, rowSum, rowExpAffine } from './row';
import { log4k, logK, log1 } from './log';

/** Floats per f32 accumulation span: short, so a row's f32 rounding error does not grow with C. */
// @ts-ignore: decorator
@inline const SPAN: i32 = 256;

/** Adds the four lanes of an f32x4 accumulator in f64. */
// @ts-ignore: decorator
@inline function lanes(a: v128): f64 {
  return <f64>f32x4.extract_lane(a, 0) + <f64>f32x4.extract_lane(a, 1)
       + <f64>f32x4.extract_lane(a, 2) + <f64>f32x4.extract_lane(a, 3);
}

/** Replaces the row of n logits at p by its softmax, in place (PyTorch's NaN for non-finite rows). */
// @ts-ignore: decorator
@inline function softmaxInPlace(p: usize, n: i32): void {
  rowStatsPlain(p, n);
  rowExpAffine(p, p, n, rowShift, <f32>(1.0 / rowSum), false, false, false, 0, 0, 0, 0, 0);
}

/**
 * sum_c [p_c log(p_c / m_c) + q_c log(q_c / m_c)] with m_c = (p_c + q_c) / 2 over n classes.
 * log of the ratio rather than log p - log m: the ratio is within two roundings of the exact one, so a
 * term keeps its accuracy when p_c and q_c are close (and p = q gives exactly 0). The ratio is formed
 * as 2p / (p + q), never through m: halving a subnormal p (with q = 0) could round m to 0 and the
 * ratio to inf; doubling cannot overflow for p, q <= 1. Each half is 0 where its own probability is
 * 0, by a select (0 * log 0 would be NaN).
 */
// @ts-ignore: decorator
@inline function sumJs(p: usize, q: usize, n: i32): f64 {
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
      let a0 = zero;
      for (; i + 4 <= end; i += 4) {
        const o = <usize>i << 2;
        const x = v128.load(p + o), y = v128.load(q + o);
        const sum = f32x4.add(x, y);
        const lx = log4k(f32x4.div(f32x4.add(x, x), sum),
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        const ly = log4k(f32x4.div(f32x4.add(y, y), sum),
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        const tx = v128.bitselect(zero, f32x4.mul(x, lx), f32x4.eq(x, zero));
        const ty = v128.bitselect(zero, f32x4.mul(y, ly), f32x4.eq(y, zero));
        a0 = f32x4.add(a0, f32x4.add(tx, ty));
      }
      total += lanes(a0);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(p + o), y = load<f32>(q + o);
    const sum = x + y;
    const tx = x == 0 ? <f32>0 : x * log1((x + x) / sum);
    const ty = y == 0 ? <f32>0 : y * log1((y + y) / sum);
    total += <f64>(tx + ty);
  }
  return total;
}

/**
 * Jensen-Shannon divergence JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2, m = (p + q) / 2, of `rows`
 * rows of `cols` classes; symmetric and within [0, ln 2]. p and q are probabilities, or logits when
 * fromLogits (their softmax is then written over both staged inputs first).
 *
 * When lossOut != 0 it receives each row's divergence times unit (f32). Returns the sum of the rows'
 * divergences in nats (f64).
 */
export function jsDivergence(
  p: usize, q: usize, rows: i32, cols: i32, fromLogits: bool, lossOut: usize, unit: f64,
): f64 {
  const stride = <usize>cols << 2;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const a = p + <usize>r * stride, b = q + <usize>r * stride;
    if (fromLogits) {
      softmaxInPlace(a, cols);
      softmaxInPlace(b, cols);
    }
    const js = 0.5 * sumJs(a, b, cols);
    total += js;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>(js * unit));
  }
  return total;
}
