// Natural logarithm of single-precision values, four lanes at a time.
//
// Method: Cephes logf (S. L. Moshier, Cephes Math Library 2.2, logf.c). x = m 2^e with m in
// [sqrt(1/2), sqrt(2)); log x = e ln2 + log(1 + f), f = m - 1, with Cephes' degree-9 polynomial
// log(1 + f) = f - f^2/2 + f^3 Q(f), and ln2 split as C1 + C2 (C1 = 0.693359375 exact in 8 bits).
// Subnormal inputs are scaled by 2^23 first.
//
// Error bound: under 1 ulp against the exact log x for positive float32 x with |x - 1| > 1/4, under
// 3e-8 absolute for |x - 1| <= 1/4 (measured by test/log.test.ts over every 61st positive float32 and
// every float32 in [0.5, 2]: worst 0.795 ulp, 1.9e-8 absolute). Special values follow IEEE log:
// log 0 = -inf, log +inf = +inf, negative or NaN gives NaN. The vector and the scalar form perform the
// same IEEE operations in the same order (except in the relaxed-SIMD build, where the vector form's
// Horner steps may be fused).

import { madd4 } from './vector';

// @ts-ignore: decorator
@inline const SQRT2 = reinterpret<f32>(0x3FB504F3); // 1.4142135382
// @ts-ignore: decorator
@inline const C1 = reinterpret<f32>(0x3F318000); // 0.693359375
// @ts-ignore: decorator
@inline const C2 = reinterpret<f32>(0xB95E8083); // -2.12194440e-4
// @ts-ignore: decorator
@inline const Q0 = reinterpret<f32>(0x3D9021BB); // 7.0376836292e-2
// @ts-ignore: decorator
@inline const Q1 = reinterpret<f32>(0xBDEBD1B8); // -1.1514610310e-1
// @ts-ignore: decorator
@inline const Q2 = reinterpret<f32>(0x3DEF251A); // 1.1676998740e-1
// @ts-ignore: decorator
@inline const Q3 = reinterpret<f32>(0xBDFE5D4F); // -1.2420140846e-1
// @ts-ignore: decorator
@inline const Q4 = reinterpret<f32>(0x3E11E9BF); // 1.4249322787e-1
// @ts-ignore: decorator
@inline const Q5 = reinterpret<f32>(0xBE2AAE50); // -1.6668057665e-1
// @ts-ignore: decorator
@inline const Q6 = reinterpret<f32>(0x3E4CCEAC); // 2.0000714765e-1
// @ts-ignore: decorator
@inline const Q7 = reinterpret<f32>(0xBE7FFFFC); // -2.4999993993e-1
// @ts-ignore: decorator
@inline const Q8 = reinterpret<f32>(0x3EAAAAAA); // 3.3333331174e-1
// @ts-ignore: decorator
@inline const TWO23 = reinterpret<f32>(0x4B000000); // 2^23
// @ts-ignore: decorator
@inline export const MIN_NORMAL = reinterpret<f32>(0x00800000); // 2^-126

// Constants in loops (see exp.ts): V8 rebuilds a v128.const at each use inside a loop, and log4 has
// 21 of them besides 0. Hot loops load them from LOG_K before the loop, into locals (V8 keeps them in
// registers or reloads a spilled one with one load), and call log4k; log4 is the same arithmetic on
// literal constants, for loops that run rarely.

/** log4k's constants as i32 bits, each stored once (logK splats it), in log4k's argument order. */
// @ts-ignore: decorator
@lazy const LOG_K = memory.data<i32>([
  0x00800000, // k0 MIN_NORMAL
  0x4B000000, // k1 TWO23
  127, // k2 exponent bias
  23, // k3 TWO23's exponent
  0x007FFFFF, // k4 mantissa mask
  0x3F800000, // k5 1.0 (also the exponent bits of [1, 2))
  0x3FB504F3, // k6 SQRT2
  0x3F000000, // k7 0.5
  0x3D9021BB, // k8 Q0
  0xBDEBD1B8, // k9 Q1
  0x3DEF251A, // k10 Q2
  0xBDFE5D4F, // k11 Q3
  0x3E11E9BF, // k12 Q4
  0xBE2AAE50, // k13 Q5
  0x3E4CCEAC, // k14 Q6
  0xBE7FFFFC, // k15 Q7
  0x3EAAAAAA, // k16 Q8
  0xB95E8083, // k17 C2
  0x3F318000, // k18 C1
  0x7F800000, // k19 +inf
  0xFF800000, // k20 -inf
  0x7FC00000, // k21 NaN
], 4);

