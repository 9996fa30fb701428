import { rowStatsPlain, rowShift, rowSum, rowExpAffine } from './row';
import { expNeg4, expNeg } from './exp';
import { log4k, logK, log1, MIN_NORMAL } from './log';
import { lanesF64, madd4 } from './vector';

// Forms of the second argument q, as the TypeScript side numbers them.
// @ts-ignore: decorator
@inline const Q_PROBS = 0;
// @ts-ignore: decorator
@inline const Q_LOGITS = 1;
// @ts-ignore: decorator
@inline const Q_LOG_PROBS = 2;

// The ratio p / q against a subnormal q: q is scaled by 2^64 and log 2^64 added back.
// @ts-ignore: decorator
@inline const TWO64: f32 = 18446744073709551616.0;
// @ts-ignore: decorator
@inline const LN2_64: f32 = 44.3614195558365; // 64 ln 2, rounded to float32

/**
 * Floats per f32 accumulation span (16 terms per lane): short, so a row's f32 rounding error does not
 * grow with C. Where terms have both signs (log-probabilities, logits, log targets) the sum may cancel:
 * on close distributions of equal terms 64 floats lose 4.8e-7 relative, longer spans more.
 */
// @ts-ignore: decorator
@inline const SPAN: i32 = 64;

// Close probabilities (q = softmax(z + noise), as a student beside its teacher). The terms
// p log(p / q) have both signs and cancel: a row keeps about 3e-8 absolute, so above 1e-6 relative
// once KL < ~0.03. Each term is taken instead as
//   p log(p / q) = G + (p - q),  G = p log(p / q) - (p - q) >= 0  (the Bregman divergence of x log x),
// and the row as sum G in f32 lanes (no cancellation) plus sum (p - q) in f64: p - q is exact in f32
// wherever q/2 <= p <= 2q (Sterbenz), and an f64 sum of such differences keeps them all.
// With s = p + q and d = (p - q) / s, p / q = (1 + d) / (1 - d), log(p / q) = 2 atanh d = 2 d A(w),
// w = d^2, A(w) = sum_k>=0 w^k / (2k + 1); p = s (1 + d) / 2 gives G = s d ((1 + d) A - 1), and with
// B = (A - 1) / w = sum_k>=0 w^k / (2k + 3):
//   G = s w (1 + (w + d) B(w)).
// For |d| <= 1/4 (p / q in [0.6, 5/3]) B is taken to w^4: the rest, under w^5 / 12 < 8e-8, is
// 2.7e-8 of 1 + (w + d) B. Beyond, the term is p log(p / q) itself, from the logarithm of the ratio:
// |p log(p / q)| <= 4.6 G there (at |d| = 1/4), so these terms cancel by no more than that. (Taken as
// G + (p - q) as well, a term far below q, such as p = 1e-45 against q = 1e-3, rounds away in G.) A
// row's relative error is then bounded by its terms' unless sum (p - q) < 0 cancels it, which
// unnormalised inputs alone can give.
// Measured (test/kl_divergence.test.ts, q = softmax(z + noise), C from 7 to 32000): worst row 4.8e-7
// relative (7 classes, noise 0.3, where |d| > 1/4 is common), 2.1e-7 for the others.

/**
 * klProbsSweep's constants, each stored once (splatted as loaded before the loop): B's coefficients
 * 1/11 ... 1/3, then 1 and the series' bound 1/4.
 */
// @ts-ignore: decorator
@lazy const KL_K = memory.data<f32>([
  <f32>(1.0 / 11), <f32>(1.0 / 9), <f32>(1.0 / 7), <f32>(1.0 / 5), <f32>(1.0 / 3), 1, 0.25,
], 4);

/** Constant i of KL_K, splatted: 0 ... 4 B's coefficients, 5 one, 6 the bound 1/4. */
// @ts-ignore: decorator
@inline function klK(i: i32): v128 {
  return v128.load32_splat(KL_K + (<usize>i << 2));
}

/** 1 + (w + d) B(w) for w = d^2 <= 1/16, the series above (scalar: the same operations as a lane). */
// @ts-ignore: decorator
@inline function seriesFactor1(d: f32, w: f32): f32 {
  let b = <f32>(1.0 / 11) * w + <f32>(1.0 / 9);
  b = b * w + <f32>(1.0 / 7);
  b = b * w + <f32>(1.0 / 5);
  b = b * w + <f32>(1.0 / 3);
  return (w + d) * b + <f32>1;
}

// Partial result of klSweep besides its return value (AS functions return one value).
let sweepMass: f64 = 0;

