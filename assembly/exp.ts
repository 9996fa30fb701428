// Exponential of non-positive single-precision arguments, four lanes at a time.
//
// Every caller subtracts a row maximum first, so arguments lie in (-inf, 0] or are NaN. That lets
// the kernels skip overflow handling and keep 2^n normal.
//
// Method: Arm Optimized Routines' vector expf (pl/math/v_expf.c, Arm Limited 2019-2023, MIT), which
// trades the last half ulp of Cephes expf for a third fewer operations. x = n ln2 + r with
// n = nearest(x / ln2) and |r| <= ln2/2. The rounding is done by adding SHIFT = 1.5 * 2^23 (+127, the
// exponent bias), so z's low mantissa bits hold n + 127: shifted into the exponent field they are 2^n,
// with no float-to-integer conversion (V8's i32x4.trunc_sat_f32x4_s is seven x86 instructions).
// ln2 is split Cody-Waite style into LN2HI + LN2LO, where n * LN2HI is exact for |n| < 2^10.
// e^r = 1 + P(r) with a degree-5 minimax P (Arm's coefficients, evaluated in Estrin's scheme), and the
// result is scale + scale * P.
//
// Error bound: measured by test/exp.test.ts over every 97th f32 of [-87.3365, 0]: worst 1.88 ulp,
// 1.9e-7 relative, with the multiply-adds rounded twice (the SIMD and scalar builds; Arm states
// 1.45 + 0.5 ulp with FMA, which the relaxed-SIMD build may use). The loss kernels need 1e-6 relative.
// Below -87.3365 (e^x < 2^-126) the result is flushed to +0, an absolute error under 1.2e-38;
// -inf gives +0 and NaN gives NaN (expNeg4Sumk, for row sums only, clamps there instead). Without FMA
// the vector and the scalar form perform the same IEEE operations in the same order, so a lane and a
// tail element agree bit for bit.

import { madd4 } from './vector';

// @ts-ignore: decorator
@inline const INVLN2 = reinterpret<f32>(0x3FB8AA3B); // 0x1.715476p+0 = 1.4426950216
// @ts-ignore: decorator
@inline const SHIFT = reinterpret<f32>(0x4B40007F); // 0x1.8p23 + 127 = 12583039
// @ts-ignore: decorator
@inline const LN2HI = reinterpret<f32>(0x3F317200); // 0x1.62e4p-1 = 0.693145751953125, 14 bits
// @ts-ignore: decorator
@inline const LN2LO = reinterpret<f32>(0x35BFBE8E); // 0x1.7f7d1cp-20 = 1.4286067653e-6, ln2 - LN2HI
// @ts-ignore: decorator
@inline const C0 = reinterpret<f32>(0x3C072010); // 0x1.0e4020p-7 = 8.2473903894e-3
// @ts-ignore: decorator
@inline const C1 = reinterpret<f32>(0x3D2B9F17); // 0x1.573e2ep-5 = 4.1899766773e-2
// @ts-ignore: decorator
@inline const C2 = reinterpret<f32>(0x3E2AAF33); // 0x1.555e66p-3 = 1.6668395698e-1
// @ts-ignore: decorator
@inline const C3 = reinterpret<f32>(0x3EFFFEDB); // 0x1.fffdb6p-2 = 4.9999126792e-1
// @ts-ignore: decorator
@inline const C4 = reinterpret<f32>(0x3F7FFFF6); // 0x1.ffffecp-1 = 9.9999940395e-1
/** Smallest argument whose result is normal: ln(2^-126) rounded down. */
// @ts-ignore: decorator
@inline export const EXP_FLUSH_BELOW = reinterpret<f32>(0xC2AEAC50); // -87.3365478516

// Constants in loops. V8 re-materialises a v128.const at every use inside a loop, in several
// instructions, and Binaryen folds any splat of a compile-time constant back into a v128.const, so
// expNeg4's ten constants would cost more instructions than its arithmetic. Hot loops therefore load
// them from EXP_K, before the loop, into locals that V8 keeps in registers (or reloads with one load),
// and call expNeg4k. expNeg4 is the same arithmetic on literal constants, for loops that run rarely.

/** expNeg4's constants, each stored once (expK splats it), in expNeg4k's argument order. */
// @ts-ignore: decorator
@lazy const EXP_K = memory.data<f32>([
  INVLN2, SHIFT, -LN2HI, -LN2LO, C0, C1, C2, C3, C4, EXP_FLUSH_BELOW,
], 4);

/** Constant i (0 to 9) of expNeg4k, loaded from memory so that it stays a local in a loop. */
// @ts-ignore: decorator
@inline export function expK(i: i32): v128 {
  return v128.load32_splat(EXP_K + (<usize>i << 2));
}