/** Constant i (0 to 21) of log4k, loaded from memory so that it stays a local in a loop. */
// @ts-ignore: decorator
@inline export function logK(i: i32): v128 {
  return v128.load32_splat(LOG_K + (<usize>i << 2));
}

/**
 * log x for four lanes, with the constants passed in: k0 ... k21 = logK(0) ... logK(21), loaded before
 * the loop. See the file header for the bound and special values.
 */
// @ts-ignore: decorator
@inline export function log4k(
  x: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128,
  k9: v128, k10: v128, k11: v128, k12: v128, k13: v128, k14: v128, k15: v128, k16: v128, k17: v128,
  k18: v128, k19: v128, k20: v128, k21: v128
): v128 {
  // Subnormals: scale into the normal range and remember the 23 bits.
  const tiny = f32x4.lt(x, k0);
  const xs = v128.bitselect(f32x4.mul(x, k1), x, tiny);
  const bits = xs;
  let e = i32x4.sub(i32x4.shr_s(bits, 23), k2);
  e = i32x4.sub(e, v128.and(tiny, k3));
  // m in [1, 2), then folded to [sqrt(1/2), sqrt(2)).
  let m = v128.or(v128.and(bits, k4), k5);
  const big = f32x4.ge(m, k6);
  m = v128.bitselect(f32x4.mul(m, k7), m, big);
  e = i32x4.sub(e, big); // a true lane is -1
  const ef = f32x4.convert_i32x4_s(e);
  const f = f32x4.sub(m, k5);
  const z = f32x4.mul(f, f);
  let y = madd4(k8, f, k9);
  y = madd4(y, f, k10);
  y = madd4(y, f, k11);
  y = madd4(y, f, k12);
  y = madd4(y, f, k13);
  y = madd4(y, f, k14);
  y = madd4(y, f, k15);
  y = madd4(y, f, k16);
  y = f32x4.mul(f32x4.mul(y, f), z);
  y = f32x4.add(y, f32x4.mul(ef, k17));
  y = f32x4.sub(y, f32x4.mul(z, k7));
  let r = f32x4.add(f, y);
  r = f32x4.add(r, f32x4.mul(ef, k18));
  // The bit manipulation above does not see special values, so those lanes are patched:
  // 0 -> -inf, +inf -> +inf, negative or NaN -> NaN.
  const zero = f32x4.splat(0);
  r = v128.bitselect(k20, r, f32x4.eq(x, zero));
  r = v128.bitselect(x, r, f32x4.eq(x, k19));
  r = v128.bitselect(k21, r, v128.not(f32x4.ge(x, zero)));
  return r;
}

/** log x for four lanes, on literal constants (loops that run rarely); see the file header. */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  return log4k(x,
    f32x4.splat(MIN_NORMAL), f32x4.splat(TWO23), i32x4.splat(127), i32x4.splat(23), i32x4.splat(0x007FFFFF),
    i32x4.splat(0x3F800000), f32x4.splat(SQRT2), f32x4.splat(0.5), f32x4.splat(Q0), f32x4.splat(Q1),
    f32x4.splat(Q2), f32x4.splat(Q3), f32x4.splat(Q4), f32x4.splat(Q5), f32x4.splat(Q6), f32x4.splat(Q7),
    f32x4.splat(Q8), f32x4.splat(C2), f32x4.splat(C1), f32x4.splat(Infinity), f32x4.splat(-Infinity),
    f32x4.splat(NaN));
}

/**
 * Scalar twin of log4, bit-identical to one lane of it. Not inlined, for code size: one compiled copy
 * serves every scalar loop, which in the SIMD builds only finishes a row's last few elements.
 */
export function log1(x: f32): f32 {
  if (!(x >= 0)) return NaN;
  if (x == 0) return -Infinity;
  if (x == Infinity) return x;
  let xs = x;
  let e = 0;
  if (x < MIN_NORMAL) {
    xs = x * TWO23;
    e = -23;
  }
  const bits = reinterpret<i32>(xs);
  e += (bits >> 23) - 127;
  let m = reinterpret<f32>((bits & 0x007FFFFF) | 0x3F800000);
  if (m >= SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const ef = <f32>e;
  const f = m - 1;
  const z = f * f;
  let y = Q0 * f + Q1;
  y = y * f + Q2;
  y = y * f + Q3;
  y = y * f + Q4;
  y = y * f + Q5;
  y = y * f + Q6;
  y = y * f + Q7;
  y = y * f + Q8;
  y = (y * f) * z;
  y = y + ef * C2;
  y = y - z * 0.5;
  let r = f + y;
  r = r + ef * C1;
  return r;
}

/** dst[i] = log src[i] for n values; exported by the test build (testing.ts) to measure the bound. */
export function logArray(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, log4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, log1(load<f32>(src + o)));
  }
}