/**
 * The gradient -g p / q of KL with respect to probabilities q, four lanes: 0 where p = 0 (`none`) or
 * q < eps (the clip max(q, eps) is flat there), -inf at q = 0 (where -0 / 0 would be NaN).
 */
// @ts-ignore: decorator
@inline function probsGrad4(p: v128, qv: v128, none: v128, ng4: v128, eps4: v128, zero: v128): v128 {
  let d = f32x4.mul(ng4, p);
  d = v128.bitselect(f32x4.splat(-Infinity), f32x4.div(d, qv), f32x4.eq(qv, zero));
  return v128.bitselect(zero, d, v128.or(none, f32x4.lt(qv, eps4)));
}

/** probsGrad4 for one value (the same operations as a lane). */
// @ts-ignore: decorator
@inline function probsGrad1(p: f32, qv: f32, eps: f32, g: f32): f32 {
  return p == 0 || qv < eps ? <f32>0 : qv == 0 ? -Infinity : (-g * p) / qv;
}

/**
 * One pass over a row of n classes, p given as probabilities and q as probabilities clipped below at
 * eps: returns sum_c p_c log(p_c / max(q_c, eps)), each term 0 where p_c = 0, as G + (p - q) where p
 * and q are close (the file's note on close probabilities). Where grad != 0 it receives probsGrad4's
 * gradient; grad may equal q, as each q_c is read before its gradient is stored. G and the other terms
 * accumulate in f32 lanes over spans of SPAN floats, then in f64; p - q in f64.
 */
// @ts-ignore: decorator
@inline function klProbsSweep(t: usize, q: usize, n: i32, eps: f32, grad: usize, g: f32): f64 {
  let total: f64 = 0, diffs: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), eps4 = f32x4.splat(eps), ng4 = f32x4.splat(-g);
    const scale4 = f32x4.splat(TWO64), shift4 = f32x4.splat(LN2_64);
    const b0 = klK(0), b1 = klK(1), b2 = klK(2), b3 = klK(3), b4 = klK(4), one = klK(5), quarter = klK(6);
    // log4's constants as locals (log.ts).
    const k0 = logK(0), k1 = logK(1), k2 = logK(2), k3 = logK(3), k4 = logK(4), k5 = logK(5), k6 = logK(6);
    const k7 = logK(7), k8 = logK(8), k9 = logK(9), k10 = logK(10), k11 = logK(11), k12 = logK(12);
    const k13 = logK(13), k14 = logK(14), k15 = logK(15), k16 = logK(16), k17 = logK(17), k18 = logK(18);
    const k19 = logK(19), k20 = logK(20), k21 = logK(21);
    let dLo = f64x2.splat(0), dHi = dLo;
    for (let off = 0; off < n; off += SPAN) {
      const end = min(off + SPAN, n);
      let a0 = zero;
      for (; i + 4 <= end; i += 4) {
        const o = <usize>i << 2;
        const p = v128.load(t + o), qv = v128.load(q + o);
        const qc = f32x4.max(qv, eps4);
        const diff = f32x4.sub(p, qc);
        const s = f32x4.add(p, qc);
        const d = f32x4.div(diff, s);
        const w = f32x4.mul(d, d);
        let b = madd4(b0, w, b1);
        b = madd4(b, w, b2);
        b = madd4(b, w, b3);
        b = madd4(b, w, b4);
        let gv = f32x4.mul(f32x4.mul(s, w), madd4(f32x4.add(w, d), b, one));
        // Most lanes of close distributions are near: the logarithm only when one is not. p = 0 gives
        // d = -1 and p = q = 0 gives NaN, both far. (Taking the series only where a lane is near was
        // slower on independent distributions, where that branch goes either way.)
        const near = f32x4.le(f32x4.abs(d), quarter), none = f32x4.eq(p, zero);
        if (!i32x4.all_true(near)) {
          // log(p / q) as one logarithm of the ratio; against a subnormal q, where p / q may overflow,
          // the ratio is p / (q 2^64) and 64 ln 2 is added.
          const tiny = f32x4.lt(qc, k0);
          const qs = v128.bitselect(f32x4.mul(qc, scale4), qc, tiny);
          const l = log4k(f32x4.div(p, qs),
            k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
          const term = f32x4.mul(p, f32x4.add(l, v128.and(tiny, shift4)));
          gv = v128.bitselect(gv, v128.bitselect(zero, term, none), near);
        }
        a0 = f32x4.add(a0, gv);
        const nearDiff = v128.and(diff, near);
        dLo = f64x2.add(dLo, f64x2.promote_low_f32x4(nearDiff));
        dHi = f64x2.add(dHi, f64x2.promote_low_f32x4(i32x4.shuffle(nearDiff, nearDiff, 2, 3, 2, 3)));
        if (grad) v128.store(grad + o, probsGrad4(p, qv, none, ng4, eps4, zero));
      }
      total += lanesF64(a0);
    }
    diffs = (f64x2.extract_lane(dLo, 0) + f64x2.extract_lane(dHi, 0))
          + (f64x2.extract_lane(dLo, 1) + f64x2.extract_lane(dHi, 1));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(t + o), qv = load<f32>(q + o);
    const qc = max(qv, eps);
    const diff = p - qc;
    const s = p + qc;
    const d = diff / s;
    if (abs<f32>(d) <= <f32>0.25) {
      const w = d * d;
      total += <f64>((s * w) * seriesFactor1(d, w));
      diffs += <f64>diff;
    } else {
      const tiny = qc < MIN_NORMAL;
      const l = log1(p / (tiny ? qc * TWO64 : qc)) + (tiny ? LN2_64 : <f32>0);
      total += <f64>(p == 0 ? <f32>0 : p * l);
    }
    if (grad) store<f32>(grad + o, probsGrad1(p, qv, eps, g));
  }
  return total + diffs;
}