/**
 * e^x for four lanes of x in [EXP_FLUSH_BELOW, 0] or NaN (below, the shift trick leaves the exponent
 * field), with the constants k0 ... k8 = expK(0) ... expK(8).
 */
// @ts-ignore: decorator
@inline function expCore4(
  x: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128,
): v128 {
  const z = madd4(x, k0, k1);
  const n = f32x4.sub(z, k1);
  let r = madd4(n, k2, x);
  r = madd4(n, k3, r);
  const r2 = f32x4.mul(r, r);
  const p = madd4(k4, r, k5);
  let q = madd4(k6, r, k7);
  q = madd4(p, r2, q);
  const poly = madd4(q, r2, f32x4.mul(k8, r));
  // 2^n: n + 127 sits in z's low mantissa bits; k >= -126 wherever the result is kept.
  const scale = i32x4.shl(z, 23);
  return madd4(poly, scale, scale);
}

/**
 * e^x for four lanes of x in (-inf, 0] or NaN, with the constants passed in: k0 ... k9 = expK(0) ...
 * expK(9), loaded before the loop. See the file header for the bound.
 */
// @ts-ignore: decorator
@inline export function expNeg4k(
  x: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128, k9: v128,
): v128 {
  // lt() is false for NaN, so NaN survives the flush and poisons the row as it should.
  return v128.andnot(expCore4(x, k0, k1, k2, k3, k4, k5, k6, k7, k8), f32x4.lt(x, k9));
}

/** e^x for four lanes of x in (-inf, 0] or NaN; see the file header for the bound. */
// @ts-ignore: decorator
@inline export function expNeg4(x: v128): v128 {
  return expNeg4k(
    x, f32x4.splat(INVLN2), f32x4.splat(SHIFT), f32x4.splat(-LN2HI), f32x4.splat(-LN2LO), f32x4.splat(C0),
    f32x4.splat(C1), f32x4.splat(C2), f32x4.splat(C3), f32x4.splat(C4), f32x4.splat(EXP_FLUSH_BELOW),
  );
}

/**
 * expNeg4k for the terms of a sum that is at least 1 (row.ts: a row's sum of e^(z - max) in f64,
 * whose maximum counts 1): arguments below EXP_FLUSH_BELOW, -inf included, are clamped to it instead
 * of flushed, so they give about 2^-126 = 1.18e-38 instead of +0. Even 2^30 of them are under half an
 * ulp of such a sum (2^-53), so the sum comes out bit-identical. Otherwise it is expNeg4k, bit for
 * bit; NaN stays NaN (pmax keeps its first operand when the compare is false). One operation instead
 * of the flush's two. Constants as expNeg4k: k0 ... k9 = expK(0) ... expK(9).
 */
// @ts-ignore: decorator
@inline export function expNeg4Sumk(
  x: v128, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128, k6: v128, k7: v128, k8: v128, k9: v128,
): v128 {
  return expCore4(f32x4.pmax(x, k9), k0, k1, k2, k3, k4, k5, k6, k7, k8);
}

/**
 * Scalar twin of expNeg4, bit-identical to one lane of it when the multiply-adds are not fused.
 * Inlined: row.ts uses it for the softmax family's scalar loops (the whole row in the scalar build, the
 * tail of a SIMD loop otherwise, which is all of a row of a few classes).
 */
// @ts-ignore: decorator
@inline export function expNegInline(x: f32): f32 {
  // Below the flush threshold (or -inf) the shift trick would leave the exponent field; NaN stays NaN.
  if (!(x >= EXP_FLUSH_BELOW)) return x != x ? x : 0;
  const z = x * INVLN2 + SHIFT;
  const n = z - SHIFT;
  let r = n * -LN2HI + x;
  r = n * -LN2LO + r;
  const r2 = r * r;
  const p = C0 * r + C1;
  let q = C2 * r + C3;
  q = p * r2 + q;
  const poly = q * r2 + C4 * r;
  const scale = reinterpret<f32>(reinterpret<i32>(z) << 23);
  return poly * scale + scale;
}

/**
 * expNegInline as a call, for the scalar loops of the other kernels: one compiled copy instead of one
 * per loop and flag combination, for code size. In the SIMD builds those loops only finish a row's
 * last few elements.
 */
export function expNeg(x: f32): f32 {
  return expNegInline(x);
}

/** dst[i] = e^src[i] for n values, src[i] <= 0; the test build (testing.ts) exports it to measure the bound. */
export function expNegArray(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, expNeg4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, expNeg(load<f32>(src + o)));
  }
}
