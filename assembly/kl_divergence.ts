import { rowStatsPlain, rowShift, rowSum, rowExpAffine } from './row';
import { expNeg4, expNeg } from './exp';
import { log4k, logK, log1, MIN_NORMAL } from './log';

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
 * grow with C. The terms have both signs (p < q gives a negative one), so the sum may cancel: on close
 * distributions of equal terms 256 floats (64 a lane) lost 1e-6 relative, 64 lose 4.8e-7.
 */
// @ts-ignore: decorator
@inline const SPAN: i32 = 64;

// Partial result of klSweep besides its return value (AS functions return one value).
let sweepMass: f64 = 0;

/** Adds the four lanes of two f32x4 accumulators in f64. */
// @ts-ignore: decorator
@inline function lanes(a: v128, b: v128): f64 {
  return <f64>f32x4.extract_lane(a, 0) + <f64>f32x4.extract_lane(a, 1)
       + <f64>f32x4.extract_lane(a, 2) + <f64>f32x4.extract_lane(a, 3)
       + <f64>f32x4.extract_lane(b, 0) + <f64>f32x4.extract_lane(b, 1)
       + <f64>f32x4.extract_lane(b, 2) + <f64>f32x4.extract_lane(b, 3);
}

/**
 * One pass over a row of n classes: returns sum_c p_c (log p_c - l_c) with the term 0 wherever p_c = 0
 * (chosen by a select: log 0 = -inf and 0 * inf would be NaN), and sets sweepMass = sum_c p_c.
 *
 *   form Q_PROBS:     l_c = log max(q_c, eps); log p_c - l_c is taken as log(p_c / max(q_c, eps))
 *                     unless p is given as log p
 *   form Q_LOG_PROBS: l_c = q_c
 *   form Q_LOGITS:    l_c = q_c - m, the logit shifted by the row maximum (the caller adds
 *                     sweepMass * log s, completing log softmax)
 *
 * With logTarget, t holds log p: p = exp(log p) is computed and written back over t, where the logits
 * gradient reads it. When grad != 0 (probs and log-probs forms only) it receives the gradient
 * -g p_c / q_c (0 where p_c = 0 or q_c < eps, the clip being flat there) or -g p_c; grad may equal q,
 * as each q_c is read before its gradient is stored. Lanes accumulate in f32 over spans of SPAN floats,
 * then in f64.
 */
// @ts-ignore: decorator
@inline function klSweep(
  t: usize, q: usize, n: i32, form: i32, logTarget: bool, eps: f32, m: f32, grad: usize, g: f32,
): f64 {
  let total: f64 = 0, mass: f64 = 0;
  let i = 0;
  // Compiled out of the scalar build, whose tail loop then takes every element.
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), eps4 = f32x4.splat(eps), m4 = f32x4.splat(m), ng4 = f32x4.splat(-g);
    const scale4 = f32x4.splat(TWO64), shift4 = f32x4.splat(LN2_64);
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
        let p = x, logRatio = x;
        if (logTarget) {
          p = expNeg4(x);
          v128.store(t + o, p);
        }
        if (form == Q_PROBS && !logTarget) {
          // log(p / q) as one logarithm of the ratio, within ~1e-7 absolute, where log p - log q loses
          // an ulp of log p (5e-7 at p = 1e-3) to cancellation when p and q are close. Against a
          // subnormal q, where p / q may overflow, the ratio is p / (q 2^64) and 64 ln 2 is added.
          const qc = f32x4.max(qv, eps4);
          const tiny = f32x4.lt(qc, k0);
          const qs = v128.bitselect(f32x4.mul(qc, scale4), qc, tiny);
          const l = log4k(f32x4.div(x, qs),
            k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
          logRatio = f32x4.add(l, v128.and(tiny, shift4));
        } else {
          const lp = logTarget ? x : log4k(x,
            k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
          let l = qv;
          if (form == Q_PROBS) l = log4k(f32x4.max(qv, eps4),
            k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, k21);
          else if (form == Q_LOGITS) l = f32x4.sub(qv, m4);
          logRatio = f32x4.sub(lp, l);
        }
        const none = f32x4.eq(p, zero);
        a0 = f32x4.add(a0, v128.bitselect(zero, f32x4.mul(p, logRatio), none));
        u0 = f32x4.add(u0, p);
        if (grad) {
          let d = f32x4.mul(ng4, p);
          if (form == Q_PROBS) {
            // At q = 0 the gradient is -inf even where g p underflows to -0 (-0 / 0 would be NaN).
            d = v128.bitselect(f32x4.splat(-Infinity), f32x4.div(d, qv), f32x4.eq(qv, zero));
            d = v128.bitselect(zero, d, v128.or(none, f32x4.lt(qv, eps4)));
          }
          v128.store(grad + o, d);
        }
      }
      total += lanes(a0, zero);
      mass += lanes(u0, zero);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(t + o), qv = load<f32>(q + o);
    let p = x, logRatio: f32;
    if (logTarget) {
      p = expNeg(x);
      store<f32>(t + o, p);
    }
    if (form == Q_PROBS && !logTarget) {
      // As a lane, the same operations (a lane that is not tiny adds +0).
      const qc = max(qv, eps);
      const tiny = qc < MIN_NORMAL;
      logRatio = log1(x / (tiny ? qc * TWO64 : qc)) + (tiny ? LN2_64 : <f32>0);
    } else {
      const lp = logTarget ? x : log1(x);
      let l = qv;
      if (form == Q_PROBS) l = log1(max(qv, eps));
      else if (form == Q_LOGITS) l = qv - m;
      logRatio = lp - l;
    }
    const none = p == 0;
    total += <f64>(none ? <f32>0 : p * logRatio);
    mass += <f64>p;
    if (grad) {
      let d = -g * p;
      if (form == Q_PROBS) d = none || qv < eps ? <f32>0 : qv == 0 ? -Infinity : d / qv;
      store<f32>(grad + o, d);
    }
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
      let sweep = logTarget
        ? klSweep(t, z, cols, Q_LOGITS, true, 0, m, 0, 0)
        : klSweep(t, z, cols, Q_LOGITS, false, 0, m, 0, 0);
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
        : klSweep(t, z, cols, Q_PROBS, false, eps, 0, dst, g);
    } else {
      kl = logTarget
        ? klSweep(t, z, cols, Q_LOG_PROBS, true, 0, 0, dst, g)
        : klSweep(t, z, cols, Q_LOG_PROBS, false, 0, 0, dst, g);
      // In place (dst == q) the gradient has overwritten q, so the f32 sum stands; it is inf only past
      // FLT_MAX anyway: a term p (log p - q) is at most p FLT_MAX, and only the positive ones grow.
      if (!isFinite(kl) && dst != z) kl = klExact(t, z, cols, 0);
    }
    total += kl;
    if (lossOut) store<f32>(lossOut + (<usize>r << 2), <f32>(kl * unit));
  }
  return total;
}