/**
 * One pass over a row of n classes: returns sum_c p_c (log p_c - l_c) with the term 0 wherever p_c = 0
 * (chosen by a select: log 0 = -inf and 0 * inf would be NaN), and sets sweepMass = sum_c p_c.
 *
 *   form Q_PROBS:     l_c = log max(q_c, eps) (with logTarget; without, klProbsSweep takes the row)
 *   form Q_LOG_PROBS: l_c = q_c
 *   form Q_LOGITS:    l_c = q_c - m, the logit shifted by the row maximum (the caller adds
 *                     sweepMass * log s, completing log softmax)
 *
 * With logTarget, t holds log p: p = exp(log p) is computed and written back over t, where the logits
 * gradient reads it. When grad != 0 (probs and log-probs forms only) it receives the gradient
 * -g p_c / q_c (probsGrad4) or -g p_c; grad may equal q, as each q_c is read before its gradient is
 * stored. Lanes accumulate in f32 over spans of SPAN floats, then in f64.
 *
 * A call with run-time flags, not inlined: one compiled copy serves the logits, log-probability and
 * log-target forms, which is what makes room for klProbsSweep in the package's size budget.
 */
function klSweep(
  t: usize, q: usize, n: i32, form: i32, logTarget: bool, eps: f32, m: f32, grad: usize, g: f32,
): f64 {
  let total: f64 = 0, mass: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), eps4 = f32x4.splat(eps), m4 = f32x4.splat(m), ng4 = f32x4.splat(-g);
    // log4's constants as locals (log.ts).
    const k0 = logK(0), k1 = logK(1), k2 = logK(2), k3 = logK(3), k4 = logK(4), k5 = logK(5), k6 = logK(6);
    const k7 = logK(7), k8 = logK(8), k9 = logK(9), k10 = logK(10), k11 = logK(11), k12 = logK(12);
    const k13 = logK(13), k14 = logK(14), k15 = logK(15), k16 = logK(16), k17 = logK(17), k18 = logK(18);
    const k19 = logK(19), k20 = logK(20), k21 = logK(21);
    for (let off = 0; off < n; off += SPAN) {
      const end = min(off + SPAN, n);
      let a0 = zero, u0 = zero;
      for (; i + 4 <= end; i += 4) {
        const o = <usize>i << 2;
        const x = v128.load(t + o), qv = v128.load(q + o);
        let p = x;
        if (logTarget) {
          p = expNeg4(x);
          v128.store(t + o, p);
        }
        const lp = logTarget ? x : log4k(x,
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        let l = qv;
        if (form == Q_PROBS) l = log4k(f32x4.max(qv, eps4),
          k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
        else if (form == Q_LOGITS) l = f32x4.sub(qv, m4);
        const none = f32x4.eq(p, zero);
        a0 = f32x4.add(a0, v128.bitselect(zero, f32x4.mul(p, f32x4.sub(lp, l)), none));
        u0 = f32x4.add(u0, p);
        if (grad) {
          v128.store(grad + o, form == Q_PROBS ? probsGrad4(p, qv, none, ng4, eps4, zero) : f32x4.mul(ng4, p));
        }
      }
      total += lanesF64(a0);
      mass += lanesF64(u0);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(t + o), qv = load<f32>(q + o);
    let p = x;
    if (logTarget) {
      p = expNeg(x);
      store<f32>(t + o, p);
    }
    const lp = logTarget ? x : log1(x);
    let l = qv;
    if (form == Q_PROBS) l = log1(max(qv, eps));
    else if (form == Q_LOGITS) l = qv - m;
    total += <f64>(p == 0 ? <f32>0 : p * (lp - l));
    mass += <f64>p;
    if (grad) store<f32>(grad + o, form == Q_PROBS ? probsGrad1(p, qv, eps, g) : -g * p);
  }
  sweepMass = mass;
  return total;
}

/**
 * klSweep's sum in f64, term by term, after the sweep (t holds p then, in either target form), with
 * log q_c = q_c - shift (the row maximum for logits, 0 for log-probabilities): for a row whose f32
 * terms or lanes overflowed, as log q = z - m or a log-probability near -FLT_MAX can where the f64
 * sum does not. Probabilities' clipped logs are bounded, so form Q_PROBS never needs it.
 */
function klExact(t: usize, q: usize, n: i32, shift: f64): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const p = <f64>load<f32>(t + o), l = <f64>load<f32>(q + o) - shift;
    if (p != 0) total += p * (Math.log(p) - l);
  }
  return total;
}