// log(1 + e) for e in [0, 1], the softplus term log(1 + exp(-|x|)) of binary cross-entropy with logits.
//
// Method: log(1 + e) = 2 atanh(s) with s = e / (2 + e) in [0, 1/3], and 2 atanh(s) = 2s + s w Q(w),
// w = s^2 in [0, 1/9]: an odd series that needs no exponent extraction, no special-value patching and
// no subnormal scaling (for e below 2^-24, s = e / 2 and the result is 2s = e). Q is a degree-3
// minimax fit (Remez, relative error of 2 + w Q(w) against 2 atanh(sqrt w) / sqrt w over [0, 1/9]:
// 4.5e-9) with the leading term fixed at exactly 2, so the last step adds a small correction to an
// exact doubling. Compared with log4(1 + e) (with Goldberg's correction) it takes one division and
// four multiply-adds instead of a ninth-degree polynomial and the exponent split.
//
// Error bound: measured by test/log.test.ts over every 31st float32 in [2^-126, 1] and every one in
// [0.5, 1]: worst 1.96 ulp (1.2e-7 relative), dominated by the rounding of 2 + e and of the division;
// the mean relative error is 4e-10, so sums of many terms keep their digits. 0 gives 0, NaN gives NaN.
// The domain is 0 and [2^-126, 1], what expNeg returns: a subnormal e loses its low bits in e / 2
// (none reaches here). The vector and the scalar form perform the same IEEE operations in the same
// order (the relaxed-SIMD build may fuse).

// @ts-ignore: decorator
@inline const L1 = reinterpret<f32>(0x3F2AAA81); // 0.66666418314
// @ts-ignore: decorator
@inline const L2 = reinterpret<f32>(0x3ECCE904); // 0.40021526814
// @ts-ignore: decorator
@inline const L3 = reinterpret<f32>(0x3E8F5E87); // 0.28001806140
// @ts-ignore: decorator
@inline const L4 = reinterpret<f32>(0x3E8F6BDF); // 0.28011986613

/** log1pUnit4's constants (2, L1 ... L4), each stored once: hot loops load them with log1pK. */
// @ts-ignore: decorator
@lazy const LOG1P_K = memory.data<f32>([
  2, L1, L2, L3, L4,
], 4);

/** Constant i (0 to 4) of log1pUnit4k, loaded from memory so that it stays a local in a loop (see exp.ts). */
// @ts-ignore: decorator
@inline export function log1pK(i: i32): v128 {
  return v128.load32_splat(LOG1P_K + (<usize>i << 2));
}

/** log(1 + e) for four lanes of e in [0, 1] (or NaN), k0 ... k4 = log1pK(0) ... log1pK(4); see above. */
// @ts-ignore: decorator
@inline export function log1pUnit4k(e: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128): v128 {
  const s = f32x4.div(e, f32x4.add(k0, e));
  const w = f32x4.mul(s, s);
  let q = madd4(k4, w, k3);
  q = madd4(q, w, k2);
  q = madd4(q, w, k1);
  return madd4(f32x4.mul(s, w), q, f32x4.add(s, s));
}

/** log(1 + e) for four lanes of e in [0, 1] (or NaN); see above for the bound. */
// @ts-ignore: decorator
@inline export function log1pUnit4(e: v128): v128 {
  return log1pUnit4k(e, f32x4.splat(2), f32x4.splat(L1), f32x4.splat(L2), f32x4.splat(L3), f32x4.splat(L4));
}

/** Scalar twin of log1pUnit4, bit-identical to one lane of it when the multiply-adds are not fused. */
// @ts-ignore: decorator
@inline export function log1pUnit1(e: f32): f32 {
  const s = e / (<f32>2 + e);
  const w = s * s;
  let q = L4 * w + L3;
  q = q * w + L2;
  q = q * w + L1;
  return (s * w) * q + (s + s);
}

/** dst[i] = log(1 + src[i]) for n values in [0, 1], exported by the test build (testing.ts) for the bound. */
export function log1pUnitArray(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, log1pUnit4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, log1pUnit1(load<f32>(src + o)));
  }
}
