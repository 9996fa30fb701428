import { rowStatsPlain, rowShift, rowSum, rowExpAffine } from './row';
import { log4k, logK, log1 } from './log';
import { lanesF64, madd4 } from './vector';

/** Floats per f32 accumulation span (16 terms per lane, all >= 0): the row's rounding does not grow with C. */
// @ts-ignore: decorator
@inline const SPAN: i32 = 64;

/** Replaces the row of n logits at p by its softmax, in place (PyTorch's NaN for non-finite rows). */
// @ts-ignore: decorator
@inline function softmaxInPlace(p: usize, n: i32): void {
  rowStatsPlain(p, n);
  rowExpAffine(p, p, n, rowShift, <f32>(1.0 / rowSum), false, false, false, 0, 0, 0, 0, 0);
}

// Close probabilities. With s = p + q and d = (p - q) / s, a class's two terms are
//   p log(2p / s) + q log(2q / s) = (s / 2) phi(d),  phi(d) = (1 + d) log(1 + d) + (1 - d) log(1 - d),
// and phi(d) = d^2 sum_k>=0 d^2k / ((k + 1)(2k + 1)) (the Taylor series of phi, even and >= 0). As two
// logarithms the terms cancel where p and q are close (each is ~ p d, their sum ~ p d^2), and each
// loses an ulp of its ratio's logarithm. For |d| <= 1/4 the series in w = d^2 is taken instead, to w^6
// (the first term left out, w^7 / 120 < 3e-11 relative): six multiply-adds, no cancellation, p - q
// exact where p and q are within a factor 2 of each other (Sterbenz). Beyond, the logarithms cancel by
// at most 4.4x (at |d| = 1/4). Measured (test/kl_divergence.test.ts): 1.6e-7 worst row relative error
// on close distributions (1.8e-6 for 7 classes with noise 0.3, where |d| > 1/4 is common). A wider
// bound (1/2, the series to w^10) is no more accurate: the roundings of d and of the ratios bound it.

/**
 * sumJs's constants, each stored once (splatted as loaded before the loop, as log.ts's): the series'
 * coefficients 1/91 ... 1/6, 1, then 1/4 (the series' bound on |d|) and 1/2.
 */
// @ts-ignore: decorator
@lazy const JS_K = memory.data<f32>([
  <f32>(1.0 / 91), <f32>(1.0 / 66), <f32>(1.0 / 45), <f32>(1.0 / 28), <f32>(1.0 / 15), <f32>(1.0 / 6),
  1, 0.25, 0.5,
], 4);

/** Constant i of JS_K, splatted: 0 ... 6 the series' coefficients, 7 the bound 1/4, 8 one half. */
// @ts-ignore: decorator
@inline function jsK(i: i32): v128 {
  return v128.load32_splat(JS_K + (<usize>i << 2));
}

/** phi(d) / d^2 for w = d^2 <= 1/16, the series above (scalar: the same operations as a lane). */
// @ts-ignore: decorator
@inline function phiOverW1(w: f32): f32 {
  let r = <f32>(1.0 / 91) * w + <f32>(1.0 / 66);
  r = r * w + <f32>(1.0 / 45);
  r = r * w + <f32>(1.0 / 28);
  r = r * w + <f32>(1.0 / 15);
  r = r * w + <f32>(1.0 / 6);
  return r * w + <f32>1;
}

/**
 * sum_c [p_c log(p_c / m_c) + q_c log(q_c / m_c)] with m_c = (p_c + q_c) / 2 over n classes: the series
 * above where |d| <= 1/4, with d = (p - q) (1 / s); else the logarithms of the ratios 2p / s and 2q / s,
 * each one division (p (2 / s) would round twice, and 2 / s overflows for s < 2^-127), never formed
 * through m: halving a subnormal p (with q = 0) could round m to 0 and the ratio to inf. Each half is
 * 0 where its own probability is 0, by a select (0 * log 0 would be NaN); p = q = 0 gives d = NaN,
 * which takes the logarithms, both halves 0.
 */
// @ts-ignore: decorator
@inline function sumJs(p: usize, q: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const c0 = jsK(0), c1 = jsK(1), c2 = jsK(2), c3 = jsK(3), c4 = jsK(4), c5 = jsK(5), c6 = jsK(6);
    const quarter = jsK(7), half = jsK(8);
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
        const inv = f32x4.div(c6, sum);
        const d = f32x4.mul(f32x4.sub(x, y), inv);
        const w = f32x4.mul(d, d);
        let r = madd4(c0, w, c1);
        r = madd4(r, w, c2);
        r = madd4(r, w, c3);
        r = madd4(r, w, c4);
        r = madd4(r, w, c5);
        r = madd4(r, w, c6);
        let t = f32x4.mul(sum, f32x4.mul(f32x4.mul(w, r), half));
        const near = f32x4.le(f32x4.abs(d), quarter);
        // Most lanes of close distributions are near: the logarithms only when one is not.
        if (!i32x4.all_true(near)) {
          const rx = f32x4.div(f32x4.add(x, x), sum), ry = f32x4.div(f32x4.add(y, y), sum);
          const lx = log4k(rx,
            k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
          const ly = log4k(ry,
            k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
          const tx = v128.bitselect(zero, f32x4.mul(x, lx), f32x4.eq(x, zero));
          const ty = v128.bitselect(zero, f32x4.mul(y, ly), f32x4.eq(y, zero));
          t = v128.bitselect(t, f32x4.add(tx, ty), near);
        }
        a0 = f32x4.add(a0, t);
      }
      total += lanesF64(a0);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(p + o), y = load<f32>(q + o);
    const sum = x + y;
    const inv = <f32>1 / sum;
    const d = (x - y) * inv;
    let t: f32;
    if (abs<f32>(d) <= <f32>0.25) {
      const w = d * d;
      t = sum * ((w * phiOverW1(w)) * <f32>0.5);
    } else {
      const tx = x == 0 ? <f32>0 : x * log1((x + x) / sum);
      const ty = y == 0 ? <f32>0 : y * log1((y + y) / sum);
      t = tx + ty;
    }
    total += <f64>t;
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