/**
 * Kullback-Leibler divergence KL(p || q) = sum_c p_c (log p_c - log q_c) of `rows` rows of `cols`
 * classes, with the term 0 wherever p_c = 0, PyTorch's F.kl_div(log q, p) pointwise. p is given as
 * probabilities, or as log p when logTarget. log q comes from `form`: probabilities clipped below at
 * eps (log max(q, eps)), log-probabilities, or logits (log softmax(z) = z - m - log s from rowStats;
 * a row whose maximum is not finite gives NaN loss and NaN gradient).
 *
 * When lossOut != 0 it receives each row's divergence times unit (f32). When gradOut != 0 it receives
 * the gradient of gradScale * loss with respect to q in its given form:
 *   probs:     -gradScale p_c / q_c  (0 where p_c = 0 or q_c < eps)
 *   logProbs:  -gradScale p_c
 *   logits:     gradScale (P softmax(z) - p),  P = sum_c p_c
 * gradOut may equal q. With logTarget, target is overwritten with exp(target). Returns the sum of the
 * rows' divergences in nats (f64).
 */
export function klDivergence(
  target: usize, q: usize, rows: i32, cols: i32,
  form: i32, logTarget: bool, eps: f32,
  lossOut: usize, gradOut: usize, gradScale: f64, unit: f64,
): f64 {
  const stride = <usize>cols << 2;
  const g = <f32>gradScale;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const t = target + <usize>r * stride;
    const z = q + <usize>r * stride;
    const dst = gradOut ? gradOut + <usize>r * stride : 0;
    let kl: f64;
    if (form == Q_LOGITS) {
      rowStatsPlain(z, cols);
      const m = rowShift, s = rowSum;
      let sweep = klSweep(t, z, cols, Q_LOGITS, logTarget, 0, m, 0, 0);
      const mass = sweepMass;
      if (!isFinite(sweep)) sweep = klExact(t, z, cols, <f64>m);
      // A non-finite shift means the row's log-softmax is NaN (PyTorch's log_softmax of +inf, NaN, or
      // an all -inf row), and so is everything derived from it.
      const finite = m - m == 0;
      kl = finite ? sweep + mass * Math.log(s) : NaN;
      if (dst) {
        if (finite) {
          rowExpAffine(z, dst, cols, m, <f32>(gradScale * mass / s), true, false, true, 0, t, 1, 0, g);
        } else {
          for (let c = 0; c < cols; c++) store<f32>(dst + (<usize>c << 2), NaN);
        }
      }
    } else if (form == Q_PROBS) {
      kl = logTarget
        ? klSweep(t, z, cols, Q_PROBS, true, eps, 0, dst, g)
        : klProbsSweep(t, z, cols, eps, dst, g);
    } else {
      kl = klSweep(t, z, cols, Q_LOG_PROBS, logTarget, 0, 0, dst, g);
      // In place (dst == q) the gradient has overwritten q, so the f32 sum stands; it is inf only past
      // FLT_MAX anyway: a term p (log p - q) is at most p FLT_MAX, and only the positive ones grow.
      if (!isFinite(kl) && dst != z) kl = klExact(t, z, cols, 0);
    }
    total += kl;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>(kl * unit));
  }
  return total;
}
